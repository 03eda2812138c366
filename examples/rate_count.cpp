// rate_count: counts the rows of the built-in rate source per batch and prints the count and the
// values' range. Needs no server; ends by itself after --seconds (default: runs until killed).
#include <rill/rill.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>
#include <optional>
#include <utility>

#include "command_line.hpp"
#include "status_page.hpp"

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  CLI::App app{
      "Counts the rows of rill's rate source in batches of one second and prints each batch's "
      "count and the smallest and largest value (Spark's print layout).",
      "rate_count"};
  // At most 10 million rows per second: a one-second batch holds them all in memory (16 bytes
  // each), so a typo of a few extra digits would otherwise exhaust it.
  std::int64_t rate = 1000;
  app.add_option("--rows-per-second", rate, "Rows generated per second")
      ->capture_default_str()
      ->transform(rill_examples::whole_number(1, 10'000'000));
  std::optional<int> seconds;
  rill_examples::add_seconds(app, seconds);
  std::optional<std::uint16_t> status_port;
  rill_examples::add_status_port(app, status_port);
  if (const auto code = rill_examples::parse(app, argc, argv)) return *code;

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
    // Ctrl-C (SIGINT) or SIGTERM stops gracefully: the batches already received still run and
    // print. A second Ctrl-C stops at once.
    [[maybe_unused]] const auto status = rill_examples::serve_status(ctx, status_port);
    const auto on_signals = rill::stop_on_signals(ctx);
    ctx.start();
    if (seconds && !ctx.await_termination_for(std::chrono::seconds(*seconds))) ctx.stop();
    ctx.await_termination();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rate_count: %s\n", e.what());
    return 1;
  }
  return 0;
}
