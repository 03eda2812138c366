// file_word_count DIR: counts the words of the files moved into DIR, per two-second batch.
#include <rill/rill.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <utility>

#include <cstdint>
#include <optional>

#include "command_line.hpp"
#include "status_page.hpp"

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  CLI::App app{
      "Watches DIR; the lines of each file moved into it (names starting with '.' or '_' are "
      "ignored) are split into words, and each two-second batch's word counts are printed. Files "
      "already there at start are ignored. Write a file elsewhere, then mv it in.",
      "file_word_count"};
  std::string dir;
  // Checked once here: a directory that is missing at start is a mistake in the command line,
  // not something to wait for.
  app.add_option("DIR", dir, "Existing directory to watch")
      ->required()
      ->check(rill_examples::existing_directory());
  std::optional<std::uint16_t> status_port;
  rill_examples::add_status_port(app, status_port);
  if (const auto code = rill_examples::parse(app, argc, argv)) return *code;

  try {
    rill::StreamingContext ctx{2s};
    ctx.text_file_stream(dir)
        .flat_map(rill::split_words)
        .map([](const std::string& w) {
          return std::pair{w, 1L};
        })
        .reduce_by_key([](long a, long b) { return a + b; })
        .print();
    // Ctrl-C (SIGINT) or SIGTERM stops gracefully: the batches already received still run and
    // print. A second Ctrl-C stops at once.
    [[maybe_unused]] const auto status = rill_examples::serve_status(ctx, status_port);
    const auto on_signals = rill::stop_on_signals(ctx);
    ctx.start();
    ctx.await_termination();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "file_word_count: %s\n", e.what());
    return 1;
  }
}
