// drop_duplicates and drop_duplicates_within_watermark (shared/api.md, "Event time"): Spark's
// StreamingDeduplicationSuite and StreamingDeduplicationWithinWatermarkSuite translated to rill's
// batches. rill runs every batch, so where Spark's test relies on a no-data batch to evict, the
// translation has an empty batch. In batch t: rows at or before wm(t - interval) are late, the
// rest are deduped against the remembered keys, then keys are forgotten with wm(t).
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <rill/testing.hpp>

#include "support/checkpointed_run.hpp"
#include "support/state_recorder.hpp"
#include "support/table.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct Click {
  int id = 0;
  rill::Time time;
  auto operator<=>(const Click&) const = default;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(id, time);
  }
};

Click click(int id, std::int64_t seconds) {
  return Click{id, rill::Time{seconds * 1000}};
}

/// (keys, late_records) of the operator named `name`, per batch.
using rill_test::record_state;

using rill_test::config;

using Batches = std::vector<std::vector<Click>>;

}  // namespace

TEST(DropDuplicates, KeyWithTheEventTimeIsForgottenOnceTheWatermarkReachesIt) {
  // StreamingDeduplicationSuite "deduplicate with watermark": the key is the event time (s), the
  // delay 10 s.
  rill::testing::Harness h{config()};
  auto state = record_state(h, "dedup");
  Batches input(7);
  for (int i = 0; i < 5; ++i) {
    for (int s = 10; s <= 15; ++s)
      input[0].push_back(click(i, s));
  }
  input[1] = {click(0, 25)};
  input[3] = {click(0, 10)};
  input[4] = {click(0, 45)};
  input[6] = {click(0, 25)};
  auto out = h.collect(h.input<Click>(input)
                           .with_watermark(&Click::time, 10s)
                           .drop_duplicates([](const Click& c) { return c.time.milliseconds(); })
                           .name("dedup"));
  h.run_batches(7);
  EXPECT_EQ(
      out.sorted_batches(),
      (Batches{{click(0, 10), click(0, 11), click(0, 12), click(0, 13), click(0, 14), click(0, 15)},
               {click(0, 25)},
               {},
               {},
               {click(0, 45)},
               {},
               {}}));
  // 1000: 6 keys (global wm 5 s after). 2000: wm(t) = 5 s forgets nothing; 25 joins (global 15 s).
  // 3000: wm(t) = 15 s forgets 10..15. 4000: 10 <= wm(3000) = 15 s is late. 5000: 45 passes
  // (global 35 s). 6000: wm(t) = 35 s forgets 25. 7000: 25 <= 35 s is late.
  EXPECT_EQ(state->keys(), (std::vector<std::int64_t>{6, 7, 1, 1, 2, 1, 1}));
  EXPECT_EQ(state->late(), (std::vector<std::int64_t>{0, 0, 0, 1, 0, 0, 1}));
}

TEST(DropDuplicates, AKeyIsRememberedUntilTheWatermarkReachesThePassedRowsTime) {
  // Key: the id alone, delay 0. Batch 1000: (1 @ 1 s) passes; global wm 1 s. Batch 2000: (1 @
  // 1.5 s) is a duplicate (dedupe comes before eviction), then wm(t) = 1 s >= 1 s forgets key 1.
  // Batch 3000: (1 @ 2 s) is not late (wm(2000) = 1 s) and passes again.
  rill::testing::Harness h{config()};
  auto state = record_state(h, "dedup");
  auto out = h.collect(
      h.input<Click>(
           {{click(1, 1)}, {Click{1, rill::Time{1500}}}, {click(1, 2), Click{1, rill::Time{2500}}}})
          .with_watermark(&Click::time, 0s)
          .drop_duplicates(&Click::id)
          .name("dedup"));
  h.run_batches(3);
  EXPECT_EQ(out.batches(), (Batches{{click(1, 1)}, {}, {click(1, 2)}}));
  // Batch 3000 forgets nothing: wm(3000) = 1.5 s < 2 s.
  EXPECT_EQ(state->keys(), (std::vector<std::int64_t>{1, 0, 1}));
  EXPECT_EQ(state->late(), (std::vector<std::int64_t>{0, 0, 0}));
}

