// A consumer of rill: a small pipeline on a manual clock, three batches, a graceful stop, then a
// check of what came out (fmt comes with rill::rill; the consumer does not look for it). Exits 0
// when everything is as expected.
#include <rill/rill.hpp>

#include <fmt/core.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

int main() {
  // The version in the headers is the one CMake found.
  const auto header_version =
      fmt::format("{}.{}.{}", RILL_VERSION_MAJOR, RILL_VERSION_MINOR, RILL_VERSION_PATCH);
  if (header_version != RILL_CONSUMER_CMAKE_VERSION) {
    fmt::print(stderr, "consumer: headers say rill {}, CMake found {}\n", header_version,
               RILL_CONSUMER_CMAKE_VERSION);
    return 1;
  }

  auto clock = rill::ManualClock::create();
  rill::StreamingContext ctx{
      rill::Config{}.batch_interval(1s).parallelism(2).worker_threads(2).clock(clock)};

  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::pair<rill::Time, std::vector<int>>> seen;
  ctx.queue_stream<int>({{1, 2, 3}, {4}, {}})
      .map([](int x) { return x * 10; })
      .foreach_batch([&](const rill::Batch<int>& batch, rill::Time t) {
        std::lock_guard lock(mutex);
        seen.emplace_back(t, batch.collect());
        changed.notify_all();
      });

  ctx.start();
  for (int i = 0; i < 3; ++i)
    clock->advance(1s);
  {
    // The batches run on rill's threads; wait for them rather than rely on timing.
    std::unique_lock lock(mutex);
    if (!changed.wait_for(lock, 60s, [&] { return seen.size() >= 3; }))
      fmt::print(stderr, "consumer: only {} batches ran within 60 s\n", seen.size());
  }
  ctx.stop();
  if (ctx.state() != rill::ContextState::stopped) {
    fmt::print(stderr, "consumer: the context did not stop\n");
    return 1;
  }

  const std::vector<std::pair<rill::Time, std::vector<int>>> expected{
      {rill::Time{1000}, {10, 20, 30}}, {rill::Time{2000}, {40}}, {rill::Time{3000}, {}}};
  std::lock_guard lock(mutex);
  if (seen != expected) {
    fmt::print(stderr, "consumer: unexpected output ({} batches):\n", seen.size());
    for (const auto& [t, records] : seen)
      fmt::print(stderr, "  {}: {} records\n", t, records.size());
    return 1;
  }
  fmt::print("consumer: rill {} ran {} batches as expected\n", header_version, seen.size());
  return 0;
}
