// The --status-port option the examples share: serve rill's status page, /metrics and /progress
// (the rill::ops component, docs/operations.md) on 127.0.0.1 while the example runs. The
// examples build without the component too; then the option says so and exits 2.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include <rill/streaming_context.hpp>

#include "command_line.hpp"

#if RILL_EXAMPLES_WITH_OPS
#include <rill/ops.hpp>
#endif

namespace rill_examples {

/// The optional --status-port N: 1 to 65535, or 0 for any free port (printed at start).
inline void add_status_port(CLI::App& app, std::optional<std::uint16_t>& port) {
  auto* option = app.add_option(
      "--status-port", port,
      "Serve the status page, /metrics and /progress on http://127.0.0.1:N/ (0: any free port)");
  option->type_name("N")->transform(whole_number(0, 65535));
#if !RILL_EXAMPLES_WITH_OPS
  option->check(CLI::Validator(
      [](const std::string&) -> std::string {
        return "this build of rill has no ops component (rill::ops, Boost.Beast): reconfigure "
               "with -DRILL_WITH_OPS=ON to serve the status page";
      },
      ""));
#endif
}

#if RILL_EXAMPLES_WITH_OPS
/// The running server (none without --status-port). Declare it after the context, so that it
/// stops first.
using StatusServer = std::optional<rill::ops::Server>;

/// Starts serving `ctx` when `port` is set, and prints the page's address on stderr.
inline StatusServer serve_status(rill::StreamingContext& ctx, std::optional<std::uint16_t> port) {
  if (!port) return std::nullopt;
  auto server = rill::ops::serve(ctx, rill::ops::ServeOptions{.port = *port});
  std::fprintf(stderr, "status page: http://127.0.0.1:%u/\n", unsigned{server.port()});
  return server;
}
#else
struct StatusServer {};
/// Without the ops component --status-port is refused while parsing: nothing to serve here.
/// (Hence [[maybe_unused]] where the examples keep the result.)
inline StatusServer serve_status(rill::StreamingContext&, std::optional<std::uint16_t>) {
  return {};
}
#endif

}  // namespace rill_examples
