// The public source contract: a user's Source<T>, added with StreamingContext::add_source, is
// sealed, partitioned, counted, checkpointed and replayed like rill's own sources.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include <rill/testing.hpp>

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

/// What a CountingSource saw, shared with the test (the source itself belongs to the context).
struct Seen {
  std::mutex mutex;
  std::vector<std::int64_t> replayed;  // batch times replay() was called for
  std::vector<std::int64_t> loaded;    // positions load_position() restored
};

/// Batch t holds `per_batch` consecutive numbers, continuing where the last batch stopped; the
/// seal record is the first number, the checkpointed position the next number to emit.
class CountingSource final : public rill::Source<std::int64_t> {
 public:
  CountingSource(std::int64_t per_batch, std::shared_ptr<Seen> seen, std::size_t partitions = 0)
      : per_batch_(per_batch), seen_(std::move(seen)), partitions_(partitions) {}

  [[nodiscard]] std::string kind() const override { return "counting"; }
  [[nodiscard]] rill::SourceProperties properties() const override {
    return {.delivery = rill::Delivery::exactly_once, .replayable = true};
  }
  [[nodiscard]] std::size_t num_partitions() const override { return partitions_; }
  void start(rill::SourceContext& ctx) override {
    checkpointing_ = ctx.checkpointing();
    name_ = ctx.name();
  }
  rill::Sealed<std::int64_t> seal(rill::Time t, bool /*take_buffered*/) override {
    rill::Sealed<std::int64_t> sealed{numbers(next_), {}};
    if (checkpointing_) sealed.seal_record = rill::detail::to_bytes(next_);
    std::lock_guard lock(mutex_);
    after_[t] = next_ += per_batch_;
    return sealed;
  }
  std::vector<std::int64_t> replay(rill::Time t, std::string_view record) override {
    std::int64_t first = 0;
    rill::detail::from_bytes(record, first);
    {
      std::lock_guard lock(seen_->mutex);
      seen_->replayed.push_back(t.milliseconds());
    }
    std::lock_guard lock(mutex_);
    after_[t] = next_ = first + per_batch_;
    return numbers(first);
  }
  void release(rill::Time t) override {
    std::lock_guard lock(mutex_);
    after_.erase(after_.begin(), after_.upper_bound(t));
  }
  [[nodiscard]] std::optional<rill::PositionType> position() const override {
    return rill::position_type<std::int64_t>();
  }
  [[nodiscard]] std::string save_position(rill::Time t) const override {
    std::lock_guard lock(mutex_);
    auto it = after_.find(t);
    return rill::detail::to_bytes(it == after_.end() ? next_ : it->second);
  }
  void load_position(std::string_view bytes) override {
    rill::detail::from_bytes(bytes, next_);
    std::lock_guard lock(seen_->mutex);
    seen_->loaded.push_back(next_);
  }
  [[nodiscard]] rill::SourceCounts counts() const override { return {.skipped = 2, .errors = 1}; }

  [[nodiscard]] const std::string& started_as() const noexcept { return name_; }

 private:
  [[nodiscard]] std::vector<std::int64_t> numbers(std::int64_t first) const {
    std::vector<std::int64_t> out;
    for (std::int64_t i = 0; i < per_batch_; ++i)
      out.push_back(first + i);
    return out;
  }

  std::int64_t per_batch_;
  std::shared_ptr<Seen> seen_;
  std::size_t partitions_;
  bool checkpointing_ = false;
  std::string name_;
  std::int64_t next_ = 0;
  mutable std::mutex mutex_;
  std::map<rill::Time, std::int64_t> after_;
};

}  // namespace

TEST(SourceContract, RecordsArePartitionedCountedAndNamedLikeBuiltInSources) {
  rill::testing::Harness h{1s};
  auto seen = std::make_shared<Seen>();
  auto source = std::make_shared<CountingSource>(5, seen, /*partitions=*/3);
  auto stream = h.context().add_source<std::int64_t>(source);
  EXPECT_EQ(stream.name(), "counting#1");
  EXPECT_EQ(stream.num_partitions(), 3u);
  auto glommed = h.collect(stream.glom());
  h.run_batches(2);
  EXPECT_EQ(source->started_as(), "counting#1");
  // Five records cut into three contiguous partitions, as Spark's parallelize slices.
  using Parts = std::vector<std::vector<std::int64_t>>;
  EXPECT_EQ(glommed.batches()[0], (Parts{{0}, {1, 2}, {3, 4}}));
  EXPECT_EQ(glommed.batches()[1], (Parts{{5}, {6, 7}, {8, 9}}));
  const auto stats = h.context().source_stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].name, "counting#1");
  EXPECT_EQ(stats[0].records, 10);
  EXPECT_EQ(stats[0].skipped, 2);
  EXPECT_EQ(stats[0].errors, 1);
}

/// Seals the same five numbers every batch and says how to cut them: Source::partition_sizes().
class SizedSource final : public rill::Source<int> {
 public:
  [[nodiscard]] std::string kind() const override { return "sized"; }
  [[nodiscard]] rill::SourceProperties properties() const override { return {}; }
  [[nodiscard]] std::size_t num_partitions() const override { return 3; }
  rill::Sealed<int> seal(rill::Time /*t*/, bool /*take_buffered*/) override {
    return rill::Sealed<int>{{1, 2, 3, 4, 5}, {}};
  }
  [[nodiscard]] std::vector<std::size_t> partition_sizes(rill::Time t) const override {
    // Odd batches: two partitions of records and an empty one; even: the even cut.
    if ((t.milliseconds() / 1000) % 2 == 1) return {2, 3};
    return {};
  }
};

