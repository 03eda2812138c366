// aggregate_by_window in append mode against a brute-force reference, with thousands of keys in
// one batch: the state tables grow (rehash) while rows are applied in groups, windows close and
// panes leave over many batches, in one state partition and in several, for sliding windows
// whose slide divides the size and whose slide does not.
#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

using namespace std::chrono_literals;

namespace {

struct ReferenceRow {
  std::int64_t key;
  std::int64_t value;
  rill::Time time;
};

using ReferenceSummed = rill::Windowed<std::int64_t, std::int64_t>;

/// Batch b: rows of `keys` keys (all of them in batch 0, a random subset later), event times
/// in [b s - disorder, b s + 1 s), in random order.
std::vector<std::vector<ReferenceRow>> timeline(std::size_t batches, std::int64_t keys,
                                                std::int64_t disorder_ms, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<ReferenceRow>> out(batches);
  for (std::size_t b = 0; b < batches; ++b) {
    const auto second = static_cast<std::int64_t>(b) * 1000;
    const std::int64_t rows = b == 0 ? keys * 2 : keys / 2;
    for (std::int64_t i = 0; i < rows; ++i) {
      const std::int64_t key = b == 0 ? i % keys : static_cast<std::int64_t>(rng() % keys);
      const std::int64_t t = second + static_cast<std::int64_t>(rng() % 1000) -
                             static_cast<std::int64_t>(rng() % (disorder_ms + 1));
      out[b].push_back(ReferenceRow{key, static_cast<std::int64_t>(rng() % 1000), rill::Time{t}});
    }
    std::shuffle(out[b].begin(), out[b].end(), rng);
  }
  return out;
}

/// Every window of `spec` with end <= wm that holds a row, per key: the sum of its rows.
std::vector<ReferenceSummed> reference(const std::vector<std::vector<ReferenceRow>>& batches,
                                       const rill::TimeWindows& spec, rill::Time wm) {
  std::map<std::pair<rill::TimeWindow, std::int64_t>, std::int64_t> sums;
  for (const auto& batch : batches) {
    for (const ReferenceRow& r : batch) {
      for (const rill::TimeWindow& w : spec.windows(r.time)) {
        if (w.end <= wm) sums[{w, r.key}] += r.value;
      }
    }
  }
  std::vector<ReferenceSummed> out;
  for (const auto& [wk, sum] : sums)
    out.push_back(ReferenceSummed{wk.first, wk.second, sum});
  return out;
}

}  // namespace

// No row is late (the disorder, 1.5 s, is under the delay, 3 s): append mode must emit every
// window the final watermark closed, once, with the sum of all its rows.
TEST(WindowAggregateReference, AppendModeEmitsEveryClosedWindowOnceWithManyKeys) {
  const std::int64_t keys = 3000;
  const auto batches = timeline(14, keys, 1500, 11);
  rill::Time max_time{0};
  for (const auto& b : batches) {
    for (const ReferenceRow& r : b)
      max_time = std::max(max_time, r.time);
  }
  const rill::Time final_wm = max_time - 3s;
  for (const rill::TimeWindows& spec : {rill::sliding(6s, 2s), rill::sliding(5s, 2s, 1s)}) {
    const auto expected = reference(batches, spec, final_wm);
    ASSERT_GT(expected.size(), static_cast<std::size_t>(keys));
    for (std::size_t parallelism : {1u, 2u, 3u}) {
      rill::testing::Harness h{
          rill::Config{}.batch_interval(1s).parallelism(parallelism).worker_threads(2)};
      auto with_tail = batches;
      with_tail.emplace_back();  // the final watermark comes in force one batch later
      auto in = h.input<ReferenceRow>(with_tail);
      auto sums =
          in.with_watermark(&ReferenceRow::time, 3s)
              .aggregate_by_window(spec, &ReferenceRow::key, rill::agg::sum(&ReferenceRow::value));
      auto out = h.collect(sums);
      auto late = h.collect(sums.late_records());
      h.run_batches(with_tail.size());
      std::vector<ReferenceSummed> got;
      for (const auto& b : out.batches())
        got.insert(got.end(), b.begin(), b.end());
      std::sort(got.begin(), got.end());
      EXPECT_EQ(got, expected) << "spec size " << spec.size().count() << " slide "
                               << spec.slide().count() << ", parallelism " << parallelism;
      for (const auto& b : late.batches())
        EXPECT_TRUE(b.empty());
    }
  }
}
