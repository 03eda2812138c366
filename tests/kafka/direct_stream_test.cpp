// rill::kafka::direct_stream against librdkafka's mock cluster (shared/api.md, "Kafka, ZeroMQ
// and record formats"): offset ranges fixed at seal time, partitions as Kafka's, checkpoints,
// brokers going away, data loss and Trigger::available_now.
#include <rill/kafka.hpp>
#include <rill/rill.hpp>
#include <rill/testing.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using rill::kafka::MockCluster;
using rill::kafka::ProducerRecord;
using rill::kafka::Record;
using rill::kafka::SourceOptions;
using rill::kafka::StartingOffsets;

namespace {

// Short client timeouts keep the tests quick.
std::map<std::string, std::string> quick_properties() {
  return {{"fetch.wait.max.ms", "20"},
          {"topic.metadata.refresh.interval.ms", "1000"},
          {"reconnect.backoff.ms", "20"},
          {"reconnect.backoff.max.ms", "200"},
          {"session.timeout.ms", "6000"}};
}

SourceOptions options(const MockCluster& cluster, std::string topic,
                      StartingOffsets start = StartingOffsets::earliest) {
  return SourceOptions{.bootstrap_servers = cluster.bootstrap_servers(),
                       .topics = {std::move(topic)},
                       .group_id = "",
                       .starting_offsets = start,
                       .max_records_per_partition = 0,
                       .fail_on_data_loss = true,
                       .properties = quick_properties()};
}

std::vector<ProducerRecord> values(int from, int to, std::optional<std::int32_t> partition) {
  std::vector<ProducerRecord> out;
  for (int i = from; i < to; ++i)
    out.push_back({.key = "k" + std::to_string(i),
                   .value = std::to_string(i),
                   .partition = partition,
                   .headers = {}});
  return out;
}

/// The batches an output saw: per batch time, the records of each rill partition. Replayed
/// batches overwrite their time's entry (an idempotent output).
class Seen {
 public:
  void add(rill::Time t, const rill::Batch<Record>& batch) {
    std::vector<std::vector<Record>> parts;
    for (std::size_t p = 0; p < batch.num_partitions(); ++p) {
      auto part = batch.partition(p);
      parts.emplace_back(part.begin(), part.end());
    }
    std::lock_guard lock(mutex_);
    batches_[t] = std::move(parts);
  }
  std::map<rill::Time, std::vector<std::vector<Record>>> batches() {
    std::lock_guard lock(mutex_);
    return batches_;
  }
  /// Every record's value, in batch, partition and offset order.
  std::vector<std::string> values() {
    std::vector<std::string> out;
    for (const auto& [t, parts] : batches()) {
      for (const auto& part : parts) {
        for (const auto& r : part)
          out.push_back(r.value);
      }
    }
    return out;
  }

 private:
  std::mutex mutex_;
  std::map<rill::Time, std::vector<std::vector<Record>>> batches_;
};

std::unique_ptr<rill::StreamingContext> context(const std::shared_ptr<rill::ManualClock>& clock,
                                                const SourceOptions& opts,
                                                const std::shared_ptr<Seen>& seen,
                                                rill::Config config = {}) {
  auto ctx = std::make_unique<rill::StreamingContext>(
      config.batch_interval(1s).parallelism(2).worker_threads(2).clock(clock));
  rill::kafka::direct_stream(*ctx, opts)
      .foreach_batch([seen](const rill::Batch<Record>& b, rill::Time t) { seen->add(t, b); },
                     rill::idempotent);
  return ctx;
}

std::vector<std::string> range_values(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i)
    out.push_back(std::to_string(i));
  return out;
}

fs::path temp_dir(const std::string& what) {
  return fs::temp_directory_path() /
         fmt::format("rill-kafka-{}-{}-{}", what, ::getpid(), std::random_device{}());
}

