// stateful_recovery [--dir DIR] [--seconds S]: running totals of the built-in rate source,
// checkpointed into DIR. Kill it at any moment (Ctrl-C, or kill -9) and start it again with the
// same DIR: it resumes where its last checkpoint was, runs again the batches it had sealed, then
// those it missed while down, and the totals it prints are those of a run that never died.
#include <rill/rill.hpp>

#include <cstdio>
#include <string>
#include <string_view>
#include <thread>

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  std::string dir = "rill-recovery-checkpoint";
  int seconds = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::stoi(argv[++i]);
    } else {
      std::puts(
          "usage: stateful_recovery [--dir DIR] [--seconds S]\n"
          "  Counts the rows of the rate source (10 per second) by value modulo 3, keeping\n"
          "  running totals with update_state_by_key, checkpointed into DIR (default\n"
          "  ./rill-recovery-checkpoint). Kill it at any moment and start it again with the same\n"
          "  DIR: the totals continue exactly. --seconds stops it gracefully after S seconds.");
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }
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
    ctx->start();
    if (seconds > 0) {
      std::this_thread::sleep_for(std::chrono::seconds(seconds));
      ctx->stop();
    }
    ctx->await_termination();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stateful_recovery: %s\n", e.what());
    return 1;
  }
  return 0;
}
