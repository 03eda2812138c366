// Interval joins (shared/api.md, "Event time"): Spark's StreamingJoinSuite range-join and outer
// join cases translated to rill's batches. Rules: (tl, tr) match when tl + lower <= tr <= tl +
// upper; a pair is emitted once, in the batch of the later row; rows of a side with a watermark
// at or before wm(t - interval) are late; while both sides have watermarks, a left row leaves
// the state once wm(t) > tl + upper, a right row once wm(t) > tr - lower, and an outer side emits
// it then, with nullopt, if it never matched. The global watermark (min policy) is the one used.
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <rill/testing.hpp>

#include "support/checkpointed_run.hpp"
#include "support/state_recorder.hpp"
#include "support/table.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

/// (key, event time in s): the value is the event time, so outputs show which rows matched.
using JoinRow = std::pair<int, int>;
using JoinRows = std::vector<std::vector<JoinRow>>;

rill::Time row_time(const JoinRow& r) {
  return rill::Time{static_cast<std::int64_t>(r.second) * 1000};
}

using Inner = std::pair<int, std::pair<int, int>>;
using LeftOuter = std::pair<int, std::pair<int, std::optional<int>>>;
using RightOuter = std::pair<int, std::pair<std::optional<int>, int>>;
using FullOuter = std::pair<int, std::pair<std::optional<int>, std::optional<int>>>;

constexpr auto absent = std::nullopt;

/// (keys, late_records) of the operator named `name`, per batch.
using rill_test::record_state;

using rill_test::config;

}  // namespace

TEST(IntervalJoin, RangeConditionWithWatermarksOnBothSides) {
  // StreamingJoinSuite "stream stream inner join with time range - with watermark - two side
  // conditions": leftTime BETWEEN rightTime - 10 s AND rightTime + 5 s, i.e. tl - 5 s <= tr <=
  // tl + 10 s: lower = -5 s, upper = 10 s. Delays: left 20 s, right 30 s.
  rill::testing::Harness h{config()};
  auto state = record_state(h, "joined");
  auto left =
      h.input<JoinRow>(
           {{{1, 20}}, {{1, 49}, {1, 50}, {1, 65}, {1, 66}}, {}, {{1, 20}, {1, 21}}, {{1, 31}}})
          .with_watermark(&row_time, 20s);
  auto right = h.input<JoinRow>(
                    {{{1, 14}, {1, 15}, {1, 25}, {1, 26}, {1, 30}, {1, 31}}, {{1, 60}}, {}, {}, {}})
                   .with_watermark(&row_time, 30s);
  auto out = h.collect(left.interval_join(right, -5s, 10s).name("joined"));
  h.run_batches(5);
  // 1000: tl = 20 matches tr in [15, 30]. 2000: tr = 60 matches tl in [50, 65]; global wm after
  // it: min(66 - 20, 60 - 30) = 30 s. 3000: wm(t) = 30 s: left rows stay while 30 <= tl + 10
  // (20 stays, as in Spark: "retain >= 20"), right rows leave when 30 > tr + 5 (14 and 15 go:
  // "drop < 25"). 4000: left 20 and 21 are <= wm(3000) = 30 s: late (Spark's join filters
  // late rows against the state watermark instead; rill applies one rule to every operator).
  // 5000: tl = 31 matches the right rows still kept in [26, 41]: 26, 30, 31.
  EXPECT_EQ(out.sorted_batches(), (std::vector<std::vector<Inner>>{
                                      {{1, {20, 15}}, {1, {20, 25}}, {1, {20, 26}}, {1, {20, 30}}},
                                      {{1, {50, 60}}, {1, {65, 60}}},
                                      {},
                                      {},
                                      {{1, {31, 26}}, {1, {31, 30}}, {1, {31, 31}}}}));
  EXPECT_EQ(state->keys(), (std::vector<std::int64_t>{7, 12, 10, 10, 11}));
  EXPECT_EQ(state->late(), (std::vector<std::int64_t>{0, 0, 0, 2, 0}));
}

