// Checkpoints and recovery: running totals that continue after a restart from the checkpoint
// directory, with StreamingContext::get_or_create.
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <rill/testing.hpp>

#include "guide.hpp"

using namespace std::chrono_literals;

// [factory]
// Builds the whole pipeline; get_or_create calls it on every start (C++ cannot serialize
// closures), then restores the state of the named operators from the checkpoint.
std::unique_ptr<rill::StreamingContext> make_context(std::shared_ptr<rill::ManualClock> clock) {
  auto ctx = std::make_unique<rill::StreamingContext>(
      rill::Config{}.batch_interval(1s).clock(std::move(clock)));
  auto words = ctx->queue_stream<std::string>({{"a", "b"}, {"a"}, {"b", "a"}, {"a"}});
  auto totals =
      words.map([](const std::string& w) {
             return std::pair{w, 1};
           })
          .update_state_by_key([](const std::vector<int>& ones, std::optional<int> total) {
            return std::optional<int>{total.value_or(0) + static_cast<int>(ones.size())};
          })
          .name("totals");  // a stable name: the checkpoint finds the state by it
  guide::show(totals, "totals");
  return ctx;
}
// [/factory]

int main() {
  guide::TempDir dir;
  // [restart]
  const auto checkpoint = dir.path() / "checkpoint";
  {
    auto clock = rill::ManualClock::create();
    auto ctx =
        rill::StreamingContext::get_or_create(checkpoint, [&] { return make_context(clock); });
    rill::testing::run_until(*ctx, *clock, rill::Time{2000});  // batches 1000 and 2000
    ctx->stop();
  }  // the process could die here instead, even with kill -9
  std::cout << "-- restart --\n";
  {
    auto clock = rill::ManualClock::create();
    auto ctx =
        rill::StreamingContext::get_or_create(checkpoint, [&] { return make_context(clock); });
    rill::testing::run_until(*ctx, *clock, rill::Time{4000});  // resumes at 3000
    ctx->stop();
  }
  // [/restart]
}

// Expected output:
// > totals @1000 ms: (a,1)
// > totals @1000 ms: (b,1)
// > totals @2000 ms: (a,2)
// > totals @2000 ms: (b,1)
// > -- restart --
// > totals @3000 ms: (a,3)
// > totals @3000 ms: (b,2)
// > totals @4000 ms: (a,4)
// > totals @4000 ms: (b,2)
