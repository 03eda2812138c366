// network_word_count HOST PORT: the application of shared/api.md. Counts the words of the lines
// a TCP server sends, per one-second batch. Try it with `nc -lk 9999` in another terminal.
#include <rill/rill.hpp>

#include <cstdio>
#include <string>
#include <string_view>
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  if (argc != 3 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h") {
    std::puts(
        "usage: network_word_count HOST PORT\n"
        "  Connects to HOST:PORT (retrying until a server is there), splits the received lines\n"
        "  into words and prints each second's word counts in Spark's layout.");
    return argc == 2 ? 0 : 2;
  }
  try {
    rill::StreamingContext ctx{1s};
    auto counts = ctx.socket_text_stream(argv[1], static_cast<std::uint16_t>(std::stoi(argv[2])))
                      .flat_map(rill::split_words)
                      .map([](const std::string& w) {
                        return std::pair{w, 1L};
                      })
                      .reduce_by_key([](long a, long b) { return a + b; });
    counts.print();
    ctx.start();
    ctx.await_termination();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "network_word_count: %s\n", e.what());
    return 1;
  }
}
