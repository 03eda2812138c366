// aggregate_by_window over tumbling and sliding windows (shared/api.md, "Event time"): Spark's
// EventTimeWatermarkSuite cases in the three output modes, translated to rill's batches (rill
// runs every batch, so Spark's no-data batch is an empty input batch here), the sliding case
// where a late row still counts in a window that is open, late_records(), state sizes, the
// seed's sensor tables, parallelism, and recovery from a checkpoint.
#include <algorithm>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

#include "support/checkpointed_run.hpp"
#include "support/state_recorder.hpp"
#include "support/table.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using rill::OutputMode;
using rill::Time;
using rill::TimeWindow;

/// Spark's MemoryStream[Int] of seconds: the event time is the value in seconds.
struct Sec {
  std::int64_t value;
  auto operator<=>(const Sec&) const = default;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(value);
  }
};
Time event_time(const Sec& s) {
  return Time{s.value * 1000};
}

using Counted = rill::Windowed<std::monostate, std::int64_t>;

Counted counted(std::int64_t start_s, std::int64_t end_s, std::int64_t n) {
  return Counted{TimeWindow{Time{start_s * 1000}, Time{end_s * 1000}}, {}, n};
}

std::vector<std::vector<Sec>> seconds(std::vector<std::vector<std::int64_t>> in) {
  std::vector<std::vector<Sec>> out;
  for (auto& b : in) {
    out.emplace_back();
    for (auto v : b)
      out.back().push_back(Sec{v});
  }
  return out;
}

using rill_test::config;

}  // namespace

// EventTimeWatermarkSuite, "append mode": withWatermark 10 s, window 5 s, count(*).
TEST(WindowAggregate, SparkAppendModeEmitsAWindowOnceTheWatermarkPassesItsEnd) {
  rill::testing::Harness h{config()};
  auto states = std::make_shared<rill_test::StateRecorder>("counts");
  h.context().add_listener(states);
  auto in = h.input<Sec>(seconds({{10, 11, 12, 13, 14, 15}, {25}, {}, {10}}));
  auto counts = in.with_watermark(&event_time, 10s)
                    .aggregate_by_window(rill::tumbling(5s), rill::agg::count())
                    .name("counts");
  auto out = h.collect(counts);
  auto late = h.collect(counts.late_records());
  h.run_batches(4);
  // Batch 1: wm none. Batch 2: wm 5 s (15 - 10). Batch 3 (Spark's no-data batch): wm 15 s closes
  // [10,15). Batch 4: the row at 10 s is late (its window ended by wm(3000) = 15 s).
  EXPECT_EQ(out.batches(), (std::vector<std::vector<Counted>>{{}, {}, {counted(10, 15, 5)}, {}}));
  EXPECT_EQ(late.batches(), (std::vector<std::vector<Sec>>{{}, {}, {}, {Sec{10}}}));
  // assertNumStateRows(2) after the emission; the late row changes nothing.
  EXPECT_EQ(states->keys(), (std::vector<std::int64_t>{2, 3, 2, 2}));
  EXPECT_EQ(states->late(), (std::vector<std::int64_t>{0, 0, 0, 1}));
}

// EventTimeWatermarkSuite, "update mode".
TEST(WindowAggregate, SparkUpdateModeEmitsTheWindowsThatChanged) {
  rill::testing::Harness h{config()};
  auto states = std::make_shared<rill_test::StateRecorder>("counts");
  h.context().add_listener(states);
  auto in = h.input<Sec>(seconds({{10, 11, 12, 13, 14, 15}, {25}, {}, {10, 25, 26, 27}}));
  auto counts = in.with_watermark(&event_time, 10s)
                    .aggregate_by_window(rill::tumbling(5s), rill::agg::count(), OutputMode::update)
                    .name("counts");
  auto out = h.collect(counts);
  h.run_batches(4);
  EXPECT_EQ(out.sorted_batches(),
            (std::vector<std::vector<Counted>>{{counted(10, 15, 5), counted(15, 20, 1)},
                                               {counted(25, 30, 1)},
                                               {},
                                               {counted(25, 30, 4)}}));
  EXPECT_EQ(states->keys(), (std::vector<std::int64_t>{2, 3, 2, 2}));
  EXPECT_EQ(states->late(), (std::vector<std::int64_t>{0, 0, 0, 1}));
}

