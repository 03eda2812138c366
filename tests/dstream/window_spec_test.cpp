// Event-time window assignment (rill::tumbling, rill::sliding, rill::session) and session
// merging: tables of rows and their windows, cross-checked against a brute-force enumeration.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <rill/rill.hpp>

#include "support/time_windows.hpp"

namespace {

using namespace std::chrono_literals;
using rill::Duration;
using rill::Time;
using rill::TimeWindow;

using rill_test::win;

std::vector<TimeWindow> wins(std::initializer_list<std::pair<std::int64_t, std::int64_t>> l) {
  std::vector<TimeWindow> out;
  for (auto [s, e] : l)
    out.push_back(win(s, e));
  return out;
}

/// Every window `[s, s + size)` with `s ≡ offset (mod slide)` containing t, by trying every start
/// in a range wide enough to hold them all.
std::vector<TimeWindow> brute_force(std::int64_t size, std::int64_t slide, std::int64_t offset,
                                    std::int64_t t) {
  std::vector<TimeWindow> out;
  for (std::int64_t s = t - size - 2 * slide; s <= t + 2 * slide; ++s) {
    // On the grid when s - offset is a whole (possibly negative) number of slides.
    const bool on_grid = (s - offset) % slide == 0;
    if (on_grid && s <= t && t < s + size) out.push_back(win(s, s + size));
  }
  return out;
}

struct AssignCase {
  std::string name;
  rill::TimeWindows spec;
  std::int64_t t;
  std::vector<TimeWindow> expected;
};

TEST(WindowAssignment, Table) {
  const std::vector<AssignCase> cases = {
      // Tumbling, no offset: half-open, a row at a window's end is in the next window only.
      {"tumbling 5s, t=0", rill::tumbling(5s), 0, wins({{0, 5000}})},
      {"tumbling 5s, t=4999", rill::tumbling(5s), 4999, wins({{0, 5000}})},
      {"tumbling 5s, at the end", rill::tumbling(5s), 5000, wins({{5000, 10000}})},
      {"tumbling 5s, t=-1", rill::tumbling(5s), -1, wins({{-5000, 0}})},
      {"tumbling 5s, t=-5000", rill::tumbling(5s), -5000, wins({{-5000, 0}})},
      {"tumbling 5s, t=-5001", rill::tumbling(5s), -5001, wins({{-10000, -5000}})},
      // The seed's table: tumbling 5 s windows from second 1.
      {"tumbling 5s from 1s, t=0", rill::tumbling(5s, 1s), 0, wins({{-4000, 1000}})},
      {"tumbling 5s from 1s, t=999", rill::tumbling(5s, 1s), 999, wins({{-4000, 1000}})},
      {"tumbling 5s from 1s, t=1000", rill::tumbling(5s, 1s), 1000, wins({{1000, 6000}})},
      {"tumbling 5s from 1s, t=5999", rill::tumbling(5s, 1s), 5999, wins({{1000, 6000}})},
      {"tumbling 5s from 1s, t=6000", rill::tumbling(5s, 1s), 6000, wins({{6000, 11000}})},
      {"tumbling 5s from 1s, t=12345", rill::tumbling(5s, 1s), 12345, wins({{11000, 16000}})},
      {"tumbling 5s from 1s, t=-4001", rill::tumbling(5s, 1s), -4001, wins({{-9000, -4000}})},
      // Negative offset: -1 s is 4 s modulo 5 s.
      {"tumbling 5s from -1s, t=0", rill::tumbling(5s, -1s), 0, wins({{-1000, 4000}})},
      {"tumbling 5s from -1s, t=4000", rill::tumbling(5s, -1s), 4000, wins({{4000, 9000}})},
      {"tumbling 5s from -1s, t=-1001", rill::tumbling(5s, -1s), -1001, wins({{-6000, -1000}})},
      // Sliding, the slide divides the size.
      {"sliding 10s/5s, t=7000", rill::sliding(10s, 5s), 7000, wins({{0, 10000}, {5000, 15000}})},
      {"sliding 10s/5s, t=4999", rill::sliding(10s, 5s), 4999, wins({{-5000, 5000}, {0, 10000}})},
      {"sliding 10s/5s, at an end", rill::sliding(10s, 5s), 10000,
       wins({{5000, 15000}, {10000, 20000}})},
      {"sliding 10s/5s, t=-1", rill::sliding(10s, 5s), -1, wins({{-10000, 0}, {-5000, 5000}})},
      // The seed's table: 5 s windows sliding by 2 s from second 1 (starts on odd seconds).
      {"sliding 5s/2s from 1s, t=1000", rill::sliding(5s, 2s, 1s), 1000,
       wins({{-3000, 2000}, {-1000, 4000}, {1000, 6000}})},
      {"sliding 5s/2s from 1s, t=2000", rill::sliding(5s, 2s, 1s), 2000,
       wins({{-1000, 4000}, {1000, 6000}})},
      {"sliding 5s/2s from 1s, t=5999", rill::sliding(5s, 2s, 1s), 5999,
       wins({{1000, 6000}, {3000, 8000}, {5000, 10000}})},
      {"sliding 5s/2s from 1s, t=6000", rill::sliding(5s, 2s, 1s), 6000,
       wins({{3000, 8000}, {5000, 10000}})},
      {"sliding 5s/2s from 1s, t=12500", rill::sliding(5s, 2s, 1s), 12500,
       wins({{9000, 14000}, {11000, 16000}})},
      // A slide that does not divide the size: 3 or 2 windows depending on t.
      {"sliding 5s/2s, t=1000", rill::sliding(5s, 2s), 1000, wins({{-2000, 3000}, {0, 5000}})},
      {"sliding 5s/2s, t=0", rill::sliding(5s, 2s), 0,
       wins({{-4000, 1000}, {-2000, 3000}, {0, 5000}})},
      {"sliding 5s/2s, t=-1", rill::sliding(5s, 2s), -1, wins({{-4000, 1000}, {-2000, 3000}})},
      // Offsets -1 s and 1 s are the same modulo a 2 s slide.
      {"sliding 5s/2s from -1s, t=1000", rill::sliding(5s, 2s, -1s), 1000,
       wins({{-3000, 2000}, {-1000, 4000}, {1000, 6000}})},
      {"sliding 3ms/1ms, t=0", rill::sliding(3ms, 1ms), 0, wins({{-2, 1}, {-1, 2}, {0, 3}})},
      {"sliding equal to tumbling", rill::sliding(5s, 5s, 1s), 1000, wins({{1000, 6000}})},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.spec.windows(Time{c.t}), c.expected);
    EXPECT_EQ(
        brute_force(c.spec.size().count(), c.spec.slide().count(), c.spec.offset().count(), c.t),
        c.expected);
  }
}

