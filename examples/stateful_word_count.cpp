// stateful_word_count HOST PORT: running word counts over everything a TCP server has sent,
// kept with update_state_by_key and printed every second.
#include <rill/rill.hpp>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "command_line.hpp"
#include "status_page.hpp"

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  CLI::App app{
      "Connects to HOST:PORT (retrying until a server is there) and prints, every second, the "
      "running count of every word received so far. Try `nc -lk 9999`.",
      "stateful_word_count"};
  std::string host;
  std::uint16_t port = 0;
  rill_examples::add_server(app, host, port);
  std::optional<std::uint16_t> status_port;
  rill_examples::add_status_port(app, status_port);
  if (const auto code = rill_examples::parse(app, argc, argv)) return *code;

  try {
    rill::StreamingContext ctx{1s};
    ctx.socket_text_stream(host, port)
        .flat_map(rill::split_words)
        .map([](const std::string& w) {
          return std::pair{w, 1L};
        })
        .update_state_by_key(
            [](const std::vector<long>& ones, std::optional<long> total) -> std::optional<long> {
              return total.value_or(0) + static_cast<long>(ones.size());
            })
        .name("running_counts")
        .print();
    // Ctrl-C (SIGINT) or SIGTERM stops gracefully: the batches already received still run and
    // print. A second Ctrl-C stops at once.
    [[maybe_unused]] const auto status = rill_examples::serve_status(ctx, status_port);
    const auto on_signals = rill::stop_on_signals(ctx);
    ctx.start();
    ctx.await_termination();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stateful_word_count: %s\n", e.what());
    return 1;
  }
}