TEST(KafkaDirectStream, ABatchHasOneRillPartitionPerKafkaPartitionWithRecordsInOffsetOrder) {
  MockCluster cluster{3};
  cluster.create_topic("orders", 4);
  // Partitions 0, 2 and 3 get records; 1 stays empty.
  cluster.produce("orders", values(0, 3, 0));
  cluster.produce("orders", values(3, 5, 2));
  cluster.produce("orders", values(5, 9, 3));
  auto clock = rill::ManualClock::create();
  auto seen = std::make_shared<Seen>();
  auto ctx = context(clock, options(cluster, "orders"), seen);
  rill::testing::run_until(*ctx, *clock, rill::Time{1000});
  ctx->stop();

  const auto batches = seen->batches();
  ASSERT_EQ(batches.size(), 1U);
  const auto& parts = batches.begin()->second;
  ASSERT_EQ(parts.size(), 4U);  // as many rill partitions as the topic has Kafka partitions
  const std::vector<std::pair<std::int32_t, std::vector<std::string>>> expected{
      {0, {"0", "1", "2"}}, {2, {"3", "4"}}, {3, {"5", "6", "7", "8"}}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(parts[i].size(), expected[i].second.size()) << "rill partition " << i;
    for (std::size_t k = 0; k < parts[i].size(); ++k) {
      EXPECT_EQ(parts[i][k].partition, expected[i].first);
      EXPECT_EQ(parts[i][k].offset, static_cast<std::int64_t>(k));
      EXPECT_EQ(parts[i][k].value, expected[i].second[k]);
      EXPECT_EQ(parts[i][k].topic, "orders");
    }
  }
  EXPECT_TRUE(parts[3].empty());  // the partitions left over are empty
}