// Every spec with size up to 12 ms, every slide and offset allowed, every t in [-40, 40]:
// windows(), window_count, first and last window, and the pane grid agree with brute force.
TEST(WindowAssignment, AgreesWithBruteForce) {
  for (std::int64_t size = 1; size <= 12; ++size) {
    for (std::int64_t slide = 1; slide <= size; ++slide) {
      for (std::int64_t offset = -(slide - 1); offset < slide; ++offset) {
        const auto spec = rill::sliding(Duration{size}, Duration{slide}, Duration{offset});
        ASSERT_EQ(spec.pane().count() > 0, true);
        ASSERT_EQ(size % spec.pane().count(), 0);
        ASSERT_EQ(slide % spec.pane().count(), 0);
        for (std::int64_t t = -40; t <= 40; ++t) {
          SCOPED_TRACE("size " + std::to_string(size) + " slide " + std::to_string(slide) +
                       " offset " + std::to_string(offset) + " t " + std::to_string(t));
          const auto expected = brute_force(size, slide, offset, t);
          ASSERT_FALSE(expected.empty());
          std::vector<TimeWindow> visited;
          spec.for_each_window(Time{t}, [&](const TimeWindow& w) { visited.push_back(w); });
          ASSERT_EQ(visited, expected);
          EXPECT_EQ(spec.window_count(Time{t}), static_cast<std::int64_t>(expected.size()));
          EXPECT_LE(spec.window_count(Time{t}), spec.max_windows_per_row());
          EXPECT_EQ(spec.first_window(Time{t}), expected.front());
          EXPECT_EQ(spec.last_window(Time{t}), expected.back());
          EXPECT_EQ(spec.last_window_start(Time{t}), expected.back().start);
          // The pane: contains t, lies on the grid, and has exactly t's windows.
          const Time p = spec.pane_start(Time{t});
          EXPECT_LE(p, Time{t});
          EXPECT_GT(p + spec.pane(), Time{t});
          EXPECT_EQ(((p.milliseconds() - offset) % spec.pane().count()), 0);
          EXPECT_EQ(spec.windows(p), expected);
          // The windows still open under each watermark around them: end > watermark.
          for (std::int64_t wm = t - 2; wm <= t + size + 1; ++wm) {
            std::vector<TimeWindow> open_expected;
            for (const auto& w : expected) {
              if (w.end > Time{wm}) open_expected.push_back(w);
            }
            std::vector<TimeWindow> open;
            const auto called = spec.for_each_open_window(
                Time{t}, Time{wm}, [&](const TimeWindow& w) { open.push_back(w); });
            ASSERT_EQ(open, open_expected) << "watermark " << wm;
            ASSERT_EQ(called, static_cast<std::int64_t>(open.size()));
            ASSERT_EQ(called == 0, spec.last_window(Time{t}).end <= Time{wm});
          }
        }
      }
    }
  }
}