namespace {

// Spark's StreamingOuterJoinSuite range-condition case, re-timed: both delays 10 s,
// leftTime BETWEEN rightTime - 5 s AND rightTime + 5 s (lower = -5 s, upper = 5 s).
//   1000: left (1,5), (3,5).                 global wm: none (right has none yet)
//   2000: right (1,10) matches left 5; (2,5). global: min(-5, 0) = -5 s
//   3000: right (1,11): 11 > 5 + 5, no match. global: min(-5, 1) = -5 s
//   4000: left (1,7) matches right 10 and 11; (1,30).  global: min(20, 1) = 1 s
//   5000: right (0,30).                       global: min(20, 20) = 20 s
//   6000: wm(t) = 20 s: left rows with 20 > tl + 5 leave (5, 5, 7: (3,5) never matched); right
//         rows with 20 > tr + 5 leave (10, 5, 11: (2,5) never matched). Kept: left 30, right 30.
//   7000: left (0,27) matches right 30 (in [22, 32]); right (5,15) is late (<= wm(6000) = 20 s).
JoinRows outer_left() {
  return {{{1, 5}, {3, 5}}, {}, {}, {{1, 7}, {1, 30}}, {}, {}, {{0, 27}}};
}
JoinRows outer_right() {
  return {{}, {{1, 10}, {2, 5}}, {{1, 11}}, {}, {{0, 30}}, {}, {{5, 15}}};
}
const std::vector<std::int64_t> outer_rows{2, 4, 5, 7, 8, 2, 3};
const std::vector<std::int64_t> outer_late{0, 0, 0, 0, 0, 0, 1};

}  // namespace

TEST(IntervalJoin, InnerJoinOfTheOuterCase) {
  rill::testing::Harness h{config()};
  auto state = record_state(h, "joined");
  auto left = h.input<JoinRow>(outer_left()).with_watermark(&row_time, 10s);
  auto right = h.input<JoinRow>(outer_right()).with_watermark(&row_time, 10s);
  auto out = h.collect(left.interval_join(right, -5s, 5s).name("joined"));
  h.run_batches(7);
  EXPECT_EQ(out.sorted_batches(),
            (std::vector<std::vector<Inner>>{
                {}, {{1, {5, 10}}}, {}, {{1, {7, 10}}, {1, {7, 11}}}, {}, {}, {{0, {27, 30}}}}));
  EXPECT_EQ(state->keys(), outer_rows);
  EXPECT_EQ(state->late(), outer_late);
}

TEST(IntervalJoin, LeftOuterEmitsUnmatchedLeftRowsWhenTheyLeaveTheState) {
  rill::testing::Harness h{config()};
  auto state = record_state(h, "joined");
  auto left = h.input<JoinRow>(outer_left()).with_watermark(&row_time, 10s);
  auto right = h.input<JoinRow>(outer_right()).with_watermark(&row_time, 10s);
  auto out = h.collect(left.interval_left_outer_join(right, -5s, 5s).name("joined"));
  h.run_batches(7);
  EXPECT_EQ(out.sorted_batches(), (std::vector<std::vector<LeftOuter>>{{},
                                                                       {{1, {5, 10}}},
                                                                       {},
                                                                       {{1, {7, 10}}, {1, {7, 11}}},
                                                                       {},
                                                                       {{3, {5, absent}}},
                                                                       {{0, {27, 30}}}}));
  EXPECT_EQ(state->keys(), outer_rows);
  EXPECT_EQ(state->late(), outer_late);
}

TEST(IntervalJoin, RightOuterEmitsUnmatchedRightRowsWhenTheyLeaveTheState) {
  rill::testing::Harness h{config()};
  auto left = h.input<JoinRow>(outer_left()).with_watermark(&row_time, 10s);
  auto right = h.input<JoinRow>(outer_right()).with_watermark(&row_time, 10s);
  auto out = h.collect(left.interval_right_outer_join(right, -5s, 5s));
  h.run_batches(7);
  EXPECT_EQ(out.sorted_batches(),
            (std::vector<std::vector<RightOuter>>{{},
                                                  {{1, {5, 10}}},
                                                  {},
                                                  {{1, {7, 10}}, {1, {7, 11}}},
                                                  {},
                                                  {{2, {absent, 5}}},
                                                  {{0, {27, 30}}}}));
}

TEST(IntervalJoin, FullOuterEmitsUnmatchedRowsOfBothSides) {
  rill::testing::Harness h{config()};
  auto left = h.input<JoinRow>(outer_left()).with_watermark(&row_time, 10s);
  auto right = h.input<JoinRow>(outer_right()).with_watermark(&row_time, 10s);
  auto out = h.collect(left.interval_full_outer_join(right, -5s, 5s));
  h.run_batches(7);
  EXPECT_EQ(out.sorted_batches(),
            (std::vector<std::vector<FullOuter>>{{},
                                                 {{1, {5, 10}}},
                                                 {},
                                                 {{1, {7, 10}}, {1, {7, 11}}},
                                                 {},
                                                 {{2, {absent, 5}}, {3, {5, absent}}},
                                                 {{0, {27, 30}}}}));
}

