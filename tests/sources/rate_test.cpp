// Integration tests of rate_stream: values, counts per batch, ramp-up, partitions, purity.

#include <cstdint>
#include <mutex>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

using namespace std::chrono_literals;

namespace {

/// Rows of one batch as seen by foreach_batch, with the partition layout.
struct SeenBatch {
  rill::Time time;
  std::vector<std::vector<rill::RateRow>> partitions;

  [[nodiscard]] std::vector<rill::RateRow> rows() const {
    std::vector<rill::RateRow> out;
    for (const auto& p : partitions)
      out.insert(out.end(), p.begin(), p.end());
    return out;
  }
};

/// Registers an output keeping every batch of `stream` with its partitions.
std::shared_ptr<std::vector<SeenBatch>> keep_partitions(
    const rill::DStream<rill::RateRow>& stream) {
  auto seen = std::make_shared<std::vector<SeenBatch>>();
  auto mutex = std::make_shared<std::mutex>();
  stream.foreach_batch([seen, mutex](const rill::Batch<rill::RateRow>& batch, rill::Time t) {
    SeenBatch b{t, {}};
    for (std::size_t i = 0; i < batch.num_partitions(); ++i) {
      auto part = batch.partition(i);
      b.partitions.emplace_back(part.begin(), part.end());
    }
    std::lock_guard lock(*mutex);
    seen->push_back(std::move(b));
  });
  return seen;
}

std::vector<std::int64_t> values_of(const std::vector<rill::RateRow>& rows) {
  std::vector<std::int64_t> out;
  out.reserve(rows.size());
  for (const auto& r : rows)
    out.push_back(r.value);
  return out;
}

std::vector<std::size_t> sizes_of(const std::vector<std::vector<rill::RateRow>>& batches) {
  std::vector<std::size_t> out;
  for (const auto& b : batches)
    out.push_back(b.size());
  return out;
}

}  // namespace

TEST(RateStream, ValuesAreGapFreeAndWithoutRepeatsAcrossBatches) {
  rill::testing::Harness h{1s};
  auto out = h.collect(h.context().rate_stream(rill::RateOptions{.rows_per_second = 1000}));
  h.run_batches(5);

  const auto batches = out.batches();
  ASSERT_EQ(batches.size(), 5U);
  std::vector<std::int64_t> all;
  for (const auto& b : batches) {
    const auto v = values_of(b);
    all.insert(all.end(), v.begin(), v.end());
  }
  std::vector<std::int64_t> expected(5000);
  std::iota(expected.begin(), expected.end(), std::int64_t{0});
  EXPECT_EQ(all, expected);
  EXPECT_EQ(h.context().source_stats().at(0).records, 5000);
  EXPECT_EQ(h.context().source_stats().at(0).skipped, 0);
  EXPECT_EQ(h.context().source_stats().at(0).errors, 0);
}

TEST(RateStream, TimestampsAreSpreadEvenlyOverTheBatchInterval) {
  rill::testing::Harness h{1s};
  auto out = h.collect(h.context().rate_stream(rill::RateOptions{.rows_per_second = 4}));
  h.run_batches(2);

  const auto batches = out.batches();
  ASSERT_EQ(batches.size(), 2U);
  // Batch 2000 covers [1000, 2000): rows at start + floor(i * 1000 / 4).
  EXPECT_EQ(batches[1], (std::vector<rill::RateRow>{{rill::Time{1000}, 4},
                                                    {rill::Time{1250}, 5},
                                                    {rill::Time{1500}, 6},
                                                    {rill::Time{1750}, 7}}));
  for (std::size_t b = 0; b < batches.size(); ++b) {
    const rill::Time t = out.times()[b];
    for (const auto& row : batches[b]) {
      EXPECT_GE(row.timestamp, t - 1s);
      EXPECT_LT(row.timestamp, t);
    }
  }
}

