// Watermarks (shared/api.md, "Event time"): per input, none until the first record, then
// max(previous, largest event time - delay); the global one under the min and max policies and
// with idle inputs; wm(t) in BatchInfo is the global watermark at the end of the batch before t;
// checkpoints restore the global and the per-input watermarks.
#include <filesystem>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct Ev {
  rill::Time time;
  int value = 0;
  auto operator<=>(const Ev&) const = default;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(time, value);
  }
};

Ev ev(std::int64_t ms, int value = 0) {
  return Ev{rill::Time{ms}, value};
}

using Wm = std::optional<std::int64_t>;

/// wm(t) of every batch, as on_batch_started and on_batch_completed report it.
class WatermarkRecorder final : public rill::StreamingListener {
 public:
  void on_batch_started(const rill::BatchInfo& info) override {
    std::lock_guard lock(mutex_);
    started_.push_back(ms(info.watermark));
  }
  void on_batch_completed(const rill::BatchInfo& info) override {
    std::lock_guard lock(mutex_);
    completed_.push_back(ms(info.watermark));
  }
  std::vector<Wm> watermarks() {
    std::lock_guard lock(mutex_);
    EXPECT_EQ(started_, completed_);
    return completed_;
  }

 private:
  static Wm ms(std::optional<rill::Time> t) {
    if (!t) return std::nullopt;
    return t->milliseconds();
  }
  std::mutex mutex_;
  std::vector<Wm> started_;
  std::vector<Wm> completed_;
};

std::shared_ptr<WatermarkRecorder> record(rill::testing::Harness& h) {
  auto recorder = std::make_shared<WatermarkRecorder>();
  h.context().add_listener(recorder);
  return recorder;
}

rill::Config policy_config(rill::WatermarkPolicy policy = rill::WatermarkPolicy::min) {
  return rill::Config{}.batch_interval(1s).parallelism(2).worker_threads(2).watermark_policy(
      policy);
}

const Wm no_watermark = std::nullopt;

}  // namespace

TEST(Watermark, OneInputFollowsTheLargestEventTimeMinusTheDelayAndNeverGoesBack) {
  rill::testing::Harness h{policy_config()};
  auto wm = record(h);
  auto in = h.input<Ev>({{ev(5000), ev(3000)}, {}, {ev(4000)}, {ev(10000), ev(9000)}, {}});
  auto out = h.collect(in.with_watermark(&Ev::time, 2s));
  h.run_batches(5);
  // wm(t) is the global watermark at the end of the batch before t.
  EXPECT_EQ(wm->watermarks(), (std::vector<Wm>{no_watermark, 3000, 3000, 3000, 8000}));
  // Nothing is dropped by with_watermark itself.
  EXPECT_EQ(out.batches(), (std::vector<std::vector<Ev>>{
                               {ev(5000), ev(3000)}, {}, {ev(4000)}, {ev(10000), ev(9000)}, {}}));
}

TEST(Watermark, EventTimesBeforeTheEpochGiveNegativeWatermarks) {
  rill::testing::Harness h{policy_config()};
  auto wm = record(h);
  auto in = h.input<Ev>({{ev(-5000)}, {ev(-7000)}, {ev(-1000)}, {}});
  (void)h.collect(in.with_watermark(&Ev::time, 1s));
  h.run_batches(4);
  EXPECT_EQ(wm->watermarks(), (std::vector<Wm>{no_watermark, -6000, -6000, -2000}));
}

TEST(Watermark, AnyCallableReadsTheEventTimeAndStreamsFuseAround) {
  rill::testing::Harness h{policy_config()};
  auto wm = record(h);
  auto in = h.input<int>({{1, 2, 3}, {7}, {}});
  auto out = h.collect(in.map([](int x) { return x * 1000; })
                           .with_watermark([](const int& ms) { return rill::Time{ms}; }, 0ms)
                           .filter([](int ms) { return ms > 1000; }));
  h.run_batches(3);
  EXPECT_EQ(wm->watermarks(), (std::vector<Wm>{no_watermark, 3000, 7000}));
  EXPECT_EQ(out.batches(), (std::vector<std::vector<int>>{{2000, 3000}, {7000}, {}}));
}

