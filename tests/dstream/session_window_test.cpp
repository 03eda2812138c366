// aggregate_by_window over session windows (shared/api.md, "Event time"): Spark's
// StreamingSessionWindowSuite cases in append and complete mode translated to rill's batches
// (rill runs every batch, so Spark's no-data batch is an empty input batch here), a late row that
// bridges two stored sessions, per-row gaps, several keys at any parallelism, the calls that
// throw, state sizes and late rows through a listener, and recovery from a checkpoint.
#include <algorithm>
#include <deque>
#include <filesystem>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
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

/// One word of a line of Spark's MemoryStream[(String, Long)] after `explode(split(value, ' '))`:
/// the word is the session key, the event time is the line's seconds.
struct Event {
  std::string word;
  Time time;
  auto operator<=>(const Event&) const = default;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(word, time);
  }
};

/// The words of `line` at event time `seconds`.
std::vector<Event> line(const std::string& text, std::int64_t seconds) {
  std::vector<Event> out;
  std::istringstream in(text);
  std::string word;
  while (in >> word)
    out.push_back(Event{word, Time{seconds * 1000}});
  return out;
}

/// Several lines in one batch.
std::vector<Event> lines(std::initializer_list<std::vector<Event>> parts) {
  std::vector<Event> out;
  for (const auto& p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

using SessionCounted = rill::Windowed<std::string, std::int64_t>;

/// Spark's `(sessionId, start, end, durationMs, numEvents)` without the duration.
SessionCounted session(const std::string& key, std::int64_t start_s, std::int64_t end_s,
                       std::int64_t n) {
  return SessionCounted{TimeWindow{Time{start_s * 1000}, Time{end_s * 1000}}, key, n};
}

std::vector<SessionCounted> sorted(std::vector<SessionCounted> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<Event> sorted_events(std::vector<Event> v) {
  std::sort(v.begin(), v.end());
  return v;
}

using rill_test::config;

/// The batches of StreamingSessionWindowSuite's append-mode cases, plus the empty batch that
/// plays Spark's last no-data batch.
std::vector<std::vector<Event>> spark_append_batches() {
  return {lines({line("hello world spark streaming", 40),
                 line("world hello structured streaming", 41)}),
          line("spark streaming", 25),
          line("spark streaming", 0),
          line("spark streaming", 30),
          line("hello apache spark", 60),
          line("structured streaming", 90),
          {}};
}

}  // namespace

// StreamingSessionWindowSuite, "append mode - session window": withWatermark 30 s, gap 10 s,
// count(*).
TEST(SessionWindow, SparkAppendModeEmitsASessionOnceTheWatermarkPassesItsEnd) {
  rill::testing::Harness h{config()};
  auto states = std::make_shared<rill_test::StateRecorder>("sessions");
  h.context().add_listener(states);
  auto in = h.input<Event>(spark_append_batches());
  auto counts = in.with_watermark(&Event::time, 30s)
                    .aggregate_by_window(rill::session(10s), &Event::word, rill::agg::count())
                    .name("sessions");
  auto out = h.collect(counts);
  auto late = h.collect(counts.late_records());
  h.run_batches(7);
  // Batch 1: no watermark yet. hello, world, streaming [40,51) 2 each (41 touches [40,50)),
  // spark [40,50) 1, structured [41,51) 1. The watermark becomes 41 - 30 = 11.
  // Batch 2: wm 11; spark and streaming get [25,35) before their sessions: 7 sessions.
  // Batch 3: late bound wm(2000) = 11: the rows at 0 s start [0,10), 10 <= 11: both late.
  // Batch 4: the rows at 30 s start [30,40), which touches [25,35) and [40,50): spark [25,50) 3,
  // streaming [25,51) 4 (its [40,51) ends later): 5 sessions.
  // Batch 5: [60,70) for hello, apache, spark: 8 sessions; the watermark becomes 30.
  // Batch 6: wm 30 closes nothing (the first sessions end at 50 and 51); structured and
  // streaming get [90,100): 10 sessions; the watermark becomes 60.
  // Batch 7 (Spark's no-data batch): wm 60 closes the five sessions that end by 51.
  auto got = out.sorted_batches();
  ASSERT_EQ(got.size(), 7u);
  for (std::size_t b = 0; b < 6; ++b)
    EXPECT_TRUE(got[b].empty()) << "batch " << b + 1;
  EXPECT_EQ(got[6], sorted({session("spark", 25, 50, 3), session("streaming", 25, 51, 4),
                            session("hello", 40, 51, 2), session("world", 40, 51, 2),
                            session("structured", 41, 51, 1)}));
  EXPECT_EQ(late.sorted_batches(),
            (std::vector<std::vector<Event>>{
                {}, {}, sorted_events(line("spark streaming", 0)), {}, {}, {}, {}}));
  // Spark's assertNumRowsDroppedByWatermark(2) in batch 3; the sessions left after each batch.
  EXPECT_EQ(states->late(), (std::vector<std::int64_t>{0, 0, 2, 0, 0, 0, 0}));
  EXPECT_EQ(states->keys(), (std::vector<std::int64_t>{5, 7, 7, 5, 8, 10, 5}));
}

// StreamingSessionWindowSuite, "complete mode - session window": every session, every batch.
TEST(SessionWindow, SparkCompleteModeEmitsEverySessionEveryBatch) {
  rill::testing::Harness h{config()};
  auto in = h.input<Event>({lines({line("hello world spark streaming", 40),
                                   line("world hello structured streaming", 41)}),
                            line("spark streaming", 25), line("spark streaming", 30),
                            line("hello apache spark", 60), line("structured streaming", 90)});
  auto out = h.collect(in.with_watermark(&Event::time, 30s)
                           .aggregate_by_window(rill::session(10s), &Event::word,
                                                rill::agg::count(), OutputMode::complete));
  h.run_batches(5);
  const std::vector<SessionCounted> first = {
      session("hello", 40, 51, 2), session("world", 40, 51, 2), session("streaming", 40, 51, 2),
      session("spark", 40, 50, 1), session("structured", 41, 51, 1)};
  // Batch 2 places new sessions before the stored ones.
  std::vector<SessionCounted> second = first;
  second.push_back(session("spark", 25, 35, 1));
  second.push_back(session("streaming", 25, 35, 1));
  // Batch 3: [30,40) concatenates [25,35) and [40,5x) of spark and of streaming.
  std::vector<SessionCounted> third = {session("spark", 25, 50, 3), session("streaming", 25, 51, 4),
                                       session("hello", 40, 51, 2), session("world", 40, 51, 2),
                                       session("structured", 41, 51, 1)};
  // Batch 4 places new sessions after the stored ones; batch 5 too.
  std::vector<SessionCounted> fourth = third;
  fourth.push_back(session("hello", 60, 70, 1));
  fourth.push_back(session("apache", 60, 70, 1));
  fourth.push_back(session("spark", 60, 70, 1));
  std::vector<SessionCounted> fifth = fourth;
  fifth.push_back(session("structured", 90, 100, 1));
  fifth.push_back(session("streaming", 90, 100, 1));
  EXPECT_EQ(out.sorted_batches(),
            (std::vector<std::vector<SessionCounted>>{sorted(first), sorted(second), sorted(third),
                                                      sorted(fourth), sorted(fifth)}));
}

// StreamingSessionWindowSuite, "SPARK-36465: dynamic gap duration": hello 1 s, structured 0 s and
// world -10 s (dropped, counted as late), the other words 10 s.
TEST(SessionWindow, SparkDynamicGapDropsRowsWhoseGapIsNotPositive) {
  rill::testing::Harness h{config()};
  auto states = std::make_shared<rill_test::StateRecorder>("sessions");
  h.context().add_listener(states);
  auto in = h.input<Event>(spark_append_batches());
  auto gap_of = [](const Event& e) -> rill::Duration {
    if (e.word == "hello") return 1s;
    if (e.word == "structured") return 0s;
    if (e.word == "world") return -10s;
    return 10s;
  };
  auto counts = in.with_watermark(&Event::time, 30s)
                    .aggregate_by_window(rill::session(gap_of), &Event::word, rill::agg::count())
                    .name("sessions");
  auto out = h.collect(counts);
  auto late = h.collect(counts.late_records());
  h.run_batches(7);
  // Batch 1: hello [40,41) and [41,42) touch: [40,42) 2; streaming [40,51) 2; spark [40,50) 1;
  // world twice and structured once are dropped (gap <= 0). The watermark is still 11 (the
  // dropped rows count for it, as Spark's watermark is taken before the aggregation).
  // Batch 2: [25,35) for spark and streaming: 5 sessions. Batch 3: the rows at 0 s are late.
  // Batch 4: spark [25,50) 3, streaming [25,51) 4, hello [40,42) 2: 3 sessions.
  // Batch 5: hello [60,61), apache and spark [60,70): 6. Batch 6: structured is dropped,
  // streaming [90,100): 7; wm 30 closes nothing. Batch 7: wm 60 closes the three first sessions.
  auto got = out.sorted_batches();
  ASSERT_EQ(got.size(), 7u);
  for (std::size_t b = 0; b < 6; ++b)
    EXPECT_TRUE(got[b].empty()) << "batch " << b + 1;
  EXPECT_EQ(got[6], sorted({session("spark", 25, 50, 3), session("streaming", 25, 51, 4),
                            session("hello", 40, 42, 2)}));
  EXPECT_EQ(late.sorted_batches(),
            (std::vector<std::vector<Event>>{
                sorted_events({Event{"world", Time{40000}}, Event{"world", Time{41000}},
                               Event{"structured", Time{41000}}}),
                {},
                sorted_events(line("spark streaming", 0)),
                {},
                {},
                {Event{"structured", Time{90000}}},
                {}}));
  EXPECT_EQ(states->late(), (std::vector<std::int64_t>{3, 0, 2, 0, 0, 1, 0}));
  EXPECT_EQ(states->keys(), (std::vector<std::int64_t>{3, 5, 5, 3, 6, 7, 4}));
}

namespace {

std::int64_t seconds_of(const Event& e) {
  return e.time.milliseconds() / 1000;
}

using Collected = rill::Windowed<std::string, std::tuple<std::int64_t, std::vector<std::int64_t>>>;

}  // namespace

// A row that arrives after two sessions of its key and touches both merges them into one; a row
// older than the watermark still counts when its own session ends after the late bound.
TEST(SessionWindow, ALateRowBridgesTwoStoredSessions) {
  rill::testing::Harness h{config()};
  auto in = h.input<Event>({{Event{"a", Time{10000}}, Event{"a", Time{30000}}},
                            {Event{"a", Time{20000}}},
                            {Event{"a", Time{0}}, Event{"a", Time{1000}}},
                            {Event{"a", Time{65000}}},
                            {}});
  auto sessions =
      in.with_watermark(&Event::time, 20s)
          .aggregate_by_window(rill::session(10s), &Event::word,
                               rill::agg::all(rill::agg::count(), rill::agg::collect(&seconds_of)),
                               OutputMode::complete);
  auto out = h.collect(sessions);
  h.run_batches(3);
  // Complete mode shows the state: batch 1 stores [10,20) and [30,40); the row at 20 s starts
  // [20,30), which touches both (20 <= 20, 30 <= 30): one session [10,40). collect() lists the
  // stored sessions' rows by start, then the batch's: 10, 30, 20 (batch order). Complete mode
  // drops nothing, so batch 3's rows at 0 s and 1 s join: [0,40).
  EXPECT_EQ(out.batches(),
            (std::vector<std::vector<Collected>>{
                {Collected{TimeWindow{Time{10000}, Time{20000}}, "a", {1, {10}}},
                 Collected{TimeWindow{Time{30000}, Time{40000}}, "a", {1, {30}}}},
                {Collected{TimeWindow{Time{10000}, Time{40000}}, "a", {3, {10, 30, 20}}}},
                {Collected{TimeWindow{Time{0}, Time{40000}}, "a", {5, {10, 30, 20, 0, 1}}}}}));
}

TEST(SessionWindow, ALateRowBridgesTwoStoredSessionsInAppendMode) {
  rill::testing::Harness h{config()};
  auto in = h.input<Event>({{Event{"a", Time{10000}}, Event{"a", Time{30000}}},
                            {Event{"a", Time{20000}}},
                            {Event{"a", Time{0}}, Event{"a", Time{1000}}},
                            {Event{"a", Time{65000}}},
                            {}});
  auto sessions =
      in.with_watermark(&Event::time, 20s)
          .aggregate_by_window(rill::session(10s), &Event::word,
                               rill::agg::all(rill::agg::count(), rill::agg::collect(&seconds_of)));
  auto out = h.collect(sessions);
  auto late = h.collect(sessions.late_records());
  h.run_batches(5);
  // Batch 1: [10,20) and [30,40); the watermark becomes 30 - 20 = 10. Batch 2 (no late bound
  // yet: wm(1000) is none): the row at 20 s bridges them into [10,40). Batch 3, late bound
  // wm(2000) = 10: the row at 0 s starts [0,10), 10 <= 10: late; the row at 1 s starts [1,11),
  // which ends after 10 and touches [10,40): [1,40), although 1 s is below the watermark.
  // Batch 4: [65,75); the watermark becomes 45. Batch 5: wm 45 closes [1,40).
  EXPECT_EQ(out.batches(),
            (std::vector<std::vector<Collected>>{
                {},
                {},
                {},
                {},
                {Collected{TimeWindow{Time{1000}, Time{40000}}, "a", {4, {10, 30, 20, 1}}}}}));
  EXPECT_EQ(late.batches(),
            (std::vector<std::vector<Event>>{{}, {}, {Event{"a", Time{0}}}, {}, {}}));
}

// docs/event-time.md, "Session windows": a session emitted in append mode has left the state; a
// later row that is not late but touches it starts a new session (as in Spark).
TEST(SessionWindow, AnEmittedSessionIsNotReopened) {
  rill::testing::Harness h{config()};
  auto in = h.input<Event>({{Event{"a", Time{10000}}},
                            {Event{"b", Time{25000}}},
                            {},
                            {Event{"a", Time{16000}}, Event{"b", Time{40000}}},
                            {}});
  auto out =
      h.collect(in.with_watermark(&Event::time, 0s)
                    .aggregate_by_window(rill::session(10s), &Event::word, rill::agg::count()));
  h.run_batches(5);
  // wm: none, 10, 25, 25, 40. Batch 3 emits a's [10,20). In batch 4 the row at 16 s starts
  // [16,26), not late (26 > wm(3000) = 25), which would have touched [10,20): a new session.
  // b's [40,50) does not touch [25,35). Batch 5 (wm 40) emits [16,26) and b's [25,35).
  EXPECT_EQ(out.sorted_batches(), (std::vector<std::vector<SessionCounted>>{
                                      {},
                                      {},
                                      {session("a", 10, 20, 1)},
                                      {},
                                      {session("a", 16, 26, 1), session("b", 25, 35, 1)}}));
}

namespace {

/// Random events of keys a..e, out of order within about 3 s, 15 batches; then a row of key z at
/// 100 s and 3 empty batches.
std::vector<std::vector<Event>> random_events(unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::vector<Event>> out;
  for (int b = 0; b < 15; ++b) {
    out.emplace_back();
    for (int i = 0; i < 25; ++i) {
      const auto e = b * 1000 + static_cast<std::int64_t>(rng() % 6000) - 3000;
      out.back().push_back(Event{std::string(1, static_cast<char>('a' + rng() % 5)), Time{e}});
    }
  }
  // A far-away row of key z moves the watermark past every session of a..e; the empty batches
  // after it close them.
  out.push_back({Event{"z", Time{100000}}});
  for (int b = 0; b < 3; ++b)
    out.emplace_back();
  return out;
}

using Summed = rill::Windowed<std::string, std::tuple<std::int64_t, std::int64_t, std::int64_t>>;

std::int64_t millis_of(const Event& e) {
  return e.time.milliseconds();
}

/// The sessions (count, min, max of the event times) per batch, each batch sorted, and the late
/// rows per batch, sorted; per-row gaps of 300..900 ms and some rows without a session.
std::pair<std::vector<std::vector<Summed>>, std::vector<std::vector<Event>>> run_random(
    std::size_t parallelism, OutputMode mode, unsigned seed) {
  rill::testing::Harness h{config(parallelism)};
  const auto batches = random_events(seed);
  auto in = h.input<Event>(batches);
  auto gap_of = [](const Event& e) {
    const auto ms = e.time.milliseconds();
    const auto r = ((ms % 7) + 7) % 7;
    return rill::Duration{r == 0 ? 0 : 300 + 100 * r};
  };
  auto sessions =
      in.with_watermark(&Event::time, 2s)
          .aggregate_by_window(rill::session(gap_of), &Event::word,
                               rill::agg::all(rill::agg::count(), rill::agg::min(&millis_of),
                                              rill::agg::max(&millis_of)),
                               mode);
  auto out = h.collect(sessions);
  auto late = h.collect(sessions.late_records());
  h.run_batches(batches.size());
  return {out.sorted_batches(), late.sorted_batches()};
}

}  // namespace

TEST(SessionWindow, SeveralKeysGiveTheSameSessionsAtAnyParallelism) {
  for (OutputMode mode : {OutputMode::append, OutputMode::complete}) {
    for (unsigned seed : {3u, 11u}) {
      const auto one = run_random(1, mode, seed);
      // Every row of a..e is either in an emitted session or late, once: the row of z moves the
      // watermark past every session of a..e.
      if (mode == OutputMode::append) {
        std::int64_t in_sessions = 0;
        std::int64_t late = 0;
        for (const auto& b : one.first) {
          for (const auto& s : b) {
            EXPECT_NE(s.key, "z");  // z's session stays open
            in_sessions += std::get<0>(s.value);
          }
        }
        for (const auto& b : one.second)
          late += static_cast<std::int64_t>(b.size());
        EXPECT_EQ(in_sessions + late, 15 * 25) << "seed " << seed;
        EXPECT_GT(late, 0) << "seed " << seed;
        // A session starts at its first row and ends after its last; a key's sessions emitted
        // in one batch neither overlap nor touch (a sorted batch lists them by key, then start).
        for (const auto& b : one.first) {
          for (std::size_t i = 0; i < b.size(); ++i) {
            EXPECT_EQ(b[i].window.start.milliseconds(), std::get<1>(b[i].value));
            EXPECT_LT(std::get<2>(b[i].value), b[i].window.end.milliseconds());
            if (i > 0 && b[i - 1].key == b[i].key) {
              EXPECT_GT(b[i].window.start, b[i - 1].window.end);
            }
          }
        }
      }
      for (std::size_t parallelism : {2u, 3u}) {
        const auto other = run_random(parallelism, mode, seed);
        EXPECT_EQ(other.first, one.first) << "parallelism " << parallelism << " seed " << seed;
        EXPECT_EQ(other.second, one.second) << "parallelism " << parallelism << " seed " << seed;
      }
    }
  }
}

TEST(SessionWindow, TheCallsThatThrow) {
  rill::testing::Harness h{config()};
  auto in = h.input<Event>({{}});
  auto expect_invalid = [](auto&& call, const std::string& words) {
    try {
      call();
      ADD_FAILURE() << "no rill::InvalidArgument; expected one naming " << words;
    } catch (const rill::InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  auto ev = in.with_watermark(&Event::time, 10s);
  expect_invalid([&] { (void)rill::session(0s); }, "gap 0 ms");
  expect_invalid([&] { (void)rill::session(-5s); }, "gap -5000 ms");
  // Update mode: Spark's "Update output mode not supported for session window".
  expect_invalid(
      [&] {
        (void)ev.aggregate_by_window(rill::session(10s), &Event::word, rill::agg::count(),
                                     OutputMode::update);
      },
      "OutputMode::update");
  // Sessions are per key: Spark's "Global aggregation with session window ... not supported".
  expect_invalid([&] { (void)ev.aggregate_by_window(rill::session(10s), rill::agg::count()); },
                 "key");
  expect_invalid(
      [&] {
        (void)ev.aggregate_by_window(rill::session(10s), rill::agg::count(), OutputMode::complete);
      },
      "key");
  // Append mode emits at the watermark: a stream without one is refused.
  expect_invalid(
      [&] {
        (void)in.with_event_time(&Event::time)
            .aggregate_by_window(rill::session(10s), &Event::word, rill::agg::count());
      },
      "watermark");
  // Complete mode needs no watermark.
  auto out = h.collect(in.with_event_time(&Event::time)
                           .aggregate_by_window(rill::session(10s), &Event::word,
                                                rill::agg::count(), OutputMode::complete));
  h.run_batches(1);
  EXPECT_EQ(out.batches(), (std::vector<std::vector<SessionCounted>>{{}}));
}

namespace {

class SessionWindowRecovery : public rill_test::CheckpointedRun {
 protected:
  /// Runs the keyed session aggregation over random out-of-order input up to batch `until`, with
  /// checkpoints (a snapshot every third, deltas between); appends what it emits (and the late
  /// rows) to `out`.
  void run(std::int64_t until, std::vector<std::string>& out, OutputMode mode) {
    auto sink = std::make_shared<std::vector<std::string>>();
    CheckpointedRun::run(
        [&](rill::StreamingContext& context) {
          auto batches = random_events(42);
          auto gap_of = [](const Event& e) {
            return rill::Duration{e.word == "a" ? 1500 : e.word == "e" ? 0 : 700};
          };
          auto agg =
              context
                  .queue_stream<Event>(
                      std::deque<std::vector<Event>>(batches.begin(), batches.end()))
                  .with_watermark(&Event::time, 1s)
                  .name("events")
                  .aggregate_by_window(
                      rill::session(gap_of), &Event::word,
                      rill::agg::all(rill::agg::count(), rill::agg::collect(&millis_of)), mode)
                  .name("sessions");
          agg.foreach_batch([sink](const auto& batch, Time t) {
            std::vector<std::string> rows;
            for (const auto& w : batch)
              rows.push_back(fmt::format("{} {}", t, fmt::format("{}", w)));
            std::sort(rows.begin(), rows.end());
            sink->insert(sink->end(), rows.begin(), rows.end());
          });
          agg.late_records().foreach_batch([sink](const auto& batch, Time t) {
            std::vector<std::string> rows;
            for (const auto& r : batch)
              rows.push_back(fmt::format("{} late {} {}", t, r.word, r.time.milliseconds()));
            std::sort(rows.begin(), rows.end());
            sink->insert(sink->end(), rows.begin(), rows.end());
          });
        },
        until, 3);
    out.insert(out.end(), sink->begin(), sink->end());
  }
};

}  // namespace

TEST_F(SessionWindowRecovery, RestartsGiveTheUninterruptedOutput) {
  for (OutputMode mode : {OutputMode::append, OutputMode::complete}) {
    std::vector<std::string> uninterrupted;
    run(19000, uninterrupted, mode);
    fs::remove_all(dir_);
    std::vector<std::string> restarted;
    // Each run writes a snapshot first, then deltas (snapshot interval 3: S D D S ...): every
    // restart but the last resumes from a snapshot and one or two deltas.
    for (std::int64_t until : {2000, 5000, 8000, 10000, 19000})
      run(until, restarted, mode);
    fs::remove_all(dir_);
    EXPECT_EQ(restarted, uninterrupted) << "mode " << static_cast<int>(mode);
    EXPECT_FALSE(uninterrupted.empty());
    if (mode == OutputMode::append) {
      EXPECT_NE(std::find_if(uninterrupted.begin(), uninterrupted.end(),
                             [](const std::string& s) { return s.find("late") != s.npos; }),
                uninterrupted.end());
    }
  }
}