// A row is dropped from each window whose end <= the watermark, and is late when all its windows
// ended: the seed's 5 s windows sliding by 2 s from second 1, a row at 1000 ms.
TEST(WindowAssignment, OpenWindowsUnderAWatermark) {
  const auto spec = rill::sliding(5s, 2s, 1s);
  const std::vector<std::pair<std::int64_t, std::vector<TimeWindow>>> cases = {
      {-10000, wins({{-3000, 2000}, {-1000, 4000}, {1000, 6000}})},
      {1999, wins({{-3000, 2000}, {-1000, 4000}, {1000, 6000}})},
      {2000, wins({{-1000, 4000}, {1000, 6000}})},
      {4000, wins({{1000, 6000}})},
      {5999, wins({{1000, 6000}})},
      {6000, {}},
      {100000, {}},
  };
  for (const auto& [wm, expected] : cases) {
    SCOPED_TRACE("watermark " + std::to_string(wm));
    std::vector<TimeWindow> open;
    const auto n = spec.for_each_open_window(Time{1000}, Time{wm},
                                             [&](const TimeWindow& w) { open.push_back(w); });
    EXPECT_EQ(open, expected);
    EXPECT_EQ(n, static_cast<std::int64_t>(expected.size()));
  }
  EXPECT_EQ(spec.last_window(Time{1000}), win(1000, 6000));
  EXPECT_EQ(spec.first_window(Time{1000}), win(-3000, 2000));
}