TEST(KafkaDirectStream, RecordFieldsKeepKeysHeadersAndTimestamps) {
  MockCluster cluster{1};
  cluster.create_topic("t", 1);
  const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  cluster.produce("t",
                  std::vector<ProducerRecord>{
                      {.key = std::nullopt, .value = "null key", .partition = 0, .headers = {}},
                      {.key = "", .value = "", .partition = 0, .headers = {}},
                      {.key = "k",
                       .value = "with headers",
                       .partition = 0,
                       .headers = {{"b", "2"}, {"a", ""}, {"b", "3"}}}});
  auto clock = rill::ManualClock::create();
  auto seen = std::make_shared<Seen>();
  auto ctx = context(clock, options(cluster, "t"), seen);
  rill::testing::run_until(*ctx, *clock, rill::Time{1000});
  ctx->stop();
  const auto parts = seen->batches().at(rill::Time{1000});
  ASSERT_EQ(parts[0].size(), 3U);
  const auto& r = parts[0];
  EXPECT_EQ(r[0].key, std::nullopt);
  EXPECT_EQ(r[0].value, "null key");
  EXPECT_EQ(r[1].key, std::optional<std::string>{""});
  EXPECT_EQ(r[1].value, "");
  EXPECT_EQ(r[2].key, std::optional<std::string>{"k"});
  const std::vector<std::pair<std::string, std::string>> headers{{"b", "2"}, {"a", ""}, {"b", "3"}};
  EXPECT_EQ(r[2].headers, headers);
  EXPECT_TRUE(r[0].headers.empty());
  for (const auto& rec : r) {
    EXPECT_GE(rec.timestamp.milliseconds(), before);  // ms since the epoch
    EXPECT_LT(rec.timestamp.milliseconds(), before + 60'000);
  }
}

TEST(KafkaDirectStream, EachBatchTakesWhatWasAcknowledgedBeforeItsSealCappedPerPartition) {
  MockCluster cluster{1};
  cluster.create_topic("t", 2);
  cluster.produce("t", values(0, 5, 0));
  auto opts = options(cluster, "t");
  opts.max_records_per_partition = 3;
  auto clock = rill::ManualClock::create();
  auto seen = std::make_shared<Seen>();
  auto ctx = context(clock, opts, seen);
  rill::testing::run_until(*ctx, *clock, rill::Time{1000});
  cluster.produce("t", values(5, 7, 1));
  rill::testing::run_until(*ctx, *clock, rill::Time{2000});
  rill::testing::run_until(*ctx, *clock, rill::Time{3000});
  ctx->stop();
  const auto b = seen->batches();
  ASSERT_EQ(b.size(), 3U);
  auto vals = [](const std::vector<Record>& part) {
    std::vector<std::string> out;
    for (const auto& r : part)
      out.push_back(r.value);
    return out;
  };
  EXPECT_EQ(vals(b.at(rill::Time{1000})[0]), (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_TRUE(b.at(rill::Time{1000})[1].empty());
  EXPECT_EQ(vals(b.at(rill::Time{2000})[0]), (std::vector<std::string>{"3", "4"}));
  EXPECT_EQ(vals(b.at(rill::Time{2000})[1]), (std::vector<std::string>{"5", "6"}));
  EXPECT_TRUE(b.at(rill::Time{3000})[0].empty());
  const auto stats = ctx->source_stats();
  ASSERT_EQ(stats.size(), 1U);
  EXPECT_EQ(stats[0].records, 7);
}

TEST(KafkaDirectStream, EarliestReadsWhatIsRetainedAndLatestOnlyWhatComesAfterStart) {
  MockCluster cluster{1};
  cluster.create_topic("t", 2);
  cluster.produce("t", values(0, 4, std::nullopt));
  for (const auto start : {StartingOffsets::earliest, StartingOffsets::latest}) {
    auto clock = rill::ManualClock::create();
    auto seen = std::make_shared<Seen>();
    auto ctx = context(clock, options(cluster, "t", start), seen);
    ctx->start();
    cluster.produce("t", values(100, 102, 1));
    rill::testing::run_until(*ctx, *clock, rill::Time{1000});
    ctx->stop();
    auto got = seen->values();
    std::sort(got.begin(), got.end());
    if (start == StartingOffsets::earliest) {
      EXPECT_EQ(got, (std::vector<std::string>{"0", "1", "100", "101", "2", "3"}));
    } else {
      EXPECT_EQ(got, (std::vector<std::string>{"100", "101"}));
    }
  }
}

TEST(KafkaDirectStream, ARestartFromTheCheckpointReadsEveryRecordExactlyOnce) {
  MockCluster cluster{1};
  cluster.create_topic("t", 3);
  const fs::path dir = temp_dir("restart");
  auto seen = std::make_shared<Seen>();
  auto run = [&](std::int64_t from_batch, std::int64_t to_batch, int produce_from) {
    auto clock = rill::ManualClock::create();
    clock->set_time(rill::Time{(from_batch - 1) * 1000});
    auto ctx = rill::StreamingContext::get_or_create(dir, [&] {
      auto c = context(clock, options(cluster, "t", StartingOffsets::latest), seen,
                       rill::Config{}.delivery(rill::Delivery::exactly_once));
      c->checkpoint(dir);
      return c;
    });
    // latest: the first run starts after the end offsets it finds at start().
    ctx->start();
    int next = produce_from;
    for (std::int64_t b = from_batch; b <= to_batch; ++b) {
      cluster.produce("t", values(next, next + 5, std::nullopt));
      next += 5;
      rill::testing::run_until(*ctx, *clock, rill::Time{b * 1000});
    }
    ctx->stop(rill::StopOptions{.graceful = false});
    return next;
  };
  int next = run(1, 3, 0);
  // Records produced while no process runs are read by the next run.
  cluster.produce("t", values(next, next + 4, std::nullopt));
  next = run(4, 6, next + 4);
  auto got = seen->values();
  std::sort(got.begin(), got.end());
  auto want = range_values(0, next);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  fs::remove_all(dir);
}

TEST(KafkaDirectStream, ABatchSealedButNotCheckpointedIsReplayedWithExactlyItsOffsets) {
  MockCluster cluster{1};
  cluster.create_topic("t", 2);
  const fs::path dir = temp_dir("replay");
  auto make = [&](const std::shared_ptr<rill::ManualClock>& clock,
                  const std::shared_ptr<Seen>& seen) {
    return rill::StreamingContext::get_or_create(dir, [&] {
      auto c = context(clock, options(cluster, "t"), seen);
      c->checkpoint(dir);
      return c;
    });
  };
  auto first = std::make_shared<Seen>();
  {
    auto clock = rill::ManualClock::create();
    auto ctx = make(clock, first);
    for (int b = 1; b <= 3; ++b) {
      cluster.produce("t", values(b * 10, b * 10 + 4, std::nullopt));
      rill::testing::run_until(*ctx, *clock, rill::Time{b * 1000});
    }
    ctx->stop(rill::StopOptions{.graceful = false});
  }
  // As if the process died after batch 3000 ran but before its checkpoint was written.
  std::vector<fs::path> newest;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto stem = e.path().stem().string();
    if (stem == "snapshot-3000" || stem == "delta-3000") newest.push_back(e.path());
  }
  ASSERT_EQ(newest.size(), 1U);
  fs::remove(newest[0]);
  cluster.produce("t", values(100, 104, std::nullopt));  // after the seal: not batch 3000's
  auto second = std::make_shared<Seen>();
  {
    auto clock = rill::ManualClock::create();
    clock->set_time(rill::Time{2000});
    auto ctx = make(clock, second);
    rill::testing::run_until(*ctx, *clock, rill::Time{4000});
    ctx->stop();
  }
  const auto a = first->batches();
  const auto b = second->batches();
  ASSERT_TRUE(b.contains(rill::Time{3000}));
  EXPECT_EQ(b.at(rill::Time{3000}), a.at(rill::Time{3000}));  // the same records, partitions
  std::vector<std::string> fourth;
  for (const auto& part : b.at(rill::Time{4000})) {
    for (const auto& r : part)
      fourth.push_back(r.value);
  }
  std::sort(fourth.begin(), fourth.end());
  EXPECT_EQ(fourth, (std::vector<std::string>{"100", "101", "102", "103"}));
  fs::remove_all(dir);
}

/// The offsets `group` committed for partitions 0..partitions-1 of `topic` (-1: none), read
/// with a plain librdkafka consumer.
std::vector<std::int64_t> committed(const MockCluster& cluster, const std::string& group,
                                    const std::string& topic, int partitions) {
  std::array<char, 256> err{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  EXPECT_EQ(rd_kafka_conf_set(conf, "bootstrap.servers", cluster.bootstrap_servers().c_str(),
                              err.data(), err.size()),
            RD_KAFKA_CONF_OK);
  EXPECT_EQ(rd_kafka_conf_set(conf, "group.id", group.c_str(), err.data(), err.size()),
            RD_KAFKA_CONF_OK);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err.data(), err.size());
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p);
  std::vector<std::int64_t> out(static_cast<std::size_t>(partitions), -1);
  if (rd_kafka_committed(rk, list, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int p = 0; p < partitions; ++p)
      out[static_cast<std::size_t>(p)] = list->elems[p].offset;
  }
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

// Without a group_id the source commits to its internal group after each checkpoint (with one,
// each range is committed when it is sealed: tests/kafka/group_test.cpp).
TEST(KafkaDirectStream, OffsetsAreCommittedToTheInternalGroupAfterEachCheckpoint) {
  MockCluster cluster{1};
  cluster.create_topic("t", 2);
  const fs::path dir = temp_dir("commit");
  auto clock = rill::ManualClock::create();
  auto seen = std::make_shared<Seen>();
  auto opts = options(cluster, "t");
  const std::string group = "rill-direct-stream.t";
  auto ctx = context(clock, opts, seen);
  ctx->checkpoint(dir);
  cluster.produce("t", values(0, 3, 0));
  cluster.produce("t", values(3, 8, 1));
  rill::testing::run_until(*ctx, *clock, rill::Time{1000});
  cluster.produce("t", values(8, 10, 0));
  rill::testing::run_until(*ctx, *clock, rill::Time{2000});
  // The commit is asynchronous: it lands shortly after batch 2000's checkpoint.
  std::vector<std::int64_t> got;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  do {
    got = committed(cluster, group, "t", 2);
  } while (got != std::vector<std::int64_t>{5, 5} && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(got, (std::vector<std::int64_t>{5, 5}));
  ctx->stop();
  fs::remove_all(dir);
}

TEST(KafkaDirectStream, BatchesStayEmptyWhileTheBrokerIsDownAndNothingIsLost) {
  MockCluster cluster{1};
  cluster.create_topic("t", 2);
  cluster.produce("t", values(0, 6, std::nullopt));
  auto clock = rill::ManualClock::create();
  auto seen = std::make_shared<Seen>();
  auto ctx = context(clock, options(cluster, "t"), seen);
  rill::testing::run_until(*ctx, *clock, rill::Time{1000});
  cluster.set_broker_down(1);
  rill::testing::run_until(*ctx, *clock, rill::Time{2000});
  rill::testing::run_until(*ctx, *clock, rill::Time{3000});
  EXPECT_GT(ctx->source_stats()[0].errors, 0);
  EXPECT_EQ(ctx->state(), rill::ContextState::active);
  cluster.set_broker_up(1);
  cluster.produce("t", values(6, 10, std::nullopt));
  // librdkafka reconnects with back-off: a few batches at most.
  std::int64_t t = 3000;
  while (seen->values().size() < 10 && t < 30'000) {
    t += 1000;
    rill::testing::run_until(*ctx, *clock, rill::Time{t});
  }
  ctx->stop();
  const auto b = seen->batches();
  for (const auto& [bt, parts] : b) {
    if (bt == rill::Time{2000} || bt == rill::Time{3000}) {
      for (const auto& part : parts)
        EXPECT_TRUE(part.empty()) << "batch " << bt.milliseconds();
    }
  }
  auto got = seen->values();
  std::sort(got.begin(), got.end());
  auto want = range_values(0, 10);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
}

/// Runs the stream on `dir` (a checkpoint) with `opts` until batch `until`; returns the error
/// the context failed with, if any.
std::exception_ptr run_checkpointed(const fs::path& dir, const SourceOptions& opts,
                                    const std::shared_ptr<Seen>& seen, std::int64_t from_batch,
                                    std::int64_t until, std::int64_t* skipped = nullptr) {
  auto clock = rill::ManualClock::create();
  clock->set_time(rill::Time{(from_batch - 1) * 1000});
  auto ctx = rill::StreamingContext::get_or_create(dir, [&] {
    auto c = context(clock, opts, seen);
    c->checkpoint(dir);
    return c;
  });
  std::exception_ptr error;
  try {
    ctx->start();
    clock->set_time(rill::Time{until * 1000});
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline &&
           !seen->batches().contains(rill::Time{until * 1000})) {
      if (ctx->await_termination_for(20ms)) break;
    }
    if (skipped != nullptr) *skipped = ctx->source_stats()[0].skipped;
    ctx->stop(rill::StopOptions{.graceful = false});
    ctx->await_termination();
  } catch (...) {
    error = std::current_exception();
  }
  return error;
}

std::string message_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const rill::IoError& io) {
    return io.what();
  } catch (const std::exception& other) {
    return std::string("not an IoError: ") + other.what();
  }
}

