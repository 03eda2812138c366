// What the applications that run on generated input or on a TCP server share (recommendations,
// risk_check): a portable seeded generator, the printer that sorts and flushes each batch's
// lines, the input's options, the batch tag of a printed line and the run until the input ends.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <rill/rill.hpp>

#include "command_line.hpp"
#include "status_page.hpp"

namespace rill_examples {

/// splitmix64: a small generator whose sequence is the same on every platform (the standard
/// distributions are not), so the bundled input is the same everywhere.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// A whole number in [lo, hi].
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }

 private:
  std::uint64_t state_;
};

/// Prints lines, sorted, under one lock (output operations of a batch may run concurrently), and
/// flushes after each batch.
class Printer {
 public:
  void batch(std::vector<std::string> lines) {
    std::sort(lines.begin(), lines.end());
    const std::lock_guard lock{mutex_};
    for (const std::string& line : lines)
      std::fputs(line.c_str(), stdout);
    std::fflush(stdout);
  }

 private:
  std::mutex mutex_;
};

/// Where the lines come from: the generator (default) or a TCP server.
struct Input {
  std::uint64_t seed = 16;
  std::string host = "127.0.0.1";
  std::optional<std::uint16_t> port;  // set: read the server's lines instead of the generator's
  std::optional<int> seconds;         // with a port: stop gracefully after this many seconds
};

/// The batch a line is printed in: `#<n>` on the generated input (batch times 1 × interval,
/// 2 × interval, ... on the manual clock), `@<batch time in ms>` on a socket.
inline std::string batch_tag(rill::Time t, bool generated, rill::Duration interval) {
  return generated ? "#" + std::to_string(t.milliseconds() / interval.count()) + " "
                   : "@" + std::to_string(t.milliseconds()) + " ";
}

/// `--seed N`, and `--port PORT [--host HOST] [--seconds S]` to read the `what` lines from a
/// TCP server instead of the generator.
inline void add_input_options(CLI::App& app, Input& input, const std::string& what) {
  app.add_option("--seed", input.seed, "Seed of the " + what + " generator (default 16)")
      ->type_name("N")
      ->transform(whole_number(0, std::numeric_limits<std::int64_t>::max()));
  auto* port = app.add_option("--port", input.port,
                              "Read the " + what +
                                  " lines from the TCP server at HOST:PORT instead of the "
                                  "generator, one-second batches, until Ctrl-C")
                   ->type_name("PORT")
                   ->transform(tcp_port());
  app.add_option("--host", input.host, "Host of the --port server (default 127.0.0.1)")
      ->type_name("HOST")
      ->check(non_empty())
      ->needs(port);
  add_seconds(app, input.seconds);
  app.get_option("--seconds")->needs(port);
}

/// Serves the status page when asked, stops gracefully on SIGINT or SIGTERM, starts `ctx` and
/// waits until it ends: by itself on the generated input, after `--seconds` on a socket.
inline void run_until_done(rill::StreamingContext& ctx, const Input& input,
                           std::optional<std::uint16_t> status_port) {
  [[maybe_unused]] const auto status = serve_status(ctx, status_port);
  const auto on_signals = rill::stop_on_signals(ctx);
  ctx.start();
  if (input.seconds && !ctx.await_termination_for(std::chrono::seconds{*input.seconds})) ctx.stop();
  ctx.await_termination();
}

}  // namespace rill_examples