TEST(DropDuplicates, TheFirstRowToArriveWinsWithinABatch) {
  rill::testing::Harness h{config()};
  auto out = h.collect(h.input<Click>({{click(7, 9), click(7, 3), click(8, 1), click(7, 1)}})
                           .with_watermark(&Click::time, 0s)
                           .drop_duplicates(&Click::id));
  h.run_batches(1);
  // Arrival order, not event time, decides: (7 @ 9 s) is first for key 7.
  EXPECT_EQ(out.sorted_batches(), (Batches{{click(7, 9), click(8, 1)}}));
}

TEST(DropDuplicates, WithoutAWatermarkEveryKeyIsRememberedForeverAndNothingIsLate) {
  // Another input moves the global watermark far ahead; the stream deduplicated has none.
  rill::testing::Harness h{config()};
  auto state = record_state(h, "dedup");
  auto fast = h.input<Click>({{click(0, 1000)}, {}, {}});
  (void)h.collect(fast.with_watermark(&Click::time, 0s));
  auto out = h.collect(h.input<Click>({{click(1, 1)}, {click(1, 1), click(2, 0)}, {click(1, 2)}})
                           .with_event_time(&Click::time)
                           .drop_duplicates(&Click::id)
                           .name("dedup"));
  h.run_batches(3);
  EXPECT_EQ(out.batches(), (Batches{{click(1, 1)}, {click(2, 0)}, {}}));
  EXPECT_EQ(state->keys(), (std::vector<std::int64_t>{1, 2, 2}));
  EXPECT_EQ(state->late(), (std::vector<std::int64_t>{0, 0, 0}));
}

TEST(DropDuplicatesWithinWatermark, AKeyIsForgottenOnceTheWatermarkReachesItsFirstTimePlusDelay) {
  // StreamingDeduplicationWithinWatermarkSuite: key "id", delay 2 s, times in s. a = 1, b = 2,
  // c = 3.
  rill::testing::Harness h{config()};
  auto state = record_state(h, "dedup");
  auto out = h.collect(h.input<Click>({{click(1, 17)},
                                       {click(1, 16)},
                                       {click(1, 13)},
                                       {click(2, 22), click(3, 21)},
                                       {},
                                       {click(1, 21)},
                                       {click(1, 22), click(2, 25)},
                                       {}})
                           .with_watermark(&Click::time, 2s)
                           .drop_duplicates_within_watermark(&Click::id)
                           .name("dedup"));
  h.run_batches(8);
  EXPECT_EQ(
      out.sorted_batches(),
      (Batches{{click(1, 17)}, {}, {}, {click(2, 22), click(3, 21)}, {}, {click(1, 21)}, {}, {}}));
  // 1000: a until 19 s; global 15 s. 2000: a @ 16 is a duplicate. 3000: a @ 13 <= wm(2000) =
  // 15 s is late. 4000: b until 24 s, c until 23 s; global 20 s. 5000: wm(t) = 20 s >= 19 s
  // forgets a. 6000: a @ 21 passes (until 23 s). 7000: a and b are duplicates; global 23 s.
  // 8000: wm(t) = 23 s >= 23 s forgets a and c (Spark's `watermark >= expiresAt`), b stays.
  EXPECT_EQ(state->keys(), (std::vector<std::int64_t>{1, 1, 1, 3, 2, 3, 3, 1}));
  EXPECT_EQ(state->late(), (std::vector<std::int64_t>{0, 0, 1, 0, 0, 0, 0, 0}));
}

TEST(DropDuplicatesWithinWatermark, AStreamWithoutAWatermarkIsRefusedByTheCall) {
  rill::testing::Harness h{config()};
  auto events = h.input<Click>({{}}).with_event_time(&Click::time);
  try {
    (void)events.drop_duplicates_within_watermark(&Click::id);
    FAIL() << "a stream without a watermark was accepted";
  } catch (const rill::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("with_event_time"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("with_watermark"), std::string::npos) << e.what();
  }
  // drop_duplicates takes it (it remembers every key).
  EXPECT_NO_THROW((void)events.drop_duplicates(&Click::id));
}

