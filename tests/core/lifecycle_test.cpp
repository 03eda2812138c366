#include <atomic>
#include <condition_variable>
#include <latch>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

using namespace std::chrono_literals;

namespace {

struct Boom : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Stores `n` consecutive ints from its own thread as fast as the queue allows.
class CountingReceiver final : public rill::Receiver<int> {
 public:
  explicit CountingReceiver(int n) : n_(n) {}
  void on_start() override {
    thread_ = std::thread([this] {
      try {
        for (int i = 0; i < n_ && !is_stopped(); ++i)
          store(i);
      } catch (const rill::Stopped&) {
      }
      done_.count_down();
    });
  }
  void on_stop() override {
    if (thread_.joinable()) thread_.join();
  }
  void wait_done() { done_.wait(); }

 private:
  int n_;
  std::thread thread_;
  std::latch done_{1};
};

}  // namespace

TEST(Lifecycle, StartTwiceAndLateOperatorsAreIllegal) {
  rill::testing::Harness h{1s};
  auto in = h.input<int>({{1}});
  auto out = h.collect(in);
  EXPECT_EQ(h.context().state(), rill::ContextState::initialized);
  h.run_batches(1);
  EXPECT_EQ(h.context().state(), rill::ContextState::active);
  EXPECT_THROW(h.context().start(), rill::IllegalState);
  EXPECT_THROW((void)in.map([](int x) { return x; }), rill::IllegalState);
  EXPECT_THROW(in.print(), rill::IllegalState);
  EXPECT_THROW((void)h.context().queue_stream<int>({}), rill::IllegalState);
  EXPECT_EQ(out.batches(), (std::vector<std::vector<int>>{{1}}));
}

TEST(Lifecycle, StartWithoutOutputIsIllegal) {
  rill::StreamingContext ctx{rill::Config{}.batch_interval(1s).clock(rill::ManualClock::create())};
  (void)ctx.queue_stream<int>({{1}});
  EXPECT_THROW(ctx.start(), rill::IllegalState);
}

TEST(Lifecycle, HandleOutlivesContext) {
  std::optional<rill::DStream<int>> kept;
  {
    rill::StreamingContext ctx{
        rill::Config{}.batch_interval(1s).clock(rill::ManualClock::create())};
    kept = ctx.queue_stream<int>({{1}});
  }
  EXPECT_THROW((void)kept->map([](int x) { return x + 1; }), rill::IllegalState);
}

TEST(Lifecycle, FirstUserErrorStopsAndIsRethrown) {
  rill::testing::Harness h{1s};
  auto in = h.input<int>({{1}, {2, 3}, {4}});
  auto out = h.collect(in.map([](int x) {
    if (x == 3) throw Boom("three");
    return x;
  }));
  h.run_batches(1);
  EXPECT_THROW(h.run_batches(1), Boom);
  EXPECT_EQ(h.context().state(), rill::ContextState::stopped);
  // The failed batch was not committed.
  EXPECT_EQ(out.batches(), (std::vector<std::vector<int>>{{1}}));
  EXPECT_THROW(h.context().await_termination(), Boom);
  EXPECT_THROW(h.run_batches(1), Boom);
  EXPECT_THROW(h.context().start(), rill::IllegalState);
  EXPECT_NO_THROW(h.context().stop());
}

TEST(Lifecycle, ErrorInAnOutputIsRethrownByAwaitTermination) {
  rill::StreamingContext ctx{
      rill::Config{}.batch_interval(1s).clock(rill::ManualClock::create()).parallelism(2)};
  auto clock = std::static_pointer_cast<rill::ManualClock>(ctx.config().clock());
  ctx.queue_stream<int>({{1}}).foreach_batch(
      [](const rill::Batch<int>&, rill::Time) { throw Boom("in output"); });
  ctx.start();
  clock->advance(1s);
  EXPECT_THROW(ctx.await_termination(), Boom);
  EXPECT_THROW(ctx.await_termination_for(1ms), Boom);
}

TEST(Lifecycle, StopFromACallbackOnlyRequestsIt) {
  rill::StreamingContext ctx{
      rill::Config{}.batch_interval(1s).clock(rill::ManualClock::create()).parallelism(2)};
  auto clock = std::static_pointer_cast<rill::ManualClock>(ctx.config().clock());
  std::atomic<int> calls{0};
  ctx.queue_stream<int>({{1}, {2}}).foreach_batch([&](const rill::Batch<int>&, rill::Time) {
    ++calls;
    ctx.stop();  // must not deadlock: the batch thread cannot wait for itself
  });
  ctx.start();
  clock->advance(1s);
  EXPECT_TRUE(ctx.await_termination_for(10s));
  EXPECT_EQ(ctx.state(), rill::ContextState::stopped);
  EXPECT_EQ(calls.load(), 1);
}

TEST(Lifecycle, AwaitTerminationForTimesOutWhileRunning) {
  rill::testing::Harness h{1s};
  (void)h.collect(h.input<int>({{1}}));
  h.run_batches(1);
  EXPECT_FALSE(h.context().await_termination_for(10ms));
}

