// Property test of the window operators: random batches (parallelism 1 to 8, several windows and
// slides, slides longer than the interval, empty batches, skewed keys). Every incremental form
// must equal its plain form, and every plain form a reference model below that uses nothing of
// rill's but Time. RILL_PROPERTY_CASES sets the number of cases (default 2000).
#include <cmath>
#include <cstdlib>
#include <map>
#include <random>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

using namespace std::chrono_literals;

namespace {

using IntKV = std::pair<int, long>;
using IntBatches = std::vector<std::vector<IntKV>>;

struct Case {
  std::size_t parallelism;
  std::size_t partitions;  // of the keyed operators
  std::int64_t window;     // in intervals
  std::int64_t slide;      // in intervals
  std::size_t batches;
  IntBatches input;
};

Case random_case(std::mt19937_64& rng) {
  auto pick = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  Case c;
  c.parallelism = static_cast<std::size_t>(pick(1, 8));
  c.partitions = static_cast<std::size_t>(pick(0, 4));
  c.slide = pick(1, 3);
  c.window = c.slide * pick(1, 3) + (pick(0, 2) == 0 ? 0 : pick(0, 2));
  c.batches = static_cast<std::size_t>(pick(1, 12));
  const int keys = static_cast<int>(pick(1, 20));
  const bool skewed = pick(0, 1) == 1;
  for (std::size_t b = 0; b < c.batches; ++b) {
    std::vector<IntKV> batch;
    const auto n = pick(0, 3) == 0 ? 0 : pick(0, 30);  // many empty batches
    for (std::int64_t i = 0; i < n; ++i) {
      int key = static_cast<int>(pick(0, keys - 1));
      if (skewed && pick(0, 3) != 0) key = 0;
      batch.emplace_back(key, static_cast<long>(pick(-50, 50)));
    }
    c.input.push_back(std::move(batch));
  }
  return c;
}

/// The model: the input batches of the window ending at batch index i (1-based times).
std::vector<std::size_t> window_batches(const Case& c, std::int64_t t) {
  std::vector<std::size_t> out;
  for (std::int64_t b = t - c.window + 1; b <= t; ++b) {
    if (b >= 1 && b <= static_cast<std::int64_t>(c.input.size())) {
      out.push_back(static_cast<std::size_t>(b - 1));
    }
  }
  return out;
}

struct Model {
  std::vector<rill::Time> times;
  std::vector<std::vector<IntKV>> sums;                                // sorted by key
  std::vector<std::vector<std::pair<int, std::vector<long>>>> groups;  // sorted by key
  std::vector<std::vector<long>> total;                                // reduce: none when empty
  std::vector<std::vector<std::int64_t>> counts;
  std::vector<std::vector<std::pair<IntKV, std::int64_t>>> by_value;  // sorted
};

Model model(const Case& c) {
  Model m;
  for (std::int64_t t = 1; t <= static_cast<std::int64_t>(c.batches); ++t) {
    if (t % c.slide != 0) continue;
    m.times.push_back(rill::Time{t * 1000});
    std::map<int, long> sums;
    std::map<int, std::vector<long>> groups;
    std::map<IntKV, std::int64_t> by_value;
    std::optional<long> total;
    std::int64_t count = 0;
    for (std::size_t b : window_batches(c, t)) {
      for (const auto& [k, v] : c.input[b]) {
        sums[k] += v;
        groups[k].push_back(v);
        ++by_value[{k, v}];
        total = total.value_or(0) + v;
        ++count;
      }
    }
    m.sums.emplace_back(sums.begin(), sums.end());
    m.groups.emplace_back(groups.begin(), groups.end());
    m.by_value.emplace_back(by_value.begin(), by_value.end());
    m.total.push_back(total ? std::vector<long>{*total} : std::vector<long>{});
    m.counts.push_back({count});
  }
  return m;
}

std::string describe(const Case& c) {
  return fmt::format("parallelism {} partitions {} window {} slide {} batches {}", c.parallelism,
                     c.partitions, c.window, c.slide, c.batches);
}

int cases_to_run() {
  if (const char* env = std::getenv("RILL_PROPERTY_CASES")) return std::max(1, std::atoi(env));
  return 2000;
}

}  // namespace