TEST(SourceContract, ASourceCanSayHowItsRecordsAreCutIntoPartitions) {
  rill::testing::Harness h{1s};
  auto stream = h.context().add_source<int>(std::make_shared<SizedSource>());
  auto glommed = h.collect(stream.map([](int x) { return x * 10; }).glom());
  h.run_batches(2);
  using Parts = std::vector<std::vector<int>>;
  EXPECT_EQ(glommed.batches()[0], (Parts{{10, 20}, {30, 40, 50}, {}}));
  EXPECT_EQ(glommed.batches()[1], (Parts{{10}, {20, 30}, {40, 50}}));
}

TEST(SourceContract, ANullSourceAndALateSourceAreRefused) {
  rill::testing::Harness h{1s};
  EXPECT_THROW(h.context().add_source<int>(nullptr), rill::InvalidArgument);
  h.collect(h.input<int>({{1}}));
  h.run_batches(1);
  EXPECT_THROW(h.context().add_source<std::int64_t>(
                   std::make_shared<CountingSource>(1, std::make_shared<Seen>())),
               rill::IllegalState);
}

TEST(SourceContract, PositionIsCheckpointedAndASealedBatchIsReplayedFromItsRecord) {
  const fs::path root = fs::temp_directory_path() /
                        fmt::format("rill-source-{}-{}", ::getpid(), std::random_device{}());
  auto seen = std::make_shared<Seen>();
  auto outputs = std::make_shared<std::map<std::int64_t, std::vector<std::int64_t>>>();
  auto out_mutex = std::make_shared<std::mutex>();
  const fs::path kept = root.string() + "-sealed-4000";
  auto run = [&](std::int64_t until) {
    auto clock = rill::ManualClock::create();
    auto ctx = rill::StreamingContext::get_or_create(root, [&] {
      auto c = std::make_unique<rill::StreamingContext>(
          rill::Config{}.batch_interval(1s).parallelism(2).clock(clock));
      c->add_source<std::int64_t>(std::make_shared<CountingSource>(3, seen))
          .foreach_batch(
              [&, outputs, out_mutex](const rill::Batch<std::int64_t>& b, rill::Time t) {
                // Batch 4000's seal record, as a process killed after this output (before
                // the checkpoint that deletes it) leaves it.
                if (t == rill::Time{4000} && !fs::exists(kept))
                  fs::copy_file(root / "sealed-4000.rill", kept);
                std::lock_guard lock(*out_mutex);
                (*outputs)[t.milliseconds()] = b.collect();
              },
              rill::idempotent);
      return c;
    });
    rill::testing::run_until(*ctx, *clock, rill::Time{until});
    ctx->stop(rill::StopOptions{.graceful = false});
  };
  run(4000);
  // As if the process died after batch 4000's outputs, before its checkpoint.
  std::vector<fs::path> checkpoints;
  for (const auto& e : fs::directory_iterator(root)) {
    const auto name = e.path().filename().string();
    if (name.starts_with("delta-4000") || name.starts_with("snapshot-4000"))
      checkpoints.push_back(e.path());
  }
  ASSERT_EQ(checkpoints.size(), 1u);
  fs::remove(checkpoints[0]);
  fs::rename(kept, root / "sealed-4000.rill");
  run(6000);
  {
    std::lock_guard lock(seen->mutex);
    // Restored from batch 3000 (the position after it is 9: the chain's last entry), then
    // batch 4000 replayed from its seal record.
    ASSERT_FALSE(seen->loaded.empty());
    EXPECT_EQ(seen->loaded.back(), 9);
    EXPECT_EQ(seen->replayed, (std::vector<std::int64_t>{4000}));
  }
  std::lock_guard lock(*out_mutex);
  EXPECT_EQ(outputs->at(4000), (std::vector<std::int64_t>{9, 10, 11}));
  EXPECT_EQ(outputs->at(5000), (std::vector<std::int64_t>{12, 13, 14}));
  EXPECT_EQ(outputs->at(6000), (std::vector<std::int64_t>{15, 16, 17}));
  fs::remove_all(root);
}

TEST(SourceContract, TheDeliveryCheckReadsTheSourcesProperties) {
  // A source that cannot replay what it received, under Config::delivery(exactly_once).
  class Lossy final : public rill::Source<int> {
   public:
    [[nodiscard]] std::string kind() const override { return "lossy"; }
    [[nodiscard]] rill::SourceProperties properties() const override {
      return {.delivery = rill::Delivery::at_most_once};
    }
    rill::Sealed<int> seal(rill::Time, bool) override { return {}; }
  };
  const fs::path dir =
      fs::temp_directory_path() / fmt::format("rill-source-delivery-{}", ::getpid());
  rill::StreamingContext ctx{rill::Config{}
                                 .batch_interval(1s)
                                 .clock(rill::ManualClock::create())
                                 .delivery(rill::Delivery::exactly_once)};
  ctx.add_source<int>(std::make_shared<Lossy>())
      .foreach_batch([](const rill::Batch<int>&, rill::Time) {}, rill::idempotent);
  ctx.checkpoint(dir);
  try {
    ctx.start();
    FAIL() << "expected rill::InvalidArgument";
  } catch (const rill::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("source 'lossy#1' cannot replay its input"),
              std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
}
