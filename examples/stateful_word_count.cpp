// stateful_word_count HOST PORT: running word counts over everything a TCP server has sent,
// kept with update_state_by_key and printed every second.
#include <rill/rill.hpp>

#include <cstdio>
#include <string>
#include <string_view>
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  if (argc != 3 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h") {
    std::puts(
        "usage: stateful_word_count HOST PORT\n"
        "  Connects to HOST:PORT (retrying until a server is there) and prints, every second,\n"
        "  the running count of every word received so far. Try `nc -lk 9999`.");
    return argc == 2 ? 0 : 2;
  }
  try {
    rill::StreamingContext ctx{1s};
    ctx.socket_text_stream(argv[1], static_cast<std::uint16_t>(std::stoi(argv[2])))
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
    ctx.start();
    ctx.await_termination();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stateful_word_count: %s\n", e.what());
    return 1;
  }
}
