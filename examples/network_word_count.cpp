// network_word_count HOST PORT: the application of shared/api.md. Counts the words of the lines
// a TCP server sends, per one-second batch. Try it with `nc -lk 9999` in another terminal.
#include <rill/rill.hpp>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <utility>

#include <optional>

#include "command_line.hpp"
#include "status_page.hpp"

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  CLI::App app{
      "Connects to HOST:PORT (retrying until a server is there), splits the received lines into "
      "words and prints each second's word counts in Spark's layout.",
      "network_word_count"};
  std::string host;
  std::uint16_t port = 0;
  rill_examples::add_server(app, host, port);
  std::optional<std::uint16_t> status_port;
  rill_examples::add_status_port(app, status_port);
  if (const auto code = rill_examples::parse(app, argc, argv)) return *code;

  try {
    rill::StreamingContext ctx{1s};
    auto counts = ctx.socket_text_stream(host, port)
                      .flat_map(rill::split_words)
                      .map([](const std::string& w) {
                        return std::pair{w, 1L};
                      })
                      .reduce_by_key([](long a, long b) { return a + b; });
    counts.print();
    // Ctrl-C (SIGINT) or SIGTERM stops gracefully: the batches already received still run and
    // print. A second Ctrl-C stops at once.
    [[maybe_unused]] const auto status = rill_examples::serve_status(ctx, status_port);
    const auto on_signals = rill::stop_on_signals(ctx);
    ctx.start();
    ctx.await_termination();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "network_word_count: %s\n", e.what());
    return 1;
  }
}