// EventTimeWatermarkSuite, "complete mode": nothing is dropped or evicted.
TEST(WindowAggregate, SparkCompleteModeEmitsEveryWindowEveryBatch) {
  rill::testing::Harness h{config()};
  auto in = h.input<Sec>(seconds({{10, 11, 12}, {25}, {25}, {10}, {25}}));
  auto out = h.collect(
      in.with_watermark(&event_time, 10s)
          .aggregate_by_window(rill::tumbling(5s), rill::agg::count(), OutputMode::complete));
  h.run_batches(5);
  EXPECT_EQ(out.sorted_batches(),
            (std::vector<std::vector<Counted>>{{counted(10, 15, 3)},
                                               {counted(10, 15, 3), counted(25, 30, 1)},
                                               {counted(10, 15, 3), counted(25, 30, 2)},
                                               {counted(10, 15, 4), counted(25, 30, 2)},
                                               {counted(10, 15, 4), counted(25, 30, 3)}}));
}

// A row late for some of its sliding windows still counts in those that are open.
TEST(WindowAggregate, ALateRowStillCountsInItsOpenSlidingWindows) {
  rill::testing::Harness h{config()};
  auto in = h.input<Sec>(seconds({{20, 12}, {}, {16}, {30}, {}}));
  auto counts = in.with_watermark(&event_time, 0s)
                    .aggregate_by_window(rill::sliding(10s, 5s), rill::agg::count());
  auto out = h.collect(counts);
  auto late = h.collect(counts.late_records());
  h.run_batches(5);
  // wm(2000) = 20 s closes [5,15) and [10,20), which hold the row at 12 s (the row at 20 s is in
  // [15,25) and [20,30): windows are half-open). In batch 3 the row at 16 s is late for [10,20)
  // (ended by wm(2000) = 20 s) but counts in [15,25); it is not a late record, as one of its
  // windows took it. wm(5000) = 30 s closes [15,25) and [20,30).
  EXPECT_EQ(out.sorted_batches(),
            (std::vector<std::vector<Counted>>{{},
                                               {counted(5, 15, 1), counted(10, 20, 1)},
                                               {},
                                               {},
                                               {counted(15, 25, 2), counted(20, 30, 1)}}));
  EXPECT_EQ(late.batches(), (std::vector<std::vector<Sec>>{{}, {}, {}, {}, {}}));
}

namespace {

struct Reading {
  std::string sensor;
  Time time;
  double celsius;
  auto operator<=>(const Reading&) const = default;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(sensor, time, celsius);
  }
};

/// The seed's readings 20 22 23 21 24 25 27 26 28 30 32 at seconds 1..11 of sensor `s`, in
/// batches of `per_batch`, shuffled within each batch by `seed` (0: in order).
std::vector<std::vector<Reading>> seed_readings(const std::string& s, std::size_t per_batch,
                                                unsigned seed = 0) {
  const double c[] = {20, 22, 23, 21, 24, 25, 27, 26, 28, 30, 32};
  std::vector<std::vector<Reading>> out;
  for (std::size_t i = 0; i < 11; ++i) {
    if (i % per_batch == 0) out.emplace_back();
    out.back().push_back(Reading{s, Time{static_cast<std::int64_t>(i + 1) * 1000}, c[i]});
  }
  if (seed != 0) {
    std::mt19937 rng(seed);
    for (auto& b : out)
      std::shuffle(b.begin(), b.end(), rng);
  }
  return out;
}

using Mean = rill::Windowed<std::string, double>;