class DataLoss : public ::testing::TestWithParam<bool> {};

TEST_P(DataLoss, RecordsRemovedByRetentionFailTheContextOrAreSkippedAndCounted) {
  const bool fail = GetParam();
  MockCluster cluster{1};
  cluster.create_topic("t", 1);
  cluster.produce("t", values(0, 3, 0));
  const fs::path dir = temp_dir("retention");
  auto opts = options(cluster, "t");
  opts.fail_on_data_loss = fail;
  auto seen = std::make_shared<Seen>();
  ASSERT_EQ(run_checkpointed(dir, opts, seen, 1, 1), nullptr);
  // While nothing runs, retention removes offsets 3.. : the mock keeps about 5 MB a partition.
  std::vector<ProducerRecord> big;
  for (int i = 0; i < 70; ++i)
    big.push_back({.key = {},
                   .value = std::string(100'000, 'a' + static_cast<char>(i % 26)),
                   .partition = 0,
                   .headers = {}});
  cluster.produce("t", big);
  std::int64_t skipped = 0;
  const auto error = run_checkpointed(dir, opts, seen, 2, 2, &skipped);
  if (fail) {
    ASSERT_NE(error, nullptr);
    const std::string what = message_of(error);
    EXPECT_NE(what.find("t[0]"), std::string::npos) << what;
    EXPECT_NE(what.find("records 3.."), std::string::npos) << what;
    EXPECT_NE(what.find("fail_on_data_loss"), std::string::npos) << what;
  } else {
    EXPECT_EQ(error, nullptr);
    const auto second = seen->batches().at(rill::Time{2000});
    ASSERT_FALSE(second[0].empty());
    const std::int64_t first_kept = second[0].front().offset;
    EXPECT_GT(first_kept, 3);
    EXPECT_EQ(second[0].back().offset, 72);  // read on to the end
    EXPECT_EQ(skipped, first_kept - 3);
  }
  fs::remove_all(dir);
}

TEST_P(DataLoss, ATopicCreatedAgainWithFewerRecordsFailsOrIsReadFromItsStart) {
  const bool fail = GetParam();
  const fs::path dir = temp_dir("recreated");
  auto seen = std::make_shared<Seen>();
  {
    MockCluster cluster{1};
    cluster.create_topic("t", 1);
    cluster.produce("t", values(0, 10, 0));
    auto opts = options(cluster, "t");
    opts.fail_on_data_loss = fail;
    ASSERT_EQ(run_checkpointed(dir, opts, seen, 1, 1), nullptr);
  }
  MockCluster cluster{1};  // the "same" topic, deleted and created again
  cluster.create_topic("t", 1);
  cluster.produce("t", values(50, 53, 0));
  auto opts = options(cluster, "t");
  opts.fail_on_data_loss = fail;
  const auto error = run_checkpointed(dir, opts, seen, 2, 3);
  if (fail) {
    ASSERT_NE(error, nullptr);
    const std::string what = message_of(error);
    EXPECT_NE(what.find("t[0]"), std::string::npos) << what;
    EXPECT_NE(what.find("end offset 3 is below the next offset 10"), std::string::npos) << what;
  } else {
    EXPECT_EQ(error, nullptr);
    auto got = seen->values();
    EXPECT_EQ(got.size(), 13U);
    EXPECT_EQ(std::vector<std::string>(got.end() - 3, got.end()),
              (std::vector<std::string>{"50", "51", "52"}));
  }
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(KafkaDirectStream, DataLoss, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Fail" : "Skip"; });

TEST(KafkaDirectStream, AvailableNowReadsUpToTheEndOffsetsAtStartThenStops) {
  MockCluster cluster{1};
  cluster.create_topic("t", 2);
  cluster.produce("t", values(0, 7, 0));
  cluster.produce("t", values(7, 9, 1));
  auto opts = options(cluster, "t");
  opts.max_records_per_partition = 3;
  auto clock = rill::ManualClock::create();
  auto seen = std::make_shared<Seen>();
  auto ctx = context(clock, opts, seen, rill::Config{}.trigger(rill::Trigger::available_now()));
  ctx->start();
  cluster.produce("t", values(100, 110, 1));  // after start: not available
  ASSERT_TRUE(ctx->await_termination_for(30s));
  const auto b = seen->batches();
  // Partition 0 holds 7 records, 3 a batch: three batches.
  EXPECT_EQ(b.size(), 3U);
  auto got = seen->values();
  std::sort(got.begin(), got.end());
  auto want = range_values(0, 9);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
}

TEST(KafkaDirectStream, AvailableNowRefusesAGroupId) {
  MockCluster cluster{1};
  cluster.create_topic("t", 2);
  auto opts = options(cluster, "t");
  opts.group_id = "g";
  auto clock = rill::ManualClock::create();
  auto seen = std::make_shared<Seen>();
  auto ctx = context(clock, opts, seen, rill::Config{}.trigger(rill::Trigger::available_now()));
  // Which partitions a member finishes depends on the group: not a bounded run.
  EXPECT_THROW(ctx->start(), rill::InvalidArgument);
}

TEST(KafkaDirectStream, IsExactlyOnceWithACheckpointAndRefusesExactlyOnceWithout) {
  MockCluster cluster{1};
  cluster.create_topic("t", 1);
  auto clock = rill::ManualClock::create();
  auto seen = std::make_shared<Seen>();
  {
    auto ctx = context(clock, options(cluster, "t"), seen,
                       rill::Config{}.delivery(rill::Delivery::exactly_once));
    EXPECT_THROW(ctx->start(), rill::InvalidArgument);  // no checkpoint directory
  }
  const fs::path dir = temp_dir("delivery");
  auto ctx = context(clock, options(cluster, "t"), seen,
                     rill::Config{}.delivery(rill::Delivery::exactly_once));
  ctx->checkpoint(dir);
  EXPECT_NO_THROW(ctx->start());
  ctx->stop();
  fs::remove_all(dir);
}

TEST(KafkaDirectStream, RefusesOptionsThatCannotWorkWithTypedErrors) {
  MockCluster cluster{1};
  cluster.create_topic("t", 1);
  rill::StreamingContext ctx{1s};
  auto opts = options(cluster, "t");
  opts.bootstrap_servers.clear();
  EXPECT_THROW(rill::kafka::direct_stream(ctx, opts), rill::InvalidArgument);
  opts = options(cluster, "t");
  opts.topics.clear();
  EXPECT_THROW(rill::kafka::direct_stream(ctx, opts), rill::InvalidArgument);
  opts = options(cluster, "t");
  opts.max_records_per_partition = -1;
  EXPECT_THROW(rill::kafka::direct_stream(ctx, opts), rill::InvalidArgument);
  opts = options(cluster, "t");
  opts.properties["no.such.property"] = "1";
  EXPECT_THROW(rill::kafka::direct_stream(ctx, opts), rill::InvalidArgument);
}

}  // namespace
