// Trigger::available_now (shared/api.md, "Triggers"): the input the sources hold at start() runs
// in back-to-back batches (bounded by the sources' read limits), empty batches follow while the
// watermark still moves, then the context stops by itself; sources that cannot say what they
// hold are refused by name; a restart from a checkpoint takes only what was not processed.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

#include "support/temp_dirs.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using Lines = std::vector<std::string>;

std::vector<rill::Time> times(std::initializer_list<std::int64_t> ms) {
  std::vector<rill::Time> out;
  for (auto m : ms)
    out.emplace_back(m);
  return out;
}

rill::Config available_now(rill::Duration interval = 1s) {
  return rill::Config{}.batch_interval(interval).parallelism(2).worker_threads(2).trigger(
      rill::Trigger::available_now());
}

/// Every listener event, by kind, with the batch time and wm(t) of on_batch_completed.
class Events final : public rill::StreamingListener {
 public:
  void on_batch_submitted(const rill::BatchInfo& info) override {
    std::lock_guard lock(mutex_);
    submitted_.push_back(info.batch_time);
  }
  void on_batch_started(const rill::BatchInfo& info) override {
    std::lock_guard lock(mutex_);
    started_.push_back(info.batch_time);
  }
  void on_batch_completed(const rill::BatchInfo& info) override {
    std::lock_guard lock(mutex_);
    completed_.push_back(info.batch_time);
    records_.push_back(info.num_records);
    std::optional<std::int64_t> wm;
    if (info.watermark) wm = info.watermark->milliseconds();
    watermarks_.push_back(wm);
  }
  std::vector<rill::Time> submitted() {
    std::lock_guard lock(mutex_);
    return submitted_;
  }
  std::vector<rill::Time> started() {
    std::lock_guard lock(mutex_);
    return started_;
  }
  std::vector<rill::Time> completed() {
    std::lock_guard lock(mutex_);
    return completed_;
  }
  std::vector<std::int64_t> records() {
    std::lock_guard lock(mutex_);
    return records_;
  }
  std::vector<std::optional<std::int64_t>> watermarks() {
    std::lock_guard lock(mutex_);
    return watermarks_;
  }

 private:
  std::mutex mutex_;
  std::vector<rill::Time> submitted_;
  std::vector<rill::Time> started_;
  std::vector<rill::Time> completed_;
  std::vector<std::int64_t> records_;
  std::vector<std::optional<std::int64_t>> watermarks_;
};

std::shared_ptr<Events> listen(rill::StreamingContext& ctx) {
  auto events = std::make_shared<Events>();
  ctx.add_listener(events);
  return events;
}

/// The file-stream tests' directories, with the watched one created at once.
class WatchedDirs : public rill_test::TempDirs {
 public:
  WatchedDirs() { create_watched(); }
};

struct Ev {
  rill::Time time;
  auto operator<=>(const Ev&) const = default;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(time);
  }
};

Ev ev(std::int64_t ms) {
  return Ev{rill::Time{ms}};
}

/// A receiver that only counts its starts: it must never start under available_now.
class StartCountingReceiver final : public rill::Receiver<int> {
 public:
  explicit StartCountingReceiver(std::atomic<int>& starts) : starts_(starts) {}
  void on_start() override { ++starts_; }
  void on_stop() override {}

 private:
  std::atomic<int>& starts_;
};

/// A user source in the style of a Kafka partition: records are offsets 0, 1, 2 ... up to an end
/// offset that grows as records arrive. Under available_now, start() reads the end offset, and
/// each batch takes at most `limit` records up to it.
class OffsetLog final : public rill::Source<int> {
 public:
  OffsetLog(std::shared_ptr<std::atomic<int>> end, int limit)
      : end_(std::move(end)), limit_(limit) {}

  [[nodiscard]] std::string kind() const override { return "offset_log"; }
  [[nodiscard]] rill::SourceProperties properties() const override {
    return rill::SourceProperties{.available_now = true};
  }
  void start(rill::SourceContext& ctx) override {
    if (ctx.available_now()) stop_at_ = end_->load();
  }
  rill::Sealed<int> seal(rill::Time, bool) override {
    const int to = std::min({end_->load(), stop_at_, next_ + limit_});
    rill::Sealed<int> sealed;
    for (; next_ < to; ++next_)
      sealed.records.push_back(next_);
    return sealed;
  }
  [[nodiscard]] bool has_available_input() const override { return next_ < stop_at_; }