/// The windows of `batches` that lie within seconds 1..11 (the seed's tables).
std::vector<Mean> inside_the_readings(const std::vector<std::vector<Mean>>& batches) {
  std::vector<Mean> out;
  for (const auto& b : batches) {
    if (b.empty()) continue;
    for (const auto& w : b) {
      if (w.window.start >= Time{1000} && w.window.end <= Time{12000}) out.push_back(w);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST(WindowAggregate, TheSeedsTumblingTable) {
  rill::testing::Harness h{config()};
  auto in = h.input<Reading>(seed_readings("s1", 3));
  auto out = h.collect(in.with_watermark(&Reading::time, 0s)
                           .aggregate_by_window(rill::tumbling(5s, 1s), &Reading::sensor,
                                                rill::agg::mean(&Reading::celsius)));
  h.run_batches(6);
  const auto got = inside_the_readings(out.batches());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].window, (TimeWindow{Time{1000}, Time{6000}}));
  EXPECT_DOUBLE_EQ(got[0].value, 22.0);
  EXPECT_EQ(got[1].window, (TimeWindow{Time{6000}, Time{11000}}));
  EXPECT_DOUBLE_EQ(got[1].value, 27.2);
}

TEST(WindowAggregate, TheSeedsSlidingTableInAnyArrivalOrderAndParallelism) {
  for (std::size_t parallelism : {1u, 2u, 3u}) {
    for (unsigned seed : {0u, 7u}) {
      rill::testing::Harness h{config(parallelism)};
      auto in = h.input<Reading>(seed_readings("s1", 4, seed));
      // Complete mode: the watermark (11 s - 3 s) never passes the last windows' ends, so the
      // last batch shows every window's final value.
      auto out = h.collect(in.with_watermark(&Reading::time, 3s)
                               .aggregate_by_window(rill::sliding(5s, 2s, 1s), &Reading::sensor,
                                                    rill::agg::mean(&Reading::celsius),
                                                    OutputMode::complete));
      h.run_batches(4);
      const auto got = inside_the_readings({out.batches().back()});
      ASSERT_EQ(got.size(), 4u) << "parallelism " << parallelism;
      const double expected[] = {22, 24, 26, 28.6};
      for (std::size_t i = 0; i < 4; ++i) {
        const auto start = static_cast<std::int64_t>(1000 + 2000 * i);
        EXPECT_EQ(got[i].window, (TimeWindow{Time{start}, Time{start + 5000}}));
        EXPECT_EQ(got[i].key, "s1");
        EXPECT_NEAR(got[i].value, expected[i], 1e-9);
      }
    }
  }
}

TEST(WindowAggregate, KeysAggregateSeparatelyWithAnyAggregator) {
  rill::testing::Harness h{config(3)};
  auto a = seed_readings("a", 11)[0];
  auto b = seed_readings("b", 11)[0];
  std::vector<Reading> both;
  for (std::size_t i = 0; i < a.size(); ++i) {
    both.push_back(a[i]);
    b[i].celsius += 100;
    both.push_back(b[i]);
  }
  auto in = h.input<Reading>({both, {}});
  using All =
      rill::Windowed<std::string, std::tuple<std::int64_t, double, double, std::vector<double>>>;
  auto out = h.collect(
      in.with_watermark(&Reading::time, 0s)
          .aggregate_by_window(rill::tumbling(10s), &Reading::sensor,
                               rill::agg::all(rill::agg::count(), rill::agg::max(&Reading::celsius),
                                              rill::agg::sum(&Reading::celsius),
                                              rill::agg::collect(&Reading::celsius))));
  h.run_batches(2);
  auto got = out.sorted_batches();
  ASSERT_EQ(got.size(), 2u);
  // wm(2000) = 11 s closes [0,10): the 9 readings of seconds 1..9 of each sensor.
  ASSERT_EQ(got[1].size(), 2u);
  EXPECT_EQ(got[1][0], (All{TimeWindow{Time{0}, Time{10000}},
                            "a",
                            {9, 28, 216, {20, 22, 23, 21, 24, 25, 27, 26, 28}}}));
  EXPECT_EQ(got[1][1], (All{TimeWindow{Time{0}, Time{10000}},
                            "b",
                            {9, 128, 1116, {120, 122, 123, 121, 124, 125, 127, 126, 128}}}));
}

TEST(WindowAggregate, AppendModeNeedsAWatermark) {
  rill::testing::Harness h{config()};
  auto in = h.input<Sec>({{}});
  try {
    (void)in.with_event_time(&event_time)
        .aggregate_by_window(rill::tumbling(5s), rill::agg::count());
    FAIL() << "append mode without a watermark was accepted";
  } catch (const rill::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("watermark"), std::string::npos) << e.what();
  }
}