TEST(IntervalJoin, NewRowsOfBothSidesInOneBatchMatchOnceAndAnUnmatchedRowCanLeaveAtOnce) {
  // Delay 0 on both sides, lower = upper = 0 (equal times match).
  //   1000: left (1,10), right (1,10), (1,10): two pairs, each once. Global wm 10 s.
  //   2000: left (2,4) is not late (wm(1000) is none) but leaves in this very batch, unmatched:
  //         wm(t) = 10 s > 4 + 0. The rows at 10 stay (10 > 10 is false).
  //   3000: right (2,4) is late (<= wm(2000) = 10 s).
  rill::testing::Harness h{config()};
  auto state = record_state(h, "joined");
  auto left = h.input<JoinRow>({{{1, 10}}, {{2, 4}}, {}}).with_watermark(&row_time, 0s);
  auto right = h.input<JoinRow>({{{1, 10}, {1, 10}}, {}, {{2, 4}}}).with_watermark(&row_time, 0s);
  auto out = h.collect(left.interval_left_outer_join(right, 0s, 0s).name("joined"));
  h.run_batches(3);
  EXPECT_EQ(out.sorted_batches(), (std::vector<std::vector<LeftOuter>>{
                                      {{1, {10, 10}}, {1, {10, 10}}}, {{2, {4, absent}}}, {}}));
  EXPECT_EQ(state->keys(), (std::vector<std::int64_t>{3, 3, 3}));
  EXPECT_EQ(state->late(), (std::vector<std::int64_t>{0, 0, 1}));
}

TEST(IntervalJoin, ASideWithoutAWatermarkIsNeverLateAndNoRowLeavesTheState) {
  // Left has a watermark (delay 0), right only an event time; lower = -10 s, upper = 0.
  //   1000: left (1,10). Global wm 10 s (the left input alone).
  //   2000: right (1,2) matches left 10 (2 in [0, 10]).
  //   3000: left (1,5) is late (<= wm(2000) = 10 s); right (1,1) is never late: matches 10.
  //   4000: left (1,30): global 30 s. 5000: wm(t) = 30 s > 10 + 0, but the right side has no
  //   watermark, so nothing leaves. 6000: right (1,0) still matches left 10.
  rill::testing::Harness h{config()};
  auto state = record_state(h, "joined");
  auto left =
      h.input<JoinRow>({{{1, 10}}, {}, {{1, 5}}, {{1, 30}}, {}, {}}).with_watermark(&row_time, 0s);
  auto right =
      h.input<JoinRow>({{}, {{1, 2}}, {{1, 1}}, {}, {}, {{1, 0}}}).with_event_time(&row_time);
  auto out = h.collect(left.interval_join(right, -10s, 0s).name("joined"));
  h.run_batches(6);
  EXPECT_EQ(out.sorted_batches(), (std::vector<std::vector<Inner>>{
                                      {}, {{1, {10, 2}}}, {{1, {10, 1}}}, {}, {}, {{1, {10, 0}}}}));
  EXPECT_EQ(state->keys(), (std::vector<std::int64_t>{1, 2, 3, 4, 4, 5}));
  EXPECT_EQ(state->late(), (std::vector<std::int64_t>{0, 0, 1, 0, 0, 0}));
}

TEST(IntervalJoin, LateLeftRowsGoToTheLeftSideOutput) {
  // The range case above: at 4000 the left rows 20 and 21 are late (<= wm(3000) = 30 s). The
  // left side output holds exactly them, in that batch (an empty batch elsewhere); the right one
  // nothing; together they are the operator's StateInfo::late_records.
  rill::testing::Harness h{config()};
  auto state = record_state(h, "joined");
  auto left =
      h.input<JoinRow>(
           {{{1, 20}}, {{1, 49}, {1, 50}, {1, 65}, {1, 66}}, {}, {{1, 20}, {1, 21}}, {{1, 31}}})
          .with_watermark(&row_time, 20s);
  auto right = h.input<JoinRow>(
                    {{{1, 14}, {1, 15}, {1, 25}, {1, 26}, {1, 30}, {1, 31}}, {{1, 60}}, {}, {}, {}})
                   .with_watermark(&row_time, 30s);
  auto joined = left.interval_join(right, -5s, 10s).name("joined");
  auto out = h.collect(joined);
  auto left_late = h.collect(joined.left_late_records());
  auto right_late = h.collect(joined.right_late_records());
  h.run_batches(5);
  using Late = std::vector<std::vector<JoinRow>>;
  EXPECT_EQ(left_late.sorted_batches(), (Late{{}, {}, {}, {{1, 20}, {1, 21}}, {}}));
  EXPECT_EQ(right_late.sorted_batches(), (Late{{}, {}, {}, {}, {}}));
  EXPECT_EQ(state->late(), (std::vector<std::int64_t>{0, 0, 0, 2, 0}));
  // The joined rows are those of the case without side outputs.
  EXPECT_EQ(out.sorted_batches(), (std::vector<std::vector<Inner>>{
                                      {{1, {20, 15}}, {1, {20, 25}}, {1, {20, 26}}, {1, {20, 30}}},
                                      {{1, {50, 60}}, {1, {65, 60}}},
                                      {},
                                      {},
                                      {{1, {31, 26}}, {1, {31, 30}}, {1, {31, 31}}}}));
}

