// file_word_count DIR: counts the words of the files moved into DIR, per two-second batch.
#include <rill/rill.hpp>

#include <cstdio>
#include <string>
#include <string_view>
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  if (argc != 2 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h") {
    std::puts(
        "usage: file_word_count DIR\n"
        "  Watches DIR; the lines of each file moved into it (names starting with '.' or '_'\n"
        "  are ignored) are split into words, and each batch's word counts are printed.\n"
        "  Files already there at start are ignored. Write a file elsewhere, then mv it in.");
    return argc == 2 ? 0 : 2;
  }
  try {
    rill::StreamingContext ctx{2s};
    ctx.text_file_stream(argv[1])
        .flat_map(rill::split_words)
        .map([](const std::string& w) {
          return std::pair{w, 1L};
        })
        .reduce_by_key([](long a, long b) { return a + b; })
        .print();
    ctx.start();
    ctx.await_termination();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "file_word_count: %s\n", e.what());
    return 1;
  }
}