 private:
  std::shared_ptr<std::atomic<int>> end_;
  int limit_;
  int stop_at_ = std::numeric_limits<int>::max();
  int next_ = 0;
};

/// A user source that does not declare available_now.
class Endless final : public rill::Source<int> {
 public:
  [[nodiscard]] std::string kind() const override { return "endless"; }
  [[nodiscard]] rill::SourceProperties properties() const override { return {}; }
  rill::Sealed<int> seal(rill::Time, bool) override { return {}; }
};

/// Moves the file `late` into the watched directory when the first batch starts: after start()
/// listed the directory.
class LateFile final : public rill::StreamingListener {
 public:
  explicit LateFile(const rill_test::TempDirs& dirs) : dirs_(dirs) {}
  void on_batch_started(const rill::BatchInfo& info) override {
    if (info.batch_time == rill::Time{1000}) dirs_.move_in("late", "late\n");
  }

 private:
  const rill_test::TempDirs& dirs_;
};

}  // namespace

// ---------------------------------------------------------------- the trigger value

TEST(Trigger, ProcessingTimeIsTheBatchIntervalAndAvailableNowKeepsIt) {
  EXPECT_EQ(rill::Config{}.trigger(rill::Trigger::processing_time(250ms)).batch_interval(), 250ms);
  EXPECT_EQ(rill::Config{}.batch_interval(1s).trigger().kind(),
            rill::Trigger::Kind::processing_time);
  EXPECT_EQ(rill::Config{}.batch_interval(1s).trigger().interval(), 1s);
  const rill::Config c = rill::Config{}.batch_interval(2s).trigger(rill::Trigger::available_now());
  EXPECT_TRUE(c.trigger().is_available_now());
  EXPECT_EQ(c.batch_interval(), 2s);
  // The last call decides the mode.
  EXPECT_EQ(rill::Config{c}.trigger(rill::Trigger::processing_time(3s)).trigger(),
            rill::Trigger::processing_time(3s));
  EXPECT_THROW((void)rill::Trigger::processing_time(0ms), rill::InvalidArgument);
  EXPECT_THROW((void)rill::Trigger::processing_time(-1s), rill::InvalidArgument);
}

// ---------------------------------------------------------------- queue streams

TEST(AvailableNow, QueueStreamRunsItsBatchesBackToBackThenStopsWithoutTheClock) {
  rill::testing::Harness h{available_now()};
  auto events = listen(h.context());
  auto in = h.input<int>({{1, 2}, {3}, {}, {4}});
  auto out = h.collect(in.map([](int x) { return x * 10; }));
  h.context().start();
  h.context().await_termination();
  EXPECT_EQ(h.context().state(), rill::ContextState::stopped);
  // The manual clock never moved: batches did not wait for it, their times still step by the
  // interval from the first grid time.
  EXPECT_EQ(h.clock().now(), rill::Time{0});
  EXPECT_EQ(out.batches(), (std::vector<std::vector<int>>{{10, 20}, {30}, {}, {40}}));
  EXPECT_EQ(out.times(), times({1000, 2000, 3000, 4000}));
  EXPECT_EQ(events->submitted(), times({1000, 2000, 3000, 4000}));
  EXPECT_EQ(events->started(), times({1000, 2000, 3000, 4000}));
  EXPECT_EQ(events->completed(), times({1000, 2000, 3000, 4000}));
  EXPECT_EQ(events->records(), (std::vector<std::int64_t>{2, 1, 0, 1}));
  // await_termination_for waits wall-clock time, and returns at once now.
  EXPECT_TRUE(h.context().await_termination_for(10s));
}

TEST(AvailableNow, AQueueTakenAllAtOnceIsOneBatch) {
  auto clock = rill::ManualClock::create(rill::Time{0});
  rill::StreamingContext ctx{available_now(500ms).clock(clock)};
  auto events = listen(ctx);
  ctx.queue_stream<int>({{1}, {2, 3}, {4}}, /*one_at_a_time=*/false)
      .count()
      .foreach_batch([](const rill::Batch<std::int64_t>&, rill::Time) {});
  ctx.start();
  ctx.await_termination();
  EXPECT_EQ(events->completed(), times({500}));
  EXPECT_EQ(events->records(), (std::vector<std::int64_t>{4}));
}