TEST(WindowAssignment, SpecAccessors) {
  const auto t = rill::tumbling(5s, 1s);
  EXPECT_EQ(t.size(), 5000ms);
  EXPECT_EQ(t.slide(), 5000ms);
  EXPECT_EQ(t.offset(), 1000ms);
  EXPECT_TRUE(t.is_tumbling());
  EXPECT_EQ(t.pane(), 5000ms);
  EXPECT_EQ(t.max_windows_per_row(), 1);

  const auto s = rill::sliding(5s, 2s, 1s);
  EXPECT_EQ(s.size(), 5000ms);
  EXPECT_EQ(s.slide(), 2000ms);
  EXPECT_EQ(s.offset(), 1000ms);
  EXPECT_FALSE(s.is_tumbling());
  EXPECT_EQ(s.pane(), 1000ms);
  EXPECT_EQ(s.max_windows_per_row(), 3);
  EXPECT_EQ(s.pane_start(Time{2500}), Time{2000});
  EXPECT_EQ(s.pane_start(Time{-1}), Time{-1000});

  EXPECT_EQ(rill::sliding(10s, 4s, 2s).pane(), 2000ms);
  EXPECT_EQ(rill::sliding(10s, 4s, 1s).pane_start(Time{4000}), Time{3000});
  // Any std::chrono duration that converts to milliseconds exactly.
  EXPECT_EQ(rill::tumbling(std::chrono::minutes(1)).size(), 60000ms);
  EXPECT_EQ(rill::sliding(1min, 30s, 500ms).offset(), 500ms);
}

// Lossy durations do not convert: they do not compile (and are not taken for gap callables).
static_assert(!std::is_invocable_v<rill::TimeWindows (*)(Duration, Duration),
                                   std::chrono::microseconds, Duration>);
template <class G>
concept SessionAccepts = requires(G g) {
  rill::session(g);
};
static_assert(!SessionAccepts<std::chrono::microseconds>);
static_assert(!SessionAccepts<int>);
static_assert(SessionAccepts<std::chrono::seconds>);

std::string error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const rill::InvalidArgument& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(WindowAssignment, ValidationNamesTheValues) {
  const std::vector<std::pair<std::function<void()>, std::string>> cases = {
      {[] { rill::tumbling(0s); }, "rill::tumbling: the window size 0 ms must be positive"},
      {[] { rill::tumbling(-5s); }, "rill::tumbling: the window size -5000 ms must be positive"},
      {[] { rill::tumbling(5s, 5s); },
       "rill::tumbling: offset 5000 ms must be less than the window size 5000 ms in absolute "
       "value; use an offset between -4999 and 4999 ms"},
      {[] { rill::tumbling(5s, -6s); },
       "rill::tumbling: offset -6000 ms must be less than the window size 5000 ms in absolute "
       "value; use an offset between -4999 and 4999 ms"},
      {[] { rill::sliding(0s, 0s); }, "rill::sliding: the window size 0 ms must be positive"},
      {[] { rill::sliding(5s, 7s); },
       "rill::sliding: slide 7000 ms must be at most the window size 5000 ms"},
      {[] { rill::sliding(5s, 0s); },
       "rill::sliding: slide 0 ms must be positive (window size 5000 ms)"},
      {[] { rill::sliding(5s, -2s); },
       "rill::sliding: slide -2000 ms must be positive (window size 5000 ms)"},
      {[] { rill::sliding(5s, 2s, 2s); },
       "rill::sliding: offset 2000 ms must be less than the slide 2000 ms in absolute value; use "
       "an offset between -1999 and 1999 ms"},
      {[] { rill::sliding(5s, 2s, -3s); },
       "rill::sliding: offset -3000 ms must be less than the slide 2000 ms in absolute value; "
       "use an offset between -1999 and 1999 ms"},
      {[] { rill::session(0s); }, "rill::session: gap 0 ms must be positive"},
      {[] { rill::session(-1s); }, "rill::session: gap -1000 ms must be positive"},
      // The limits themselves are allowed.
      {[] { rill::tumbling(1ms); }, "(no error)"},
      {[] { rill::tumbling(5s, -4999ms); }, "(no error)"},
      {[] { rill::sliding(5s, 5s, 4999ms); }, "(no error)"},
      {[] { rill::sliding(5s, 1ms); }, "(no error)"},
      {[] { rill::session(1ms); }, "(no error)"},
  };
  for (const auto& [call, message] : cases) {
    SCOPED_TRACE(message);
    EXPECT_EQ(error_of(call), message);
  }
}

struct Click {
  std::string user;
  Time time;
  Duration gap;
};