TEST(IntervalJoin, LateRightRowsGoToTheRightSideOutputOfAnOuterJoin) {
  // The outer case: at 7000 the right row (5,15) is late (<= wm(6000) = 20 s). Asked twice, a
  // side output is the same stream (collected twice, the same rows).
  rill::testing::Harness h{config()};
  auto state = record_state(h, "joined");
  auto left = h.input<JoinRow>(outer_left()).with_watermark(&row_time, 10s);
  auto right = h.input<JoinRow>(outer_right()).with_watermark(&row_time, 10s);
  auto joined = left.interval_full_outer_join(right, -5s, 5s).name("joined");
  auto right_late = h.collect(joined.right_late_records());
  auto again = h.collect(joined.right_late_records());
  auto left_late = h.collect(joined.left_late_records());
  h.run_batches(7);
  using Late = std::vector<std::vector<JoinRow>>;
  EXPECT_EQ(right_late.sorted_batches(), (Late{{}, {}, {}, {}, {}, {}, {{5, 15}}}));
  EXPECT_EQ(again.sorted_batches(), right_late.sorted_batches());
  EXPECT_EQ(left_late.sorted_batches(), (Late{{}, {}, {}, {}, {}, {}, {}}));
  EXPECT_EQ(state->late(), outer_late);
  EXPECT_EQ(state->keys(), outer_rows);
}

TEST(IntervalJoin, ASideOutputCannotBeAddedAfterStart) {
  rill::testing::Harness h{config()};
  auto left = h.input<JoinRow>({{}}).with_watermark(&row_time, 1s);
  auto right = h.input<JoinRow>({{}}).with_watermark(&row_time, 1s);
  auto joined = left.interval_join(right, 0s, 1s);
  auto out = h.collect(joined);
  h.run_batches(1);
  EXPECT_THROW((void)joined.left_late_records(), rill::IllegalState);
}

