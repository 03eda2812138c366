// Rate control (issue 15): Config::max_rate_per_source and Config::backpressure on a receiver
// stream, driven by the harness on a manual clock, whose moves are the only source of the rate
// limit's tokens, so that what a receiver may store is a function of the clock.
//
// The convergence test simulates time: its output spends 1 ms of the manual clock per record (a
// processing capacity of 1000 records/s), in 10 ms steps. Simulated time runs much faster than
// the receiver's thread, so the receiver works in lock-step with it: it stores as fast as the
// rate lets it (try_store(), which takes the limit's tokens too), and when the limit (or the
// queue) says no, it notes the clock reading it is idle at; the output waits for that after each
// step. Which records land in which batch still depends on thread timing at a tick (about one
// step's worth), so the assertions bound totals and trends, never single counts.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

#include "support/flood_receiver.hpp"

using namespace std::chrono_literals;

namespace {

using rill::Time;

/// Stores as fast as the rate limit and the queue let it (try_store), and then says at which
/// reading of the manual clock it ran out, until the clock moves again.
class LockStepReceiver final : public rill::Receiver<std::int64_t> {
 public:
  explicit LockStepReceiver(rill::ManualClock& clock) : clock_(clock) {}

  void on_start() override {
    thread_ = std::thread([this] {
      try {
        std::int64_t next = 0;
        while (!is_stopped()) {
          if (try_store(next)) {
            ++next;
            continue;
          }
          const Time now = clock_.now();
          std::unique_lock lock(mutex_);
          idle_at_ = now;
          cv_.notify_all();
          // Polls for the clock's next move (the harness moves it too), or the stop.
          while (clock_.now() == now && !is_stopped())
            cv_.wait_for(lock, 1ms);
        }
      } catch (const rill::Stopped&) {
      }
      std::lock_guard lock(mutex_);
      done_ = true;
      cv_.notify_all();
    });
  }
  void on_stop() override {
    if (thread_.joinable()) thread_.join();
  }

  /// The clock moved: try storing again now rather than at the next poll.
  void poke() {
    { std::lock_guard lock(mutex_); }
    cv_.notify_all();
  }

  /// Waits until the receiver stored all that the clock's reading `t` allows (bounded, so that
  /// a broken limiter fails the test's assertions instead of hanging it).
  void await_idle_at(Time t) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, 10s, [&] { return idle_at_ >= t || done_; });
  }

 private:
  rill::ManualClock& clock_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  Time idle_at_{-1};
  bool done_ = false;  // the thread ended (stopping)
};

/// What the slow output saw of one batch, in simulated time.
struct Seen {
  Time batch;
  std::int64_t records = 0;
  rill::Duration lag{0};         // the clock when processing began, minus the batch time
  rill::Duration processing{0};  // 1 ms per record
};

/// A pipeline whose output takes 1 ms of the manual clock per record.
class SlowPipeline {
 public:
  explicit SlowPipeline(rill::Config config)
      : h_(config.batch_interval(1s).parallelism(1).worker_threads(1)),
        receiver_(std::make_shared<LockStepReceiver>(h_.clock())) {
    auto& clock = h_.clock();
    h_.context().receiver_stream<std::int64_t>(receiver_).name("flood").foreach_batch(
        [this, &clock](const rill::Batch<std::int64_t>& batch, Time t) {
          const Time began = clock.now();
          const auto records = static_cast<std::int64_t>(batch.size());
          for (std::int64_t left = records; left > 0; left -= 10) {
            clock.advance(rill::Duration(std::min<std::int64_t>(left, 10)));
            receiver_->poke();
            receiver_->await_idle_at(clock.now());
          }
          std::lock_guard lock(mutex_);
          seen_.push_back(Seen{t, records, began - t, rill::Duration(records)});
        });
  }

  /// Runs batches one by one; between them the clock moves in 10 ms steps too, the receiver
  /// keeping pace, up to the last step before the next batch time.
  /// Stops the context first: a batch still running uses the members below.
  ~SlowPipeline() { h_.context().stop(rill::StopOptions{.graceful = false}); }
  SlowPipeline(const SlowPipeline&) = delete;
  SlowPipeline& operator=(const SlowPipeline&) = delete;

  void run(std::size_t batches) {
    auto& clock = h_.clock();
    for (std::size_t i = 0; i < batches; ++i) {
      if (started_) {
        while (clock.now() + 10ms < h_.next_batch_time()) {
          clock.advance(10ms);
          receiver_->poke();
          receiver_->await_idle_at(clock.now());
        }
      }
      h_.run_batches(1);
      started_ = true;
    }
  }
  [[nodiscard]] std::vector<Seen> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  rill::testing::Harness& harness() { return h_; }

 private:
  rill::testing::Harness h_;
  std::shared_ptr<LockStepReceiver> receiver_;
  bool started_ = false;
  std::mutex mutex_;
  std::vector<Seen> seen_;
};