TEST(Watermark, AnEventDStreamOfAnyReaderConvertsToTheTypeErasedOne) {
  rill::testing::Harness h{policy_config()};
  auto wm = record(h);
  auto in = h.input<Ev>({{ev(4000)}, {}});
  rill::EventDStream<Ev> erased = in.with_watermark(&Ev::time, 1s).name("readings");
  EXPECT_EQ(erased.name(), "readings");
  EXPECT_TRUE(erased.has_watermark());
  EXPECT_EQ(erased.watermark_delay(), std::optional<rill::Duration>(1s));
  EXPECT_EQ(erased.time_of()(ev(1234)), rill::Time{1234});
  (void)h.collect(erased.map([](const Ev& e) { return e.value; }));
  h.run_batches(2);
  EXPECT_EQ(wm->watermarks(), (std::vector<Wm>{no_watermark, 3000}));
}

TEST(Watermark, WithEventTimeHasNone) {
  rill::testing::Harness h{policy_config()};
  auto wm = record(h);
  auto in = h.input<Ev>({{ev(4000)}, {ev(9000)}, {}});
  auto events = in.with_event_time(&Ev::time);
  EXPECT_FALSE(events.has_watermark());
  (void)h.collect(events);
  h.run_batches(3);
  EXPECT_EQ(wm->watermarks(), (std::vector<Wm>{no_watermark, no_watermark, no_watermark}));
}

TEST(Watermark, NegativeDelayOrIdleTimeoutIsRefusedByTheCall) {
  rill::testing::Harness h{policy_config()};
  auto in = h.input<Ev>({{}});
  try {
    (void)in.with_watermark(&Ev::time, -1s);
    FAIL() << "a negative delay was accepted";
  } catch (const rill::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("-1000 ms"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)in.with_watermark(&Ev::time, 1s, rill::WatermarkOptions{.idle_timeout = -5s}),
               rill::InvalidArgument);
}

TEST(Watermark, MinPolicyWaitsForEveryInputAndTakesTheSlowest) {
  rill::testing::Harness h{policy_config(rill::WatermarkPolicy::min)};
  auto wm = record(h);
  auto a = h.input<Ev>({{ev(10000)}, {}, {}, {ev(12000)}, {}});
  auto b = h.input<Ev>({{}, {}, {ev(5000)}, {}, {}});
  (void)h.collect(a.with_watermark(&Ev::time, 2s));
  (void)h.collect(b.with_watermark(&Ev::time, 0s));
  h.run_batches(5);
  // a: 8000 from batch 1, 10000 from batch 4; b: 5000 from batch 3.
  EXPECT_EQ(wm->watermarks(),
            (std::vector<Wm>{no_watermark, no_watermark, no_watermark, 5000, 5000}));
}

TEST(Watermark, MaxPolicyTakesTheFastestAndIgnoresInputsWithoutOne) {
  rill::testing::Harness h{policy_config(rill::WatermarkPolicy::max)};
  auto wm = record(h);
  auto a = h.input<Ev>({{ev(10000)}, {}, {}, {ev(12000)}, {}});
  auto b = h.input<Ev>({{}, {}, {ev(5000)}, {ev(30000)}, {}});
  (void)h.collect(a.with_watermark(&Ev::time, 2s));
  (void)h.collect(b.with_watermark(&Ev::time, 0s));
  h.run_batches(5);
  EXPECT_EQ(wm->watermarks(), (std::vector<Wm>{no_watermark, 8000, 8000, 8000, 30000}));
}

TEST(Watermark, AnIdleInputIsLeftOutUntilItReceivesARecordAndTheGlobalNeverGoesBack) {
  rill::testing::Harness h{policy_config(rill::WatermarkPolicy::min)};
  auto wm = record(h);
  auto a = h.input<Ev>({{ev(10000)}, {ev(11000)}, {ev(12000)}, {ev(13000)}, {}, {ev(20000)}, {}});
  auto b = h.input<Ev>({{}, {}, {}, {}, {ev(1000)}, {}, {}});
  (void)h.collect(a.with_watermark(&Ev::time, 0s));
  (void)h.collect(b.with_watermark(&Ev::time, 0s, rill::WatermarkOptions{.idle_timeout = 2s}));
  h.run_batches(7);
  // b is idle from the end of batch 3000 (3000 - first batch 1000 >= 2 s): a alone decides
  // from then (12000). b's record at 5000 ms makes it active with watermark 1000: the min is
  // 1000, below the global watermark, which stays; at the end of batch 6000, min(20000, 1000).
  EXPECT_EQ(wm->watermarks(), (std::vector<Wm>{no_watermark, no_watermark, no_watermark, 12000,
                                               13000, 13000, 13000}));
}