TEST(SessionWindows, SessionOfARow) {
  const auto fixed = rill::session(10s);
  static_assert(!decltype(fixed)::dynamic_gap);
  EXPECT_EQ(fixed.gap(), 10000ms);
  EXPECT_EQ(fixed.session_of(Click{"a", Time{1000}, 0ms}, Time{1000}), win(1000, 11000));
  EXPECT_EQ(fixed.session_of(42, Time{-500}), win(-500, 9500));

  // A dynamic gap from a member pointer; a gap <= 0 starts no session (dropped as late).
  const auto by_member = rill::session(&Click::gap);
  static_assert(decltype(by_member)::dynamic_gap);
  EXPECT_EQ(by_member.session_of(Click{"a", Time{1000}, 3s}, Time{1000}), win(1000, 4000));
  EXPECT_EQ(by_member.session_of(Click{"a", Time{1000}, 0ms}, Time{1000}), std::nullopt);
  EXPECT_EQ(by_member.session_of(Click{"a", Time{1000}, -1ms}, Time{1000}), std::nullopt);

  // A callable returning another exact duration type.
  const auto by_user = rill::session(
      [](const Click& c) { return c.user == "slow" ? std::chrono::seconds(60) : 5s; });
  EXPECT_EQ(by_user.session_of(Click{"slow", Time{0}, 0ms}, Time{0}), win(0, 60000));
  EXPECT_EQ(by_user.session_of(Click{"fast", Time{0}, 0ms}, Time{0}), win(0, 5000));

  static_assert(rill::is_session_windows_v<decltype(fixed)>);
  static_assert(rill::is_session_windows_v<const decltype(by_user)&>);
  static_assert(!rill::is_session_windows_v<rill::TimeWindows>);
  static_assert(rill::WindowSpecFor<rill::TimeWindows, Click>);
  static_assert(rill::WindowSpecFor<decltype(fixed), Click>);
  static_assert(rill::WindowSpecFor<decltype(by_member), Click>);
  static_assert(!rill::WindowSpecFor<decltype(by_member), std::string>);
}

struct MergeCase {
  std::string name;
  std::vector<TimeWindow> input;  // stored sessions first, then the new ones
  std::vector<TimeWindow> expected;
};

TEST(SessionWindows, MergeTable) {
  const std::vector<MergeCase> cases = {
      {"empty", {}, {}},
      {"one", wins({{0, 5}}), wins({{0, 5}})},
      {"disjoint", wins({{0, 5}, {10, 15}}), wins({{0, 5}, {10, 15}})},
      {"disjoint, new ones out of order", wins({{20, 25}, {0, 5}}), wins({{0, 5}, {20, 25}})},
      {"overlap", wins({{0, 5}, {3, 8}}), wins({{0, 8}})},
      {"touching merge", wins({{0, 5}, {5, 8}}), wins({{0, 8}})},
      {"one ms apart stay apart", wins({{0, 5}, {6, 8}}), wins({{0, 5}, {6, 8}})},
      {"contained keeps the largest end", wins({{0, 10}, {2, 3}}), wins({{0, 10}})},
      {"a late row bridges two stored sessions", wins({{0, 5}, {8, 13}, {4, 9}}), wins({{0, 13}})},
      {"a late row touching both", wins({{0, 5}, {8, 13}, {5, 8}}), wins({{0, 13}})},
      {"a chain", wins({{0, 5}, {4, 9}, {8, 13}}), wins({{0, 13}})},
      {"a late row before a stored session", wins({{10, 15}, {0, 10}}), wins({{0, 15}})},
      {"new rows among themselves", wins({{30, 35}, {32, 40}, {0, 1}}), wins({{0, 1}, {30, 40}})},
      {"same start", wins({{0, 5}, {0, 3}}), wins({{0, 5}})},
      {"negative times", wins({{-10, -5}, {-5, 0}, {1, 2}}), wins({{-10, 0}, {1, 2}})},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = c.input;
    rill::merge_sessions(got);
    EXPECT_EQ(got, c.expected);
  }
}