std::int64_t total(const std::vector<Seen>& seen, std::size_t from, std::size_t to) {
  std::int64_t n = 0;
  for (std::size_t i = from; i < to; ++i)
    n += seen[i].records;
  return n;
}

// max_rate_per_source alone (no back-pressure): the stream never takes in more than the rate
// allows over the clock's time, and the progress record shows the limit.
TEST(RateControl, MaxRatePerSourceBoundsAReceiver) {
  rill::testing::Harness h(
      rill::Config{}.batch_interval(1s).parallelism(1).max_rate_per_source(100));
  h.context()
      .receiver_stream<std::int64_t>(std::make_shared<rill_test::FloodReceiver>())
      .count()
      .print(0);
  // Each second of the clock gives 100 tokens (the bucket starts empty, and holds one second's
  // worth: the receiver takes them before the clock moves on).
  for (std::int64_t second = 1; second <= 5; ++second) {
    h.run_batches(1);
    ASSERT_TRUE(h.await_records_stored(100 * second)) << second;
  }
  EXPECT_FALSE(h.await_records_stored(501, 200ms));
  const auto progress = h.context().recent_progress();
  ASSERT_EQ(progress.size(), 5U);
  std::int64_t sealed = 0;
  for (const auto& info : progress) {
    ASSERT_EQ(info.sources.size(), 1U);
    EXPECT_EQ(info.sources[0].rate_limit, 100.0);
    sealed += info.num_records;
  }
  EXPECT_LE(sealed, 500);
}

// Without rate control nothing changes: the receiver has no limit, and the progress record
// says so.
TEST(RateControl, OffByDefault) {
  rill::testing::Harness h(rill::Config{}.batch_interval(1s).parallelism(1));
  h.context()
      .receiver_stream<std::int64_t>(std::make_shared<rill_test::FloodReceiver>())
      .count()
      .print(0);
  h.run_batches(1);
  // Unlimited: the receiver stores while the clock stands still.
  ASSERT_TRUE(h.await_records_stored(10000));
  h.run_batches(1);
  for (const auto& info : h.context().recent_progress())
    EXPECT_FALSE(info.sources.at(0).rate_limit);
}

// The test: a batch that costs 1 ms per record, a receiver pushing as fast as it can.
// Without back-pressure every batch takes what the queue holds (3000 records: 3 s of
// processing a second) and the lag grows by 2 s a batch. With it, the rate converges to what
// the output can process: processing settles under the interval and the lag stops growing.
TEST(RateControl, BackPressureConvergesToTheProcessingRate) {
  {
    SlowPipeline off(rill::Config{}.receiver_queue_capacity(3000));
    off.run(8);
    const auto seen = off.seen();  // batches sealed ahead may have run too
    ASSERT_GE(seen.size(), 8U);
    EXPECT_GE(seen[7].lag, seen[0].lag + 8s) << "the control case must fall behind";
  }

  SlowPipeline on(
      rill::Config{}.receiver_queue_capacity(3000).backpressure(true).backpressure_initial_rate(
          3000));
  constexpr std::size_t kBatches = 40;
  on.run(kBatches);
  const auto seen = on.seen();
  ASSERT_GE(seen.size(), kBatches);
  const auto progress = on.harness().context().recent_progress();
  ASSERT_GE(progress.size(), kBatches);

  // Every limit is positive: at least the PID's minimum rate (100 records/s), and the first
  // batches start from the initial rate.
  EXPECT_EQ(progress.front().sources.at(0).rate_limit, 3000.0);
  for (const auto& info : progress) {
    ASSERT_TRUE(info.sources.at(0).rate_limit);
    EXPECT_GE(*info.sources.at(0).rate_limit, 100.0);
  }
  // The last 10 batches: the limit is near the capacity (1000 records/s), processing takes
  // about the interval on average and never much more, and the lag no longer grows.
  const std::size_t tail = kBatches - 10;
  for (std::size_t i = tail; i < kBatches; ++i) {
    SCOPED_TRACE(i);
    const double limit = *progress[i].sources.at(0).rate_limit;
    EXPECT_GT(limit, 700.0);
    EXPECT_LT(limit, 1100.0);
    // A tick the scheduler thread runs late moves records to the batch before: some slack.
    EXPECT_LE(seen[i].processing, 1500ms);
    EXPECT_LE(seen[i].lag, seen[tail].lag + 1500ms);
  }
  // On average processing is under the interval (1000 records, 1 s), give or take what a late
  // tick moves across the window's ends.
  EXPECT_LE(total(seen, tail, kBatches), 10 * 1000 + 300);
  EXPECT_LE(seen[kBatches - 1].lag, 3s);
  std::string trace;
  for (std::size_t i = 0; i < kBatches; ++i) {
    trace += fmt::format("{}: {} records, lag {} ms, limit {}\n", seen[i].batch, seen[i].records,
                         seen[i].lag.count(), progress[i].sources.at(0).rate_limit.value_or(0));
  }
  RecordProperty("trace", trace);
  if (HasFailure()) ADD_FAILURE() << "batch by batch:\n" << trace;
}

}  // namespace