TEST(RateStream, CountPerBatchIsRateTimesInterval) {
  {
    rill::testing::Harness h{1s};
    auto out = h.collect(h.context().rate_stream(rill::RateOptions{.rows_per_second = 3}));
    h.run_batches(4);
    EXPECT_EQ(sizes_of(out.batches()), (std::vector<std::size_t>{3, 3, 3, 3}));
  }
  {
    rill::testing::Harness h{500ms};
    auto out = h.collect(h.context().rate_stream(rill::RateOptions{.rows_per_second = 10}));
    h.run_batches(4);
    EXPECT_EQ(sizes_of(out.batches()), (std::vector<std::size_t>{5, 5, 5, 5}));
  }
  {
    rill::testing::Harness h{2s};
    auto out = h.collect(h.context().rate_stream(rill::RateOptions{.rows_per_second = 250}));
    h.run_batches(3);
    EXPECT_EQ(sizes_of(out.batches()), (std::vector<std::size_t>{500, 500, 500}));
  }
}

TEST(RateStream, FractionalRowsPerBatchAddUpWithoutDrift) {
  // 1 row per second with 300 ms batches: floor(e / 1000) rows after e ms, so one row every
  // third or fourth batch and exactly one per second in total.
  rill::testing::Harness h{300ms};
  auto out = h.collect(h.context().rate_stream(rill::RateOptions{.rows_per_second = 1}));
  h.run_batches(10);  // up to 3000 ms
  const auto batches = out.batches();
  ASSERT_EQ(batches.size(), 10U);
  // rows_after(300 k) = floor(0.3 k): 0 0 0 1 1 1 2 2 2 3 for k = 1..10.
  EXPECT_EQ(sizes_of(batches), (std::vector<std::size_t>{0, 0, 0, 1, 0, 0, 1, 0, 0, 1}));
  std::vector<std::int64_t> all;
  for (const auto& b : batches) {
    const auto v = values_of(b);
    all.insert(all.end(), v.begin(), v.end());
  }
  EXPECT_EQ(all, (std::vector<std::int64_t>{0, 1, 2}));
}

TEST(RateStream, RampUpGrowsLinearlyThenHoldsTheRate) {
  rill::testing::Harness h{1s};
  auto out =
      h.collect(h.context().rate_stream(rill::RateOptions{.rows_per_second = 1000, .ramp_up = 4s}));
  h.run_batches(7);
  // rows_after(e) = floor(1000 e^2 / (2 * 4000 * 1000)) for e <= 4000 ms:
  // 125, 500, 1125, 2000; then floor(1000 (2e - 4000) / 2000): 3000, 4000, 5000.
  const auto sizes = sizes_of(out.batches());
  EXPECT_EQ(sizes, (std::vector<std::size_t>{125, 375, 625, 875, 1000, 1000, 1000}));
  for (std::size_t i = 1; i < 4; ++i)
    EXPECT_GT(sizes[i], sizes[i - 1]) << "batch " << i;

  std::vector<std::int64_t> all;
  for (const auto& b : out.batches()) {
    const auto v = values_of(b);
    all.insert(all.end(), v.begin(), v.end());
  }
  std::vector<std::int64_t> expected(5000);
  std::iota(expected.begin(), expected.end(), std::int64_t{0});
  EXPECT_EQ(all, expected);
}

TEST(RateStream, RampUpNotAMultipleOfTheInterval) {
  rill::testing::Harness h{1s};
  auto out = h.collect(
      h.context().rate_stream(rill::RateOptions{.rows_per_second = 100, .ramp_up = 1500ms}));
  h.run_batches(4);
  // e=1000: floor(100*1e6/(2*1500*1000)) = 33; e=2000: floor(100*(4000-1500)/2000) = 125;
  // e=3000: 225; e=4000: 325.
  EXPECT_EQ(sizes_of(out.batches()), (std::vector<std::size_t>{33, 92, 100, 100}));
}

TEST(RateStream, NumPartitionsIsRespectedWithContiguousSlices) {
  rill::testing::Harness h{1s};
  auto seen = keep_partitions(
      h.context().rate_stream(rill::RateOptions{.rows_per_second = 10, .num_partitions = 3}));
  h.run_batches(2);
  ASSERT_EQ(seen->size(), 2U);
  for (const auto& b : *seen) {
    ASSERT_EQ(b.partitions.size(), 3U);
    // 10 rows in 3 slices: [p * 10 / 3, (p + 1) * 10 / 3) -> 3, 3, 4.
    EXPECT_EQ(sizes_of(b.partitions), (std::vector<std::size_t>{3, 3, 4}));
  }
  EXPECT_EQ(values_of((*seen)[1].partitions[0]), (std::vector<std::int64_t>{10, 11, 12}));
  EXPECT_EQ(values_of((*seen)[1].partitions[1]), (std::vector<std::int64_t>{13, 14, 15}));
  EXPECT_EQ(values_of((*seen)[1].partitions[2]), (std::vector<std::int64_t>{16, 17, 18, 19}));
}