TEST(IntervalJoin, InvalidCallsAreRefusedNamingWhatToChange) {
  rill::testing::Harness h{config()};
  auto with_wm = h.input<JoinRow>({{}}).with_watermark(&row_time, 1s);
  auto no_wm = h.input<JoinRow>({{}}).with_event_time(&row_time);
  const auto message = [](auto call) {
    try {
      call();
    } catch (const rill::InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no rill::InvalidArgument");
  };
  auto m = message([&] { (void)with_wm.interval_left_outer_join(no_wm, 0s, 1s); });
  EXPECT_NE(m.find("interval_left_outer_join"), std::string::npos) << m;
  EXPECT_NE(m.find("the right stream"), std::string::npos) << m;
  EXPECT_NE(m.find("with_watermark"), std::string::npos) << m;
  m = message([&] { (void)no_wm.interval_right_outer_join(with_wm, 0s, 1s); });
  EXPECT_NE(m.find("the left stream"), std::string::npos) << m;
  m = message([&] { (void)with_wm.interval_full_outer_join(with_wm, 5s, 1s); });
  EXPECT_NE(m.find("lower (5000 ms)"), std::string::npos) << m;
  EXPECT_NE(m.find("upper (1000 ms)"), std::string::npos) << m;
  // An inner join takes both: nothing can match with lower > upper, and a side without a
  // watermark keeps its rows.
  EXPECT_NO_THROW((void)with_wm.interval_join(with_wm, 5s, 1s));
  EXPECT_NO_THROW((void)no_wm.interval_join(with_wm, 0s, 1s));
  // Streams of another slide or of another context.
  auto slow = h.input<JoinRow>({{}}).window(2s, 2s).with_watermark(&row_time, 1s);
  m = message([&] { (void)with_wm.interval_join(slow, 0s, 1s); });
  EXPECT_NE(m.find("2000"), std::string::npos) << m;
  rill::testing::Harness other{config()};
  auto elsewhere = other.input<JoinRow>({{}}).with_watermark(&row_time, 1s);
  m = message([&] { (void)with_wm.interval_join(elsewhere, 0s, 1s); });
  EXPECT_NE(m.find("different contexts"), std::string::npos) << m;
}

namespace {

class IntervalJoinRecovery : public rill_test::CheckpointedRun {};

std::deque<std::vector<JoinRow>> queue(JoinRows rows) {
  return {std::make_move_iterator(rows.begin()), std::make_move_iterator(rows.end())};
}

}  // namespace

TEST_F(IntervalJoinRecovery, RestartsGiveTheOutputOfAnUninterruptedRun) {
  using Sink = std::map<rill::Time, std::vector<FullOuter>>;
  auto sink = std::make_shared<Sink>();
  auto build = [&](rill::StreamingContext& c) {
    auto left = c.queue_stream(queue(outer_left())).with_watermark(&row_time, 10s).name("left");
    auto right = c.queue_stream(queue(outer_right())).with_watermark(&row_time, 10s).name("right");
    left.interval_full_outer_join(right, -5s, 5s)
        .name("joined")
        .foreach_batch([sink](const rill::Batch<FullOuter>& b, rill::Time t) {
          auto rows = b.collect();
          std::sort(rows.begin(), rows.end());
          (*sink)[t] = std::move(rows);
        });
  };
  run(build, 7000);
  const Sink uninterrupted = *sink;
  EXPECT_EQ(uninterrupted, (Sink{{rill::Time{1000}, {}},
                                 {rill::Time{2000}, {{1, {5, 10}}}},
                                 {rill::Time{3000}, {}},
                                 {rill::Time{4000}, {{1, {7, 10}}, {1, {7, 11}}}},
                                 {rill::Time{5000}, {}},
                                 {rill::Time{6000}, {{2, {absent, 5}}, {3, {5, absent}}}},
                                 {rill::Time{7000}, {{0, {27, 30}}}}}));
  // Stops after 2000 and 4000: the rows kept then, with whether they matched, must come back
  // (else left 5 and 7 or right 10 and 11 would be emitted unmatched at 6000).
  fs::remove_all(dir_);
  sink->clear();
  run(build, 2000);
  run(build, 4000);
  run(build, 7000);
  EXPECT_EQ(*sink, uninterrupted);
}

TEST_F(IntervalJoinRecovery, ADeltaHoldsOnlyTheKeysThatChanged) {
  // The left side has no watermark: its 20,000 rows of the first batch stay. Each later batch
  // adds one row per side on keys 7 and 11.
  constexpr int kKeys = 20000;
  JoinRows left(8);
  JoinRows right(8);
  for (int k = 0; k < kKeys; ++k)
    left[0].emplace_back(k, 1);
  for (std::size_t b = 1; b < 8; ++b) {
    left[b] = {{7, 2}};
    right[b] = {{11, 2}};
  }
  auto sink = std::make_shared<std::map<rill::Time, std::size_t>>();
  auto build = [&](rill::StreamingContext& c) {
    auto l = c.queue_stream(queue(left)).with_event_time(&row_time);
    auto r = c.queue_stream(queue(right)).with_watermark(&row_time, 0s);
    l.interval_join(r, -1s, 1s)
        .name("joined")
        .foreach_batch(
            [sink](const rill::Batch<Inner>& b, rill::Time t) { (*sink)[t] = b.size(); });
  };
  run(build, 8000);
  const auto snapshot = size_of("snapshot-2000");
  EXPECT_GT(snapshot, 100000u);
  for (int b = 3; b <= 8; ++b) {
    SCOPED_TRACE(b);
    EXPECT_LT(size_of(fmt::format("delta-{}", b * 1000)), snapshot / 100);
  }
  // Right 11 @ 2 s matches left 11 @ 1 s (1 - 1 <= 2 <= 1 + 1) in 2000 and 3000; from 4000 on it
  // is late: the global watermark (the right input's alone) is 2 s from the end of 2000, so
  // wm(4000 - interval) = 2 s.
  EXPECT_EQ(*sink, (std::map<rill::Time, std::size_t>{{rill::Time{1000}, 0},
                                                      {rill::Time{2000}, 1},
                                                      {rill::Time{3000}, 1},
                                                      {rill::Time{4000}, 0},
                                                      {rill::Time{5000}, 0},
                                                      {rill::Time{6000}, 0},
                                                      {rill::Time{7000}, 0},
                                                      {rill::Time{8000}, 0}}));
}