TEST(Lifecycle, GracefulStopFinishesEverythingReceived) {
  constexpr int kRecords = 5000;
  rill::StreamingContext ctx{rill::Config{}.batch_interval(20ms).parallelism(2)};
  auto receiver = std::make_shared<CountingReceiver>(kRecords);
  std::mutex mutex;
  std::vector<int> seen;
  ctx.receiver_stream<int>(receiver).foreach_batch([&](const rill::Batch<int>& b, rill::Time) {
    std::lock_guard lock(mutex);
    for (int x : b)
      seen.push_back(x);
  });
  ctx.start();
  receiver->wait_done();
  ctx.stop();
  EXPECT_EQ(ctx.state(), rill::ContextState::stopped);
  std::lock_guard lock(mutex);
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kRecords));
  for (int i = 0; i < kRecords; ++i)
    ASSERT_EQ(seen[static_cast<std::size_t>(i)], i);
}

TEST(Lifecycle, ImmediateStopWaitsForTheBatchInFlightUpToTheDeadline) {
  rill::StreamingContext ctx{rill::Config{}.batch_interval(10ms).parallelism(1)};
  std::latch entered{1};
  std::mutex mutex;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> batches{0};
  ctx.queue_stream<int>({{1}}).foreach_batch([&](const rill::Batch<int>&, rill::Time) {
    if (batches++ == 0) {
      entered.count_down();
      std::unique_lock lock(mutex);
      cv.wait(lock, [&] { return release; });
    }
  });
  ctx.start();
  entered.wait();
  const auto before = std::chrono::steady_clock::now();
  ctx.stop(rill::StopOptions{.graceful = false, .timeout = 100ms});
  const auto waited = std::chrono::steady_clock::now() - before;
  EXPECT_GE(waited, 100ms);
  EXPECT_LT(waited, 5s);
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  cv.notify_all();
  EXPECT_TRUE(ctx.await_termination_for(10s));
  EXPECT_EQ(batches.load(), 1);  // the pending batches were dropped
}

// On the system clock an idle batch thread sleeps until the next grid time (an hour away here):
// stopping wakes it, so neither kind of stop waits for the grid.
TEST(Lifecycle, StopWakesABatchThreadSleepingUntilAFarTick) {
  for (const bool graceful : {false, true}) {
    rill::StreamingContext ctx{rill::Config{}.batch_interval(std::chrono::hours(1))};
    ctx.queue_stream<int>({}).foreach_batch([](const rill::Batch<int>&, rill::Time) {});
    ctx.start();
    std::this_thread::sleep_for(20ms);  // the batch thread is asleep by now
    const auto before = std::chrono::steady_clock::now();
    ctx.stop(rill::StopOptions{.graceful = graceful, .timeout = 30s});
    EXPECT_LT(std::chrono::steady_clock::now() - before, 10s) << "graceful " << graceful;
    EXPECT_EQ(ctx.state(), rill::ContextState::stopped);
  }
}

TEST(Lifecycle, DestructorStopsAnActiveContext) {
  std::atomic<int> batches{0};
  {
    rill::StreamingContext ctx{rill::Config{}.batch_interval(5ms).parallelism(2)};
    ctx.rate_stream(rill::RateOptions{.rows_per_second = 1000})
        .count()
        .foreach_batch([&](const rill::Batch<std::int64_t>&, rill::Time) { ++batches; });
    ctx.start();
    while (batches.load() < 2)
      std::this_thread::yield();
  }
  EXPECT_GE(batches.load(), 2);
}

TEST(Lifecycle, SystemClockBatchesAreOnTheGrid) {
  rill::StreamingContext ctx{rill::Config{}.batch_interval(10ms).parallelism(2)};
  std::mutex mutex;
  std::vector<rill::Time> times;
  ctx.queue_stream<int>({}).foreach_batch([&](const rill::Batch<int>&, rill::Time t) {
    std::lock_guard lock(mutex);
    times.push_back(t);
  });
  ctx.start();
  for (;;) {
    {
      std::lock_guard lock(mutex);
      if (times.size() >= 3) break;
    }
    std::this_thread::yield();
  }
  ctx.stop();
  std::lock_guard lock(mutex);
  for (std::size_t i = 0; i < times.size(); ++i) {
    EXPECT_TRUE(times[i].is_multiple_of(10ms)) << times[i];
    if (i > 0) {
      EXPECT_EQ(times[i] - times[i - 1], 10ms);
    }
  }
  EXPECT_EQ(times.front(), ctx.zero_time() + 10ms);
}

TEST(Lifecycle, ZeroTimeFollowsTheClock) {
  auto clock = rill::ManualClock::create(rill::Time{2500});
  rill::StreamingContext ctx{rill::Config{}.batch_interval(1s).clock(clock)};
  ctx.queue_stream<int>({}).print();
  ctx.start();
  EXPECT_EQ(ctx.zero_time(), rill::Time{2000});  // first batch at 3000: strictly after 2500
  ctx.stop();
}