TEST(WindowProperty, IncrementalEqualsPlainEqualsModel) {
  std::mt19937_64 rng(20261126);
  const int n = cases_to_run();
  for (int i = 0; i < n; ++i) {
    const Case c = random_case(rng);
    SCOPED_TRACE(describe(c));
    const rill::Duration w = rill::Duration{c.window * 1000};
    const rill::Duration s = rill::Duration{c.slide * 1000};
    auto plus = [](long a, long b) { return a + b; };
    auto minus = [](long a, long b) { return a - b; };

    rill::testing::Harness h{
        rill::Config{}.batch_interval(1s).parallelism(c.parallelism).worker_threads(2)};
    auto in = h.input<IntKV>(c.input);
    auto plain_sums = h.collect(in.reduce_by_key_and_window(plus, w, s, c.partitions));
    auto inc_sums = h.collect(in.reduce_by_key_and_window(plus, minus, w, s, c.partitions));
    auto by_definition = h.collect(in.window(w, s).reduce_by_key(plus, c.partitions));
    auto groups = h.collect(in.group_by_key_and_window(w, s, c.partitions));
    auto values = in.map([](const IntKV& kv) { return kv.second; });
    auto plain_total = h.collect(values.reduce_by_window(plus, w, s));
    auto inc_total = h.collect(values.reduce_by_window(plus, minus, w, s));
    auto counts = h.collect(in.count_by_window(w, s));
    auto plain_counts = h.collect(in.window(w, s).count());
    auto by_value = h.collect(in.count_by_value_and_window(w, s, c.partitions));
    auto plain_by_value = h.collect(in.window(w, s).count_by_value(c.partitions));
    h.run_batches(c.batches);

    const Model m = model(c);
    ASSERT_EQ(plain_sums.times(), m.times);
    ASSERT_EQ(plain_sums.sorted_batches(), m.sums);
    ASSERT_EQ(inc_sums.sorted_batches(), m.sums);
    ASSERT_EQ(by_definition.sorted_batches(), m.sums);
    ASSERT_EQ(groups.sorted_batches(), m.groups);  // values in input order, keys sorted
    ASSERT_EQ(plain_total.batches(), m.total);
    ASSERT_EQ(inc_total.batches(), m.total);
    ASSERT_EQ(counts.batches(), m.counts);
    ASSERT_EQ(plain_counts.batches(), m.counts);
    ASSERT_EQ(by_value.sorted_batches(), m.by_value);
    ASSERT_EQ(plain_by_value.sorted_batches(), m.by_value);
  }
}

TEST(WindowProperty, FloatingIncrementalDiffersOnlyByRounding) {
  std::mt19937_64 rng(7);
  const int n = std::max(1, cases_to_run() / 5);
  for (int i = 0; i < n; ++i) {
    const Case c = random_case(rng);
    SCOPED_TRACE(describe(c));
    std::vector<std::vector<std::pair<int, double>>> input;
    for (const auto& b : c.input) {
      std::vector<std::pair<int, double>> batch;
      for (const auto& [k, v] : b)
        batch.emplace_back(k, static_cast<double>(v) / 7.0);
      input.push_back(std::move(batch));
    }
    const rill::Duration w = rill::Duration{c.window * 1000};
    const rill::Duration s = rill::Duration{c.slide * 1000};
    rill::testing::Harness h{
        rill::Config{}.batch_interval(1s).parallelism(c.parallelism).worker_threads(2)};
    auto in = h.input<std::pair<int, double>>(input);
    auto plain =
        h.collect(in.reduce_by_key_and_window([](double a, double b) { return a + b; }, w, s));
    auto inc = h.collect(in.reduce_by_key_and_window(
        [](double a, double b) { return a + b; }, [](double a, double b) { return a - b; }, w, s));
    h.run_batches(c.batches);
    const auto p = plain.sorted_batches();
    const auto q = inc.sorted_batches();
    ASSERT_EQ(p.size(), q.size());
    for (std::size_t b = 0; b < p.size(); ++b) {
      ASSERT_EQ(p[b].size(), q[b].size()) << "batch " << b;
      for (std::size_t j = 0; j < p[b].size(); ++j) {
        ASSERT_EQ(p[b][j].first, q[b][j].first);
        ASSERT_NEAR(p[b][j].second, q[b][j].second, 1e-9);
      }
    }
  }
}
