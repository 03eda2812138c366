// The application sample of shared/api.md, unchanged: it must compile against <rill/rill.hpp>.
// (examples/network_word_count runs the same pipeline with argument checks.)
// clang-format off
#include <rill/rill.hpp>
#include <string>
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  rill::StreamingContext ctx{1s};
  auto counts = ctx.socket_text_stream(argv[1], static_cast<std::uint16_t>(std::stoi(argv[2])))
      .flat_map([](const std::string& line) { return rill::split_words(line); })  // std::vector<std::string>
      .map([](const std::string& w) { return std::pair{w, 1L}; })
      .reduce_by_key([](long a, long b) { return a + b; });
  counts.print();
  ctx.start();
  ctx.await_termination();
}
// clang-format on