TEST(Watermark, AnIdleInputBecomesIdleAgainAfterItsLastRecord) {
  rill::testing::Harness h{policy_config(rill::WatermarkPolicy::min)};
  auto wm = record(h);
  auto a = h.input<Ev>(
      {{ev(10000)}, {ev(11000)}, {ev(12000)}, {ev(13000)}, {ev(14000)}, {ev(15000)}, {}});
  auto b = h.input<Ev>({{ev(11500)}, {}, {}, {}, {}, {}, {}});
  (void)h.collect(a.with_watermark(&Ev::time, 0s));
  (void)h.collect(b.with_watermark(&Ev::time, 0s, rill::WatermarkOptions{.idle_timeout = 3s}));
  h.run_batches(7);
  // b's last record came in batch 1000, so b is idle from the end of batch 4000 (4000 - 1000 >=
  // 3 s): until then the min is b's 11500 once a passes it (end of batch 3000); then a decides.
  EXPECT_EQ(wm->watermarks(),
            (std::vector<Wm>{no_watermark, 10000, 11000, 11500, 13000, 14000, 15000}));
}

TEST(Watermark, OnlyInputsAnOutputDependsOnCount) {
  rill::testing::Harness h{policy_config(rill::WatermarkPolicy::min)};
  auto wm = record(h);
  auto a = h.input<Ev>({{ev(10000)}, {}});
  auto unused = h.input<Ev>({{}, {}});
  (void)unused.with_watermark(&Ev::time, 0s);  // no output: it does not hold the min back
  (void)h.collect(a.with_watermark(&Ev::time, 0s));
  h.run_batches(2);
  EXPECT_EQ(wm->watermarks(), (std::vector<Wm>{no_watermark, 10000}));
}

TEST(Watermark, NoOutputOnAWatermarkMeansNoWatermarkInBatchInfo) {
  rill::testing::Harness h{policy_config()};
  auto wm = record(h);
  (void)h.collect(h.input<Ev>({{ev(10000)}, {}}));
  h.run_batches(2);
  EXPECT_EQ(wm->watermarks(), (std::vector<Wm>{no_watermark, no_watermark}));
}

namespace {

class WatermarkRecovery : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("rill-watermark-{}-{}", ::getpid(), std::random_device{}());
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// Runs the two-input pipeline up to batch `until` (ms), with checkpoints in dir_, and returns
  /// the watermarks of the batches it ran.
  std::vector<Wm> run(std::int64_t until) {
    auto clock = rill::ManualClock::create();
    auto recorder = std::make_shared<WatermarkRecorder>();
    auto ctx = rill::StreamingContext::get_or_create(dir_, [&] {
      auto c = std::make_unique<rill::StreamingContext>(
          rill::Config{}.batch_interval(1s).parallelism(2).worker_threads(2).clock(clock));
      // a: 8000 after batch 1000. b: 5000 after batch 2000, 11000 after batch 4000.
      auto a = c->queue_stream<Ev>({{ev(10000)}, {}, {}, {}, {}});
      auto b = c->queue_stream<Ev>({{}, {ev(5000)}, {}, {ev(11000)}, {}});
      a.with_watermark(&Ev::time, 2s).name("a").foreach_batch([](const auto&, rill::Time) {});
      b.with_watermark(&Ev::time, 0s).name("b").foreach_batch([](const auto&, rill::Time) {});
      return c;
    });
    ctx->add_listener(recorder);
    rill::testing::run_until(*ctx, *clock, rill::Time{until});
    ctx->stop(rill::StopOptions{.graceful = false});
    return recorder->watermarks();
  }

  fs::path dir_;
};

}  // namespace

TEST_F(WatermarkRecovery, ARestartContinuesWithTheGlobalAndPerInputWatermarks) {
  const auto uninterrupted = run(5000);
  EXPECT_EQ(uninterrupted, (std::vector<Wm>{no_watermark, no_watermark, 5000, 5000, 8000}));
  fs::remove_all(dir_);
  const auto first = run(3000);
  EXPECT_EQ(first, (std::vector<Wm>{no_watermark, no_watermark, 5000}));
  // After the restart a's watermark (8000) must still be known: without it, b's 11000 alone
  // would not move the min policy's watermark past 5000.
  const auto second = run(5000);
  EXPECT_EQ(second, (std::vector<Wm>{5000, 8000}));
}