TEST(RateStream, DefaultPartitionsFollowTheParallelism) {
  rill::testing::Harness h{rill::Config{}.batch_interval(1s).parallelism(4).worker_threads(2)};
  auto seen = keep_partitions(h.context().rate_stream(rill::RateOptions{.rows_per_second = 8}));
  h.run_batches(1);
  ASSERT_EQ(seen->size(), 1U);
  EXPECT_EQ(sizes_of((*seen)[0].partitions), (std::vector<std::size_t>{2, 2, 2, 2}));
}

TEST(RateStream, MorePartitionsThanRowsGivesEmptySlices) {
  rill::testing::Harness h{1s};
  auto seen = keep_partitions(
      h.context().rate_stream(rill::RateOptions{.rows_per_second = 2, .num_partitions = 5}));
  h.run_batches(2);
  ASSERT_EQ(seen->size(), 2U);
  for (const auto& b : *seen) {
    EXPECT_EQ(b.partitions.size(), 5U);
    EXPECT_EQ(b.rows().size(), 2U);
  }
  EXPECT_EQ(values_of((*seen)[1].rows()), (std::vector<std::int64_t>{2, 3}));
}

TEST(RateStream, RowsOfABatchArePureFunctionOfItsTime) {
  const auto run = [](std::size_t parallelism) {
    rill::testing::Harness h{rill::Config{}.batch_interval(250ms).parallelism(parallelism)};
    auto out =
        h.collect(h.context().rate_stream(rill::RateOptions{.rows_per_second = 37, .ramp_up = 1s}));
    h.run_batches(8);
    return std::pair{out.times(), out.batches()};
  };
  const auto first = run(2);
  const auto second = run(2);
  const auto third = run(3);  // the partitioning differs; the rows do not
  EXPECT_EQ(first.first, second.first);
  EXPECT_EQ(first.second, second.second);
  EXPECT_EQ(first.second, third.second);
  ASSERT_EQ(first.second.size(), 8U);
  EXPECT_FALSE(first.second.back().empty());
}

TEST(RateStream, BackPressureDoesNotShiftRows) {
  // A rate stream is computed from the batch time, not buffered: batches sealed while others
  // wait (max_pending_batches) still get exactly their rows.
  rill::testing::Harness h{rill::Config{}.batch_interval(1s).max_pending_batches(1)};
  auto out = h.collect(h.context().rate_stream(rill::RateOptions{.rows_per_second = 5}));
  h.run_batches(1);
  h.clock().advance(3s);  // three ticks at once, before any runs
  h.run_batches(3);
  const auto batches = out.batches();
  ASSERT_EQ(batches.size(), 4U);
  std::vector<std::int64_t> all;
  for (const auto& b : batches) {
    EXPECT_EQ(b.size(), 5U);
    const auto v = values_of(b);
    all.insert(all.end(), v.begin(), v.end());
  }
  std::vector<std::int64_t> expected(20);
  std::iota(expected.begin(), expected.end(), std::int64_t{0});
  EXPECT_EQ(all, expected);
}

TEST(RateStream, InvalidOptionsThrowInvalidArgument) {
  rill::StreamingContext ctx{rill::Config{}.batch_interval(1s).clock(rill::ManualClock::create())};
  EXPECT_THROW(ctx.rate_stream(rill::RateOptions{.rows_per_second = 0}), rill::InvalidArgument);
  EXPECT_THROW(ctx.rate_stream(rill::RateOptions{.rows_per_second = -5}), rill::InvalidArgument);
  EXPECT_THROW(ctx.rate_stream(rill::RateOptions{.rows_per_second = 10, .ramp_up = -1ms}),
               rill::InvalidArgument);
  // A valid call on the same context still works.
  EXPECT_NO_THROW(ctx.rate_stream(rill::RateOptions{.rows_per_second = 1, .ramp_up = 0ms}));
}