TEST(WindowAggregate, WithoutAWatermarkUpdateModeDropsAndEvictsNothing) {
  rill::testing::Harness h{config()};
  auto in = h.input<Sec>(seconds({{100}, {1}, {100}}));
  auto out = h.collect(
      in.with_event_time(&event_time)
          .aggregate_by_window(rill::tumbling(5s), rill::agg::count(), OutputMode::update));
  h.run_batches(3);
  EXPECT_EQ(out.sorted_batches(),
            (std::vector<std::vector<Counted>>{
                {counted(100, 105, 1)}, {counted(0, 5, 1)}, {counted(100, 105, 2)}}));
}

namespace {

class WindowAggregateRecovery : public rill_test::CheckpointedRun {
 protected:
  /// Runs the keyed sliding aggregation over random out-of-order input up to batch `until`, with
  /// checkpoints; appends what it emits (and the late rows) to `out`.
  void run(std::int64_t until, std::vector<std::string>& out, OutputMode mode) {
    auto sink = std::make_shared<std::vector<std::string>>();
    CheckpointedRun::run(
        [&](rill::StreamingContext& context) {
          std::deque<std::vector<Reading>> batches;
          std::mt19937 rng(42);
          for (int b = 0; b < 12; ++b) {
            std::vector<Reading> rows;
            for (int i = 0; i < 20; ++i) {
              const auto e = b * 1000 + static_cast<std::int64_t>(rng() % 4000) - 2000;
              rows.push_back(Reading{std::string(1, static_cast<char>('a' + rng() % 3)), Time{e},
                                     static_cast<double>(rng() % 100)});
            }
            batches.push_back(rows);
          }
          auto agg = context.queue_stream<Reading>(std::move(batches))
                         .with_watermark(&Reading::time, 1s)
                         .name("readings")
                         .aggregate_by_window(rill::sliding(4s, 2s), &Reading::sensor,
                                              rill::agg::sum(&Reading::celsius), mode)
                         .name("sums");
          agg.foreach_batch([sink](const auto& batch, Time t) {
            std::vector<std::string> lines;
            for (const auto& w : batch)
              lines.push_back(fmt::format("{} {}", t, fmt::format("{}", w)));
            std::sort(lines.begin(), lines.end());
            sink->insert(sink->end(), lines.begin(), lines.end());
          });
          agg.late_records().foreach_batch([sink](const auto& batch, Time t) {
            for (const auto& r : batch)
              sink->push_back(fmt::format("{} late {} {}", t, r.sensor, r.time.milliseconds()));
          });
        },
        until, 3);
    out.insert(out.end(), sink->begin(), sink->end());
  }
};

}  // namespace

TEST_F(WindowAggregateRecovery, RestartsGiveTheUninterruptedOutput) {
  for (OutputMode mode : {OutputMode::append, OutputMode::update, OutputMode::complete}) {
    std::vector<std::string> uninterrupted;
    run(14000, uninterrupted, mode);
    fs::remove_all(dir_);
    std::vector<std::string> restarted;
    // Each run writes a snapshot first (snapshot interval 3): these stops restart from a
    // snapshot and one or two deltas.
    for (std::int64_t until : {2000, 5000, 7000, 10000, 14000})
      run(until, restarted, mode);
    fs::remove_all(dir_);
    EXPECT_EQ(restarted, uninterrupted) << "mode " << static_cast<int>(mode);
    EXPECT_FALSE(uninterrupted.empty());
  }
}
