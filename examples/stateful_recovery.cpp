// stateful_recovery [--dir DIR] [--seconds S]: running totals of the built-in rate source,
// checkpointed into DIR. Kill it at any moment (Ctrl-C, or kill -9) and start it again with the
// same DIR: it resumes where its last checkpoint was, runs again the batches it had sealed, then
// those it missed while down, and the totals it prints are those of a run that never died.
#include <rill/rill.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "command_line.hpp"
#include "status_page.hpp"

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  CLI::App app{
      "Counts the rows of the rate source (10 per second) by value modulo 3, keeping running "
      "totals with update_state_by_key, checkpointed into DIR. Kill it at any moment and start it "
      "again with the same DIR: the totals continue exactly.",
      "stateful_recovery"};
  std::string dir = "rill-recovery-checkpoint";
  app.add_option("--dir", dir, "Checkpoint directory (created if missing)")
      ->type_name("DIR")
      ->capture_default_str()
      ->check(rill_examples::non_empty());
  std::optional<int> seconds;
  rill_examples::add_seconds(app, seconds);
  std::optional<std::uint16_t> status_port;
  rill_examples::add_status_port(app, status_port);
  if (const auto code = rill_examples::parse(app, argc, argv)) return *code;

  try {
    auto ctx = rill::StreamingContext::get_or_create(dir, [] {
      auto ctx = std::make_unique<rill::StreamingContext>(
          rill::Config{}.batch_interval(1s).delivery(rill::Delivery::exactly_once));
      ctx->rate_stream(rill::RateOptions{.rows_per_second = 10})
          .map([](const rill::RateRow& r) {
            return std::pair{r.value % 3, 1L};
          })
          .update_state_by_key(
              [](const std::vector<long>& ones, std::optional<long> total) -> std::optional<long> {
                return total.value_or(0) + static_cast<long>(ones.size());
              })
          .name("totals_by_remainder")
          .print();
      return ctx;
    });
    // Ctrl-C (SIGINT) or SIGTERM stops gracefully: the batches already received still run and
    // print and are checkpointed. A second Ctrl-C stops at once.
    [[maybe_unused]] const auto status = rill_examples::serve_status(*ctx, status_port);
    const auto on_signals = rill::stop_on_signals(*ctx);
    ctx->start();
    if (seconds && !ctx->await_termination_for(std::chrono::seconds(*seconds))) ctx->stop();
    ctx->await_termination();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stateful_recovery: %s\n", e.what());
    return 1;
  }
  return 0;
}