TEST(AvailableNow, NothingAvailableRunsNoBatchAndStops) {
  rill::testing::Harness h{available_now()};
  auto events = listen(h.context());
  auto out = h.collect(h.input<int>({}));
  h.context().start();
  EXPECT_TRUE(h.context().await_termination_for(30s));
  EXPECT_TRUE(out.batches().empty());
  EXPECT_TRUE(events->submitted().empty());
}

TEST(AvailableNow, HarnessRunBatchesDrivesTheRunAndFailsPastItsEnd) {
  rill::testing::Harness h{available_now()};
  auto out = h.collect(h.input<int>({{1}, {2}, {3}}));
  h.run_batches(2);
  // The run does not wait for run_batches: later batches may have completed too.
  const auto first = out.times();
  ASSERT_GE(first.size(), 2U);
  EXPECT_EQ(first[0], rill::Time{1000});
  EXPECT_EQ(first[1], rill::Time{2000});
  h.run_batches(1);
  h.context().await_termination();
  EXPECT_EQ(out.batches(), (std::vector<std::vector<int>>{{1}, {2}, {3}}));
  // The run ended after its three batches: there is no fourth.
  EXPECT_THROW(h.run_batches(1), rill::IllegalState);
}

TEST(AvailableNow, BatchTimesContinueOnTheGridFromTheClockAtStart) {
  rill::testing::Harness h{available_now()};
  h.clock().set_time(rill::Time{42'500});
  auto out = h.collect(h.input<int>({{1}, {2}}));
  h.context().start();
  h.context().await_termination();
  EXPECT_EQ(out.times(), times({43'000, 44'000}));
  EXPECT_EQ(h.context().zero_time(), rill::Time{42'000});
}

TEST(AvailableNow, UnderTheSystemClockBatchesDoNotWaitForTheirTime) {
  // A one-hour interval: waiting for the clock would never end within the test.
  rill::StreamingContext ctx{available_now(1h)};
  std::vector<rill::Time> seen;
  std::mutex mutex;
  ctx.queue_stream<int>({{1}, {2}, {3}}).foreach_batch([&](const rill::Batch<int>&, rill::Time t) {
    std::lock_guard lock(mutex);
    seen.push_back(t);
  });
  const auto started = std::chrono::steady_clock::now();
  ctx.start();
  ASSERT_TRUE(ctx.await_termination_for(60s));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 60s);
  std::lock_guard lock(mutex);
  ASSERT_EQ(seen.size(), 3U);
  EXPECT_EQ(seen[0], ctx.zero_time() + 1h);
  EXPECT_EQ(seen[1] - seen[0], rill::Duration{1h});
  EXPECT_EQ(seen[2] - seen[1], rill::Duration{1h});
  EXPECT_EQ(seen[0].milliseconds() % rill::Duration{1h}.count(), 0);
}

// ---------------------------------------------------------------- watermarks

TEST(AvailableNow, AWatermarkThatMovedInTheLastBatchRunsOneMoreEmptyBatch) {
  rill::testing::Harness h{available_now()};
  auto events = listen(h.context());
  auto in = h.input<Ev>({{ev(5000), ev(3000)}, {ev(10000)}});
  auto out = h.collect(in.with_watermark(&Ev::time, 2s));
  h.context().start();
  h.context().await_termination();
  // Batch 2000 moves the global watermark to 8000: batch 3000 runs, empty, with wm 8000, and
  // moves nothing.
  EXPECT_EQ(out.batches(), (std::vector<std::vector<Ev>>{{ev(5000), ev(3000)}, {ev(10000)}, {}}));
  EXPECT_EQ(events->completed(), times({1000, 2000, 3000}));
  EXPECT_EQ(events->watermarks(),
            (std::vector<std::optional<std::int64_t>>{std::nullopt, 3000, 8000}));
}

TEST(AvailableNow, EmptyBatchesGoOnWhileTheWatermarkKeepsMovingAfterTheInputEnds) {
  rill::testing::Harness h{available_now()};
  auto events = listen(h.context());
  auto a = h.input<Ev>({{ev(10000)}});
  auto b = h.input<Ev>({{ev(1000)}, {ev(2000)}});
  auto out = h.collect(
      a.with_watermark(&Ev::time, 0s, rill::WatermarkOptions{.idle_timeout = 3s})
          .union_with(b.with_watermark(&Ev::time, 0s, rill::WatermarkOptions{.idle_timeout = 1s})));
  h.context().start();
  h.context().await_termination();
  // The input ends with batch 2000 (global watermark 2000, the min). At the end of batch 3000, b
  // is idle (3000 - 2000 >= 1 s) and a alone decides: 10000, so batch 4000 runs too; at its end
  // both are idle and the watermark stays: the run ends.
  EXPECT_EQ(events->completed(), times({1000, 2000, 3000, 4000}));
  EXPECT_EQ(events->watermarks(),
            (std::vector<std::optional<std::int64_t>>{std::nullopt, 1000, 2000, 10000}));
  EXPECT_EQ(out.sorted_batches(),
            (std::vector<std::vector<Ev>>{{ev(1000), ev(10000)}, {ev(2000)}, {}, {}}));
}

TEST(AvailableNow, WithoutWatermarksNoEmptyBatchFollowsTheInput) {
  rill::testing::Harness h{available_now()};
  auto out = h.collect(h.input<Ev>({{ev(5000)}}).with_event_time(&Ev::time));
  h.context().start();
  h.context().await_termination();
  EXPECT_EQ(out.times(), times({1000}));
}

// ---------------------------------------------------------------- file streams

TEST(AvailableNow, FileStreamReadsTheFilesAtStartInBatchesOfMaxFilesPerBatch) {
  WatchedDirs dirs;
  for (const char* name : {"a", "b", "c", "d", "e"})
    dirs.move_in(name, std::string(name) + "1\n" + name + "2\n");
  rill::testing::Harness h{available_now()};
  auto events = listen(h.context());
  auto out = h.collect(h.context().text_file_stream(
      dirs.watched(), rill::FileStreamOptions{.max_files_per_batch = 2}));
  // A file that arrives after start() belongs to a later run.
  h.context().add_listener(std::make_shared<LateFile>(dirs));
  h.context().start();
  h.context().await_termination();
  EXPECT_EQ(out.batches(),
            (std::vector<Lines>{{"a1", "a2", "b1", "b2"}, {"c1", "c2", "d1", "d2"}, {"e1", "e2"}}));
  EXPECT_EQ(out.times(), times({1000, 2000, 3000}));
  EXPECT_EQ(events->records(), (std::vector<std::int64_t>{4, 4, 2}));
  EXPECT_TRUE(fs::exists(dirs.watched() / "late"));
}

TEST(AvailableNow, FileStreamUnderTheSystemClockTakesOldFilesToo) {
  WatchedDirs dirs;
  for (const char* name : {"a", "b", "c"})
    dirs.move_in(name, std::string(name) + "\n");
  // Older than the remember window: a processing-time run would skip them; they are the input
  // here.
  const auto old = fs::file_time_type::clock::now() - std::chrono::hours(2);
  for (const char* name : {"a", "b"})
    fs::last_write_time(dirs.watched() / name, old);
  rill::StreamingContext ctx{available_now(1h)};
  std::vector<Lines> batches;
  std::mutex mutex;
  ctx.text_file_stream(dirs.watched(), rill::FileStreamOptions{.max_files_per_batch = 2})
      .foreach_batch([&](const rill::Batch<std::string>& b, rill::Time) {
        std::lock_guard lock(mutex);
        batches.push_back(b.collect());
      });
  ctx.start();
  ASSERT_TRUE(ctx.await_termination_for(60s));
  std::lock_guard lock(mutex);
  EXPECT_EQ(batches, (std::vector<Lines>{{"a", "b"}, {"c"}}));
}

TEST(AvailableNow, ARestartFromACheckpointTakesOnlyTheFilesNotProcessed) {
  WatchedDirs dirs;
  for (const char* name : {"a", "b", "c"})
    dirs.move_in(name, std::string(name) + "\n");
  std::vector<Lines> batches;
  std::vector<rill::Time> batch_times;
  std::mutex mutex;
  auto run = [&] {
    auto clock = rill::ManualClock::create(rill::Time{0});
    auto ctx = rill::StreamingContext::get_or_create(dirs.checkpoints(), [&] {
      auto c = std::make_unique<rill::StreamingContext>(available_now().clock(clock));
      c->text_file_stream(dirs.watched(), rill::FileStreamOptions{.max_files_per_batch = 2})
          .foreach_batch([&](const rill::Batch<std::string>& b, rill::Time t) {
            std::lock_guard lock(mutex);
            batches.push_back(b.collect());
            batch_times.push_back(t);
          });
      c->checkpoint(dirs.checkpoints());
      return c;
    });
    ctx->start();
    ctx->await_termination();
  };
  run();
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(batches, (std::vector<Lines>{{"a", "b"}, {"c"}}));
    EXPECT_EQ(batch_times, times({1000, 2000}));
    batches.clear();
    batch_times.clear();
  }
  dirs.move_in("d", "d\n");
  dirs.move_in("e", "e\n");
  dirs.move_in("f", "f\n");
  run();
  {
    std::lock_guard lock(mutex);
    // Only the new files, on the grid after the checkpointed batch.
    EXPECT_EQ(batches, (std::vector<Lines>{{"d", "e"}, {"f"}}));
    EXPECT_EQ(batch_times, times({3000, 4000}));
    batches.clear();
  }
  run();  // nothing new: no batch
  std::lock_guard lock(mutex);
  EXPECT_TRUE(batches.empty());
}

TEST(AvailableNow, ARestartOfAQueueStreamTakesTheBatchesNotProcessed) {
  WatchedDirs dirs;
  std::vector<std::vector<int>> batches;
  std::mutex mutex;
  auto make = [&](std::shared_ptr<rill::ManualClock> clock, rill::Config config) {
    return rill::StreamingContext::get_or_create(dirs.checkpoints(), [&, clock, config] {
      auto c = std::make_unique<rill::StreamingContext>(rill::Config{config}.clock(clock));
      c->queue_stream<int>({{1}, {2}, {3}, {4}})
          .foreach_batch([&](const rill::Batch<int>& b, rill::Time) {
            std::lock_guard lock(mutex);
            batches.push_back(b.collect());
          });
      c->checkpoint(dirs.checkpoints());
      return c;
    });
  };
  {
    // A processing-time run of two batches, stopped.
    auto clock = rill::ManualClock::create(rill::Time{0});
    auto ctx = make(clock, rill::Config{}.batch_interval(1s).parallelism(2));
    rill::testing::run_until(*ctx, *clock, rill::Time{2000});
    ctx->stop(rill::StopOptions{.graceful = false});
  }
  {
    auto ctx = make(rill::ManualClock::create(rill::Time{0}), available_now());
    ctx->start();
    ctx->await_termination();
  }
  std::lock_guard lock(mutex);
  EXPECT_EQ(batches, (std::vector<std::vector<int>>{{1}, {2}, {3}, {4}}));
}

TEST(AvailableNow, ARestartAfterABatchThatMovedTheWatermarkRunsTheEmptyBatchItOwes) {
  WatchedDirs dirs;
  std::vector<rill::Time> batch_times;
  std::vector<std::optional<std::int64_t>> watermarks;
  std::mutex mutex;
  class Recorder final : public rill::StreamingListener {
   public:
    Recorder(std::mutex& m, std::vector<std::optional<std::int64_t>>& wms) : m_(m), wms_(wms) {}
    void on_batch_completed(const rill::BatchInfo& info) override {
      std::lock_guard lock(m_);
      std::optional<std::int64_t> wm;
      if (info.watermark) wm = info.watermark->milliseconds();
      wms_.push_back(wm);
    }

   private:
    std::mutex& m_;
    std::vector<std::optional<std::int64_t>>& wms_;
  };
  auto make = [&](std::shared_ptr<rill::ManualClock> clock, rill::Config config) {
    return rill::StreamingContext::get_or_create(dirs.checkpoints(), [&, clock, config] {
      auto c = std::make_unique<rill::StreamingContext>(rill::Config{config}.clock(clock));
      c->queue_stream<Ev>({{ev(5000)}, {ev(9000)}})
          .with_watermark(&Ev::time, 0s)
          .foreach_batch([&](const rill::Batch<Ev>&, rill::Time t) {
            std::lock_guard lock(mutex);
            batch_times.push_back(t);
          });
      c->add_listener(std::make_shared<Recorder>(mutex, watermarks));
      c->checkpoint(dirs.checkpoints());
      return c;
    });
  };
  {
    // A processing-time run stopped right after batch 2000, which moved the watermark from 5000
    // to 9000: the input is used up, but the empty batch that would close what 9000 closes has
    // not run.
    auto clock = rill::ManualClock::create(rill::Time{0});
    auto ctx = make(clock, rill::Config{}.batch_interval(1s).parallelism(2));
    rill::testing::run_until(*ctx, *clock, rill::Time{2000});
    ctx->stop(rill::StopOptions{.graceful = false});
  }
  {
    auto ctx = make(rill::ManualClock::create(rill::Time{0}), available_now());
    ctx->start();
    ctx->await_termination();
  }
  std::lock_guard lock(mutex);
  EXPECT_EQ(batch_times, times({1000, 2000, 3000}));
  EXPECT_EQ(watermarks, (std::vector<std::optional<std::int64_t>>{std::nullopt, 5000, 9000}));
}

TEST(AvailableNow, MaxFilesPerBatchBoundsProcessingTimeBatchesToo) {
  WatchedDirs dirs;
  rill::testing::Harness h{1s};
  auto out = h.collect(h.context().text_file_stream(
      dirs.watched(), rill::FileStreamOptions{.max_files_per_batch = 1}));
  h.run_batches(1);
  dirs.move_in("x", "x\n");
  dirs.move_in("y", "y\n");
  dirs.move_in("z", "z\n");
  h.run_batches(4);
  EXPECT_EQ(out.batches(), (std::vector<Lines>{{}, {"x"}, {"y"}, {"z"}, {}}));
}

TEST(AvailableNow, MaxFilesPerBatchMustBePositive) {
  WatchedDirs dirs;
  rill::testing::Harness h{1s};
  EXPECT_THROW((void)h.context().text_file_stream(
                   dirs.watched(), rill::FileStreamOptions{.max_files_per_batch = 0}),
               rill::InvalidArgument);
}

// ---------------------------------------------------------------- the Source contract

TEST(AvailableNow, AUserSourceSealsUpToWhatItHeldAtStartWithinItsLimit) {
  auto end = std::make_shared<std::atomic<int>>(10);
  rill::testing::Harness h{available_now()};
  auto out = h.collect(h.context().add_source<int>(std::make_shared<OffsetLog>(end, 4)));
  // Records that arrive once the run is going belong to a later run.
  class Arrivals final : public rill::StreamingListener {
   public:
    explicit Arrivals(std::shared_ptr<std::atomic<int>> end) : end_(std::move(end)) {}
    void on_batch_started(const rill::BatchInfo&) override { *end_ += 5; }

   private:
    std::shared_ptr<std::atomic<int>> end_;
  };
  h.context().add_listener(std::make_shared<Arrivals>(end));
  h.context().start();
  h.context().await_termination();
  EXPECT_EQ(out.batches(), (std::vector<std::vector<int>>{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}}));
  EXPECT_EQ(end->load(), 25);
}

TEST(AvailableNow, AUserSourceThatDoesNotDeclareItIsRefusedByName) {
  rill::testing::Harness h{available_now()};
  (void)h.collect(h.context().add_source<int>(std::make_shared<Endless>()).name("ticker"));
  try {
    h.context().start();
    FAIL() << "start() accepted a source that cannot say what it holds";
  } catch (const rill::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("ticker"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------- refused sources

TEST(AvailableNow, SocketRateAndReceiverStreamsAreRefusedByNameAtStart) {
  std::atomic<int> starts{0};
  {
    rill::testing::Harness h{available_now()};
    auto& ctx = h.context();
    auto q = h.input<int>({{1}});
    auto socket = ctx.socket_text_stream("127.0.0.1", 9);
    auto rate = ctx.rate_stream();
    auto received = ctx.receiver_stream<int>(std::make_shared<StartCountingReceiver>(starts));
    (void)h.collect(q.union_with(received));
    (void)h.collect(socket);
    (void)h.collect(rate);
    try {
      ctx.start();
      FAIL() << "start() accepted sources that cannot say what they hold";
    } catch (const rill::InvalidArgument& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("socket_text_stream#1"), std::string::npos) << what;
      EXPECT_NE(what.find("rate_stream#1"), std::string::npos) << what;
      EXPECT_NE(what.find("receiver_stream#1"), std::string::npos) << what;
      EXPECT_EQ(what.find("queue_stream"), std::string::npos) << what;
      EXPECT_NE(what.find("Trigger::available_now"), std::string::npos) << what;
    }
    EXPECT_NE(ctx.state(), rill::ContextState::active);
  }  // the context is destroyed cleanly: nothing was started
  EXPECT_EQ(starts.load(), 0);
}
