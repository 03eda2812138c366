// rate_count: counts the rows of the built-in rate source per batch and prints the count and the
// values' range. Needs no server; ends by itself after --seconds (default: runs until killed).
#include <rill/rill.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>

using namespace std::chrono_literals;

namespace {
void usage() {
  std::puts(
      "usage: rate_count [--rows-per-second N] [--seconds S]\n"
      "  Counts the rows of rill's rate source in batches of one second and prints each\n"
      "  batch's count and the smallest and largest value (Spark's print layout).\n"
      "  --rows-per-second N  rows generated per second (default 1000)\n"
      "  --seconds S          stop gracefully after S seconds (default: run until killed)");
}
}  // namespace

int main(int argc, char** argv) {
  std::int64_t rate = 1000;
  int seconds = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage();
      return 0;
    }
    if (arg == "--rows-per-second" && i + 1 < argc) {
      rate = std::stoll(argv[++i]);
    } else if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::stoi(argv[++i]);
    } else {
      usage();
      return 2;
    }
  }
  try {
    rill::StreamingContext ctx{1s};
    auto rows = ctx.rate_stream(rill::RateOptions{.rows_per_second = rate});
    rows.count().print();
    rows.map([](const rill::RateRow& r) {
          return std::pair{r.value, r.value};
        })
        .reduce(
            [](std::pair<std::int64_t, std::int64_t> a, std::pair<std::int64_t, std::int64_t> b) {
              return std::pair{std::min(a.first, b.first), std::max(a.second, b.second)};
            })
        .print();
    ctx.start();
    if (seconds > 0) {
      std::this_thread::sleep_for(std::chrono::seconds(seconds));
      ctx.stop();
    }
    ctx.await_termination();
  } catch (const rill::Error& e) {
    std::fprintf(stderr, "rate_count: %s\n", e.what());
    return 1;
  }
  return 0;
}
