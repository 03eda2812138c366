// The process the crash test kills: runs tests/checkpoint/pipeline.hpp from its checkpoint
// directory up to the last batch, then stops. Usage: crash_child CKPT_DIR OUT_DIR BATCHES.
// RILL_CRASH_POINT=<step>:<n> makes rill kill it at the n-th passage through a write step.
#include <cstdio>
#include <cstdlib>

#include <rill/testing.hpp>

#include "checkpoint/pipeline.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: crash_child CKPT_DIR OUT_DIR BATCHES\n");
    return 2;
  }
  const std::filesystem::path ckpt = argv[1];
  const std::filesystem::path out = argv[2];
  const int batches = std::atoi(argv[3]);
  rill::get_logger()->set_level(spdlog::level::warn);
  try {
    auto clock = rill::ManualClock::create();
    auto ctx = rill::StreamingContext::get_or_create(
        ckpt, [&] { return rill_test::pipeline(out, clock, {}, batches); });
    rill::testing::run_until(*ctx, *clock, rill::Time{batches * 1000LL});
    ctx->stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "crash_child: %s\n", e.what());
    return 1;
  }
  return 0;
}
