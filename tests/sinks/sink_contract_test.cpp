// The public sink contract: a user's Sink<T>, registered with DStream::to, is run like rill's
// own outputs, sees the batch whole or streamed by partition, and declares its guarantee.

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include <rill/testing.hpp>

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

/// Records every write: the batch time, the whole batch, and the chunks of each partition.
template <class T>
class RecordingSink final : public rill::Sink<T> {
 public:
  struct Write {
    std::int64_t time = 0;
    std::vector<T> whole;
    std::vector<std::vector<T>> partitions;
    std::size_t largest_chunk = 0;
    bool replaying = false;
  };

  explicit RecordingSink(rill::Delivery delivery = rill::Delivery::exactly_once)
      : delivery_(delivery) {}

  [[nodiscard]] std::string kind() const override { return "recording"; }
  [[nodiscard]] rill::SinkProperties properties() const override { return {.delivery = delivery_}; }
  void write(const rill::BatchView<T>& batch) override {
    Write w;
    w.time = batch.time().milliseconds();
    w.replaying = batch.replaying();
    w.whole = batch.get()->collect();
    w.partitions.resize(batch.num_partitions());
    std::mutex chunk_mutex;
    batch.for_each_chunk([&](std::size_t p, std::span<const T> chunk) {
      std::lock_guard lock(chunk_mutex);
      w.partitions[p].insert(w.partitions[p].end(), chunk.begin(), chunk.end());
      w.largest_chunk = std::max(w.largest_chunk, chunk.size());
    });
    std::lock_guard lock(mutex_);
    writes_.push_back(std::move(w));
  }
  [[nodiscard]] std::vector<Write> writes() const {
    std::lock_guard lock(mutex_);
    return writes_;
  }

 private:
  rill::Delivery delivery_;
  mutable std::mutex mutex_;
  std::vector<Write> writes_;
};

}  // namespace

TEST(SinkContract, WritesEveryDefinedBatchWholeAndByPartition) {
  rill::testing::Harness h{rill::Config{}.batch_interval(1s).parallelism(2)};
  std::vector<int> many(3000);
  for (int i = 0; i < 3000; ++i)
    many[static_cast<std::size_t>(i)] = i;
  auto sink = std::make_shared<RecordingSink<int>>();
  // A fused narrow chain ends in the sink; the second batch is empty and still written.
  h.input<int>({many, {}})
      .map([](int x) { return x * 2; })
      .filter([](int x) { return x % 3 == 0; })
      .to(sink);
  h.run_batches(2);
  const auto writes = sink->writes();
  ASSERT_EQ(writes.size(), 2u);
  std::vector<int> expected;
  for (int x : many) {
    if ((x * 2) % 3 == 0) expected.push_back(x * 2);
  }
  EXPECT_EQ(writes[0].time, 1000);
  EXPECT_FALSE(writes[0].replaying);
  EXPECT_EQ(writes[0].whole, expected);
  ASSERT_EQ(writes[0].partitions.size(), 2u);
  std::vector<int> joined = writes[0].partitions[0];
  joined.insert(joined.end(), writes[0].partitions[1].begin(), writes[0].partitions[1].end());
  EXPECT_EQ(joined, expected);  // partitions in order, chunks in order within each
  EXPECT_LE(writes[0].largest_chunk, 1024u);
  EXPECT_EQ(writes[1].time, 2000);
  EXPECT_TRUE(writes[1].whole.empty());
}

TEST(SinkContract, ASinkRunsOnlyAtTheTimesItsStreamIsDefined) {
  rill::testing::Harness h{1s};
  auto sink = std::make_shared<RecordingSink<int>>();
  h.input<int>({{1}, {2}, {3}, {4}}).window(2s, 2s).to(sink);
  h.run_batches(4);
  const auto writes = sink->writes();
  ASSERT_EQ(writes.size(), 2u);
  EXPECT_EQ(writes[0].time, 2000);
  EXPECT_EQ(writes[0].whole, (std::vector<int>{1, 2}));
  EXPECT_EQ(writes[1].time, 4000);
  EXPECT_EQ(writes[1].whole, (std::vector<int>{3, 4}));
}

TEST(SinkContract, ANullSinkAndALateSinkAreRefused) {
  rill::testing::Harness h{1s};
  auto in = h.input<int>({{1}});
  EXPECT_THROW(in.to(nullptr), rill::InvalidArgument);
  h.collect(in);
  h.run_batches(1);
  EXPECT_THROW(in.to(std::make_shared<RecordingSink<int>>()), rill::IllegalState);
}

TEST(SinkContract, TheDeliveryCheckReadsTheSinksProperties) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("rill-sink-delivery-{}", ::getpid());
  auto config = [] {
    return rill::Config{}
        .batch_interval(1s)
        .clock(rill::ManualClock::create())
        .delivery(rill::Delivery::exactly_once);
  };
  {
    // An at-least-once sink is refused, by the name its kind gave it.
    rill::StreamingContext ctx{config()};
    ctx.queue_stream<int>({}).to(
        std::make_shared<RecordingSink<int>>(rill::Delivery::at_least_once));
    ctx.checkpoint(dir);
    try {
      ctx.start();
      FAIL() << "expected rill::InvalidArgument";
    } catch (const rill::InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("output 'recording#1' is at least once"),
                std::string::npos)
          << e.what();
    }
  }
  fs::remove_all(dir);
  {
    // An exactly-once sink and a console (print) are accepted.
    rill::StreamingContext ctx{config()};
    auto in = ctx.queue_stream<int>({});
    in.to(std::make_shared<RecordingSink<int>>(rill::Delivery::exactly_once));
    in.print();
    ctx.checkpoint(dir);
    EXPECT_NO_THROW(ctx.start());
    ctx.stop();
  }
  fs::remove_all(dir);
}