namespace {

class DedupRecovery : public rill_test::CheckpointedRun {};

using Sink = std::map<rill::Time, std::vector<Click>>;

}  // namespace

TEST_F(DedupRecovery, RestartsGiveTheOutputOfAnUninterruptedRun) {
  auto sink = std::make_shared<Sink>();
  auto build = [&](rill::StreamingContext& c) {
    c.queue_stream<Click>({{click(1, 17), click(1, 18)},
                           {click(1, 16), click(2, 17)},
                           {click(1, 13), click(3, 30)},
                           {click(1, 20), click(2, 22)},
                           {},
                           {click(1, 29), click(2, 29), click(3, 31)},
                           {click(1, 30)},
                           {}})
        .with_watermark(&Click::time, 2s)
        .name("clicks")
        .drop_duplicates_within_watermark(&Click::id)
        .name("dedup")
        .foreach_batch([sink](const rill::Batch<Click>& b, rill::Time t) {
          auto rows = b.collect();
          std::sort(rows.begin(), rows.end());
          (*sink)[t] = std::move(rows);
        });
  };
  run(build, 8000);
  const Sink uninterrupted = *sink;
  // Global watermark at the end of each batch: 16, 16, 28, 28, 28, 29, 29, 29 s. Keys 1 and 2
  // are remembered until 19 s, key 3 until 32 s. 3000: 1 @ 13 <= wm(2000) = 16 s is late.
  // 4000: 1 @ 20 and 2 @ 22 are not late (> 16 s) but duplicates (dedupe before eviction); then
  // wm(t) = 28 s forgets 1 and 2. 6000: 1 and 2 pass again (until 31 s), 3 is a duplicate.
  // The restarts stop before the eviction at 4000 and after it.
  EXPECT_EQ(uninterrupted, (Sink{{rill::Time{1000}, {click(1, 17)}},
                                 {rill::Time{2000}, {click(2, 17)}},
                                 {rill::Time{3000}, {click(3, 30)}},
                                 {rill::Time{4000}, {}},
                                 {rill::Time{5000}, {}},
                                 {rill::Time{6000}, {click(1, 29), click(2, 29)}},
                                 {rill::Time{7000}, {}},
                                 {rill::Time{8000}, {}}}));
  fs::remove_all(dir_);
  sink->clear();
  run(build, 3000);
  run(build, 5000);
  run(build, 8000);
  EXPECT_EQ(*sink, uninterrupted);
}

TEST_F(DedupRecovery, ADeltaHoldsOnlyTheKeysThatChanged) {
  constexpr int kKeys = 20000;
  std::deque<std::vector<Click>> input(8);
  for (int k = 0; k < kKeys; ++k)
    input[0].push_back(click(k, 1));
  for (int b = 1; b < 8; ++b)
    input[static_cast<std::size_t>(b)] = {click(kKeys + b, 2), click(7, 2), click(11, 2)};
  auto sink = std::make_shared<std::map<rill::Time, std::size_t>>();
  auto build = [&](rill::StreamingContext& c) {
    c.queue_stream<Click>(input)
        .with_event_time(&Click::time)
        .drop_duplicates(&Click::id)
        .name("dedup")
        .foreach_batch(
            [sink](const rill::Batch<Click>& b, rill::Time t) { (*sink)[t] = b.size(); });
  };
  run(build, 8000);
  // The first batch remembers kKeys keys: its delta outweighs the empty snapshot at 0, so the
  // next checkpoint is a snapshot. Each later batch remembers one new key (7 and 11 are
  // duplicates): its delta holds that key alone.
  const auto snapshot = size_of("snapshot-2000");
  EXPECT_GT(snapshot, 100000u);
  for (int b = 3; b <= 8; ++b) {
    SCOPED_TRACE(b);
    EXPECT_LT(size_of(fmt::format("delta-{}", b * 1000)), snapshot / 100);
  }
  EXPECT_EQ((*sink)[rill::Time{1000}], static_cast<std::size_t>(kKeys));
  for (int b = 2; b <= 8; ++b)
    EXPECT_EQ((*sink)[rill::Time{b * 1000}], 1u);
}