struct Session {
  TimeWindow window;
  std::vector<int> rows;
};

std::vector<std::pair<TimeWindow, std::vector<int>>> merged(std::vector<Session> sessions) {
  rill::merge_sessions(
      sessions, [](Session& s) -> TimeWindow& { return s.window; },
      [](Session& into, Session&& from) {
        into.rows.insert(into.rows.end(), from.rows.begin(), from.rows.end());
      });
  std::vector<std::pair<TimeWindow, std::vector<int>>> out;
  for (auto& s : sessions)
    out.emplace_back(s.window, s.rows);
  return out;
}

// Payloads fold into the lowest index of each group, in index order: stored sessions (in start
// order) first, then new rows in arrival order.
TEST(SessionWindows, MergeCombinesInIndexOrder) {
  using Out = std::vector<std::pair<TimeWindow, std::vector<int>>>;
  EXPECT_EQ(merged({{win(0, 5), {1}}, {win(8, 13), {2}}, {win(4, 9), {3}}, {win(20, 25), {4}}}),
            (Out{{win(0, 13), {1, 2, 3}}, {win(20, 25), {4}}}));
  EXPECT_EQ(merged({{win(10, 15), {1}}, {win(12, 14), {2}}, {win(9, 11), {3}}}),
            (Out{{win(9, 15), {1, 2, 3}}}));
  EXPECT_EQ(merged({{win(10, 15), {1, 2}}, {win(30, 31), {3}}}),
            (Out{{win(10, 15), {1, 2}}, {win(30, 31), {3}}}));
}

// A dynamic gap end to end: each row's session, rows with a gap <= 0 left out, then merged.
TEST(SessionWindows, DynamicGapRowsMerge) {
  const auto spec = rill::session(&Click::gap);
  const std::vector<Click> rows = {
      {"a", Time{0}, 5s}, {"a", Time{7000}, 1s}, {"a", Time{9000}, 0s}, {"a", Time{5000}, 2s}};
  std::vector<TimeWindow> sessions;
  std::int64_t late = 0;
  for (const auto& r : rows) {
    if (auto w = spec.session_of(r, r.time)) {
      sessions.push_back(*w);
    } else {
      ++late;
    }
  }
  rill::merge_sessions(sessions);
  EXPECT_EQ(sessions, wins({{0, 8000}}));
  EXPECT_EQ(late, 1);
}

// Random inputs: each input lies in exactly one output, each output spans its inputs, and
// consecutive outputs neither overlap nor touch.
TEST(SessionWindows, MergeProperty) {
  std::mt19937 gen(20261130);
  std::uniform_int_distribution<std::int64_t> start(-50, 50);
  std::uniform_int_distribution<std::int64_t> length(1, 8);
  std::uniform_int_distribution<int> count(0, 14);
  for (int round = 0; round < 2000; ++round) {
    std::vector<TimeWindow> input;
    for (int i = count(gen); i > 0; --i) {
      const auto s = start(gen);
      input.push_back(win(s, s + length(gen)));
    }
    auto out = input;
    rill::merge_sessions(out);
    for (std::size_t i = 1; i < out.size(); ++i)
      ASSERT_GT(out[i].start, out[i - 1].end);
    for (const auto& o : out) {
      std::optional<TimeWindow> span;
      for (const auto& w : input) {
        if (w.start >= o.start && w.end <= o.end) {
          span = span ? win(std::min(span->start, w.start).milliseconds(),
                            std::max(span->end, w.end).milliseconds())
                      : w;
        }
      }
      ASSERT_EQ(span, o);
    }
    for (const auto& w : input) {
      int holders = 0;
      for (const auto& o : out)
        holders += (w.start >= o.start && w.end <= o.end) ? 1 : 0;
      ASSERT_EQ(holders, 1);
    }
  }
}

}  // namespace
