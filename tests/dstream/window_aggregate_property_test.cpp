// aggregate_by_window against a plain model on random out-of-order input: the model keeps every
// (window, key)'s rows and recomputes their sum when it emits, applying shared/api.md's rules one
// by one; rill keeps an accumulator per pane and key. Random window specs (tumbling, sliding,
// offsets, slides that do not divide the size, negative event times), delays, output modes and
// partition counts. RILL_PROPERTY_CASES sets the number of cases (default 1000).
#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

using namespace std::chrono_literals;

namespace {

using rill::OutputMode;
using rill::Time;
using rill::TimeWindow;

struct Row {
  int key;
  std::int64_t time;  // ms
  std::int64_t value;
  auto operator<=>(const Row&) const = default;
};

using Out = rill::Windowed<int, std::int64_t>;

int cases() {
  if (const char* env = std::getenv("RILL_PROPERTY_CASES")) return std::max(1, std::atoi(env) / 4);
  return 1000;
}

/// The windows [s, s + size) with s = offset (mod slide) that contain t, by brute force.
std::vector<TimeWindow> windows_of(std::int64_t t, std::int64_t size, std::int64_t slide,
                                   std::int64_t offset) {
  std::vector<TimeWindow> out;
  for (std::int64_t s = t - size - slide; s <= t; ++s) {
    if (((s - offset) % slide + slide) % slide != 0) continue;
    if (s <= t && t < s + size) out.push_back(TimeWindow{Time{s}, Time{s + size}});
  }
  return out;
}

struct Model {
  std::int64_t size, slide, offset, delay;
  OutputMode mode;
  std::optional<std::int64_t> input_wm;    // the input's (and the global) watermark
  std::optional<std::int64_t> in_force;    // wm(t)
  std::optional<std::int64_t> late_bound;  // wm(t - interval)
  std::map<std::pair<TimeWindow, int>, std::vector<std::int64_t>> state;

  /// One batch: its output, sorted, and its late rows, sorted.
  std::pair<std::vector<Out>, std::vector<Row>> batch(const std::vector<Row>& rows) {
    late_bound = in_force;
    in_force = input_wm;
    std::vector<Row> late;
    std::set<std::pair<TimeWindow, int>> touched;
    const bool filters = mode != OutputMode::complete && late_bound.has_value();
    for (const Row& r : rows) {
      bool took = false;
      for (const TimeWindow& w : windows_of(r.time, size, slide, offset)) {
        if (filters && w.end.milliseconds() <= *late_bound) continue;  // dropped from w
        state[{w, r.key}].push_back(r.value);
        touched.insert({w, r.key});
        took = true;
      }
      if (!took) late.push_back(r);
    }
    std::vector<Out> out;
    auto sum = [](const std::vector<std::int64_t>& v) {
      std::int64_t s = 0;
      for (auto x : v)
        s += x;
      return s;
    };
    for (auto it = state.begin(); it != state.end();) {
      const auto& [wk, values] = *it;
      const bool ended = in_force && wk.first.end.milliseconds() <= *in_force;
      if (mode == OutputMode::complete || (mode == OutputMode::update && touched.contains(wk)) ||
          (mode == OutputMode::append && ended)) {
        out.push_back(Out{wk.first, wk.second, sum(values)});
      }
      if (mode != OutputMode::complete && ended) {
        it = state.erase(it);
      } else {
        ++it;
      }
    }
    for (const Row& r : rows) {
      if (!input_wm || r.time - delay > *input_wm) input_wm = r.time - delay;
    }
    std::sort(out.begin(), out.end());
    std::sort(late.begin(), late.end());
    return {out, late};
  }
};

}  // namespace

TEST(WindowAggregateProperty, MatchesAPlainModelOnRandomOutOfOrderInput) {
  std::mt19937_64 rng(20261130);
  auto pick = [&](std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(hi - lo + 1));
  };
  const int n = cases();
  std::size_t emitted = 0, late_rows = 0;  // the cases must exercise both
  for (int c = 0; c < n; ++c) {
    const std::int64_t size = pick(1, 8) * 500;
    const std::int64_t slide = std::min(size, pick(1, 8) * 250);
    const std::int64_t offset = pick(-(slide - 1), slide - 1);
    const std::int64_t delay = pick(0, 4) * 500;
    const auto mode = static_cast<OutputMode>(pick(0, 2));
    const auto partitions = static_cast<std::size_t>(pick(1, 3));
    const std::int64_t base = pick(-5, 5) * 1000;
    const int batches = static_cast<int>(pick(3, 9));
    std::vector<std::vector<Row>> input;
    for (int b = 0; b < batches; ++b) {
      std::vector<Row> rows;
      const auto count = pick(0, 12);
      for (std::int64_t i = 0; i < count; ++i) {
        rows.push_back(
            Row{static_cast<int>(pick(0, 3)), base + b * 1000 + pick(-3000, 1500), pick(-5, 20)});
      }
      input.push_back(rows);
    }
    for (int b = 0; b < 3; ++b)
      input.emplace_back();  // empty batches: the watermark keeps closing windows
    const auto spec = size == slide ? rill::tumbling(rill::Duration{size}, rill::Duration{offset})
                                    : rill::sliding(rill::Duration{size}, rill::Duration{slide},
                                                    rill::Duration{offset});
    SCOPED_TRACE(::testing::Message() << "case " << c << ": size " << size << " slide " << slide
                                      << " offset " << offset << " delay " << delay << " mode "
                                      << static_cast<int>(mode) << " partitions " << partitions);

    Model model{size, slide, offset, delay, mode, {}, {}, {}, {}};
    std::vector<std::vector<Out>> expected;
    std::vector<std::vector<Row>> expected_late;
    for (const auto& rows : input) {
      auto [out, late] = model.batch(rows);
      expected.push_back(out);
      expected_late.push_back(late);
    }

    rill::testing::Harness h{
        rill::Config{}.batch_interval(1s).parallelism(partitions).worker_threads(2)};
    auto agg = h.input<Row>(input)
                   .with_watermark([](const Row& r) { return Time{r.time}; }, rill::Duration{delay})
                   .aggregate_by_window(spec, &Row::key, rill::agg::sum(&Row::value), mode);
    auto out = h.collect(agg);
    auto late = h.collect(agg.late_records());
    h.run_batches(input.size());
    ASSERT_EQ(out.sorted_batches(), expected);
    ASSERT_EQ(late.sorted_batches(), expected_late);
    for (std::size_t b = 0; b < expected.size(); ++b) {
      emitted += expected[b].size();
      late_rows += expected_late[b].size();
    }
  }
  EXPECT_GT(emitted, static_cast<std::size_t>(n));
  EXPECT_GT(late_rows, 0u);
}
