// rill::kafka::write: records, keys, partitions and headers as written; acknowledgements,
// injected produce errors, an unreachable broker; the transactional sink's skipping of the
// batches a restarted context replays. Against rill::kafka::MockCluster, read back with a plain
// consumer (topic_reader.hpp).
#include <rill/kafka.hpp>
#include <rill/testing.hpp>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka_mock.h>

#include "kafka/topic_reader.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using rill::kafka::ProducerRecord;
using rill::kafka::Record;
using rill::kafka::SinkOptions;

namespace {

// Kafka's API key of Produce requests (librdkafka's RD_KAFKAP_Produce is not public).
constexpr std::int16_t kProduceApi = 0;

// The record an int becomes: value "v<i>", key null / empty / "k<i>", partition i % 3 or the
// partitioner's choice, one or no header of its own.
ProducerRecord record_of(int i) {
  ProducerRecord r;
  r.value = "v" + std::to_string(i);
  if (i % 5 == 0) {
    r.key = std::nullopt;
  } else if (i % 5 == 1) {
    r.key = "";
  } else {
    r.key = "k" + std::to_string(i);
  }
  if (i % 4 != 3) r.partition = i % 3;
  if (i % 2 == 0) r.headers = {{"n", std::to_string(i)}, {"rill.batch", "user's own"}};
  return r;
}

ProducerRecord plain_record(int i) {
  return ProducerRecord{.key = "k" + std::to_string(i),
                        .value = std::to_string(i),
                        .partition = std::nullopt,
                        .headers = {}};
}

// The rill.batch (ms) of every record read, counted.
std::map<std::string, int> records_per_batch(const std::vector<Record>& records) {
  std::map<std::string, int> out;
  for (const Record& r : records)
    ++out[rill_test::last_header(r, "rill.batch")];
  return out;
}

std::multiset<std::string> values_of(const std::vector<Record>& records) {
  std::multiset<std::string> out;
  for (const Record& r : records)
    out.insert(r.value);
  return out;
}

// Records the batch times a stream is written at, and whether each was a replay.
class ReplayRecorder final : public rill::Sink<int> {
 public:
  [[nodiscard]] std::string kind() const override { return "replay_recorder"; }
  [[nodiscard]] rill::SinkProperties properties() const override {
    return {.delivery = rill::Delivery::exactly_once};
  }
  void write(const rill::BatchView<int>& batch) override {
    std::lock_guard lock(mutex_);
    writes_.emplace_back(batch.time().milliseconds(), batch.replaying());
  }
  [[nodiscard]] std::vector<std::pair<std::int64_t, bool>> writes() const {
    std::lock_guard lock(mutex_);
    return writes_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::int64_t, bool>> writes_;
};

class KafkaWrite : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            fmt::format("rill-kafka-write-{}-{}", ::getpid(), std::random_device{}());
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // Six batches of three ints each: batch t (1000 .. 6000 ms) holds 10*k, 10*k+1, 10*k+2 for
  // k = t / 1000.
  static std::deque<std::vector<int>> six_batches() {
    std::deque<std::vector<int>> batches;
    for (int k = 1; k <= 6; ++k)
      batches.push_back({10 * k, 10 * k + 1, 10 * k + 2});
    return batches;
  }

  // A checkpointed context writing six_batches() to `topic` of `cluster` (get_or_create on
  // root_/ckpt), run until `until` ms and stopped as a kill would (not gracefully).
  void run_checkpointed(const rill::kafka::MockCluster& cluster, const std::string& topic,
                        const std::string& transactional_id, std::int64_t until,
                        std::shared_ptr<ReplayRecorder> recorder) {
    auto clock = rill::ManualClock::create();
    auto ctx = rill::StreamingContext::get_or_create(root_ / "ckpt", [&] {
      auto c = std::make_unique<rill::StreamingContext>(
          rill::Config{}.batch_interval(1s).parallelism(2).clock(clock));
      auto in = c->queue_stream<int>(six_batches());
      rill::kafka::write(
          in,
          SinkOptions{
              .bootstrap_servers = cluster.bootstrap_servers(),
              .topic = topic,
              .transactional_id = transactional_id,
              // Producer properties: the restart's reader of the topic
              // is given them too, and ignores them.
              .properties = {{"linger.ms", "2"}, {"acks", "all"}, {"compression.type", "lz4"}}},
          plain_record);
      in.to(recorder);
      return c;
    });
    rill::testing::run_until(*ctx, *clock, rill::Time{until});
    ctx->stop(rill::StopOptions{.graceful = false});
  }

  // As if the process had died after the outputs of the batches after `kept_ms`, before their
  // checkpoints: removes the checkpoint files of the later batches (their seal records stay).
  void lose_checkpoints_after(std::int64_t kept_ms) {
    for (const auto& e : fs::directory_iterator(root_ / "ckpt")) {
      const std::string name = e.path().filename().string();
      for (const char* kind : {"snapshot-", "delta-"}) {
        if (!name.starts_with(kind) || e.path().extension() != ".rill") continue;
        const std::int64_t t = std::stoll(name.substr(std::string(kind).size()));
        if (t > kept_ms) fs::remove(e.path());
      }
    }
  }

  fs::path root_;
};

TEST_F(KafkaWrite, RecordsKeysPartitionsAndHeadersArriveAsWritten) {
  rill::kafka::MockCluster cluster{3};
  cluster.create_topic("out", 3);
  rill::testing::Harness h{1s};
  std::vector<int> first(40);
  for (int i = 0; i < 40; ++i)
    first[static_cast<std::size_t>(i)] = i;
  auto in = h.input<int>({first, {}, {40, 41}});
  rill::kafka::write(in,
                     SinkOptions{.bootstrap_servers = cluster.bootstrap_servers(),
                                 .topic = "out",
                                 .transactional_id = "",
                                 .properties = {{"linger.ms", "1"}}},
                     record_of);
  h.run_batches(3);

  const std::vector<Record> read = rill_test::read_topic(cluster.bootstrap_servers(), "out", 3);
  ASSERT_EQ(read.size(), 42u);
  std::set<int> seen;
  for (const Record& r : read) {
    const int i = std::stoi(r.value.substr(1));
    SCOPED_TRACE(r.value);
    EXPECT_TRUE(seen.insert(i).second) << "written twice";
    const ProducerRecord sent = record_of(i);
    EXPECT_EQ(r.topic, "out");
    EXPECT_EQ(r.key, sent.key);  // null stays null, "" stays empty
    if (sent.partition) {
      EXPECT_EQ(r.partition, *sent.partition);
    }
    auto headers = sent.headers;
    headers.emplace_back("rill.batch", i < 40 ? "1000" : "3000");
    EXPECT_EQ(r.headers, headers);  // the record's own headers, then rill.batch
    EXPECT_EQ(rill_test::last_header(r, "rill.batch"), i < 40 ? "1000" : "3000");
  }
  // A record without a partition goes where the partitioner puts its key, always the same one.
  std::map<std::string, std::set<std::int32_t>> partitions_of_key;
  for (const Record& r : read)
    if (r.key && !r.key->empty()) partitions_of_key[*r.key].insert(r.partition);
  for (const auto& [key, partitions] : partitions_of_key)
    EXPECT_EQ(partitions.size(), 1u) << key;
}

TEST_F(KafkaWrite, RecordsOfOnePartitionKeepTheirOrderInTheirKafkaPartition) {
  rill::kafka::MockCluster cluster{1};
  cluster.create_topic("ordered", 1);
  rill::testing::Harness h{rill::Config{}.batch_interval(1s).parallelism(1)};
  std::vector<int> values(500);
  for (int i = 0; i < 500; ++i)
    values[static_cast<std::size_t>(i)] = i;
  rill::kafka::write(h.input<int>({values}),
                     SinkOptions{.bootstrap_servers = cluster.bootstrap_servers(),
                                 .topic = "ordered",
                                 .transactional_id = "",
                                 .properties = {}},
                     plain_record);
  h.run_batches(1);
  const auto read = rill_test::read_topic(cluster.bootstrap_servers(), "ordered", 1);
  ASSERT_EQ(read.size(), 500u);
  for (std::size_t i = 0; i < read.size(); ++i)
    EXPECT_EQ(read[i].value, std::to_string(i));
}

TEST_F(KafkaWrite, RetriableProduceErrorsAreRetriedAndNothingIsDuplicated) {
  rill::kafka::MockCluster cluster{1};
  cluster.create_topic("retried", 2);
  rill::testing::Harness h{1s};
  auto in = h.input<int>({{1, 2, 3, 4}, {5, 6, 7, 8}});
  rill::kafka::write(in,
                     SinkOptions{.bootstrap_servers = cluster.bootstrap_servers(),
                                 .topic = "retried",
                                 .transactional_id = "",
                                 .properties = {{"retry.backoff.ms", "10"}}},
                     plain_record);
  h.run_batches(1);
  // The next produce requests are refused, as by a broker losing its leadership or slow to
  // replicate; librdkafka retries them.
  rd_kafka_mock_push_request_errors(
      cluster.native(), kProduceApi, 4, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
      RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
      RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
  h.run_batches(1);
  const auto read = rill_test::read_topic(cluster.bootstrap_servers(), "retried", 2);
  EXPECT_EQ(values_of(read), (std::multiset<std::string>{"1", "2", "3", "4", "5", "6", "7", "8"}));
  EXPECT_EQ(records_per_batch(read), (std::map<std::string, int>{{"1000", 4}, {"2000", 4}}));
}

TEST_F(KafkaWrite, ALostAcknowledgementIsRetriedWithoutADuplicate) {
  // The broker appends the records but its answer comes after the request timed out: the
  // producer sends them again with the same sequence numbers, and the broker acknowledges the
  // duplicate without appending it. (librdkafka's mock checks sequences for transactional
  // producers only, hence the transactional id.)
  rill::kafka::MockCluster cluster{1};
  cluster.create_topic("late", 1);
  rill::testing::Harness h{1s};
  auto in = h.input<int>({{1, 2}, {3, 4, 5}});
  rill::kafka::write(
      in,
      SinkOptions{.bootstrap_servers = cluster.bootstrap_servers(),
                  .topic = "late",
                  .transactional_id = "late-sink",
                  .properties = {{"request.timeout.ms", "300"}, {"retry.backoff.ms", "10"}}},
      plain_record);
  h.run_batches(1);
  rd_kafka_mock_broker_push_request_error_rtts(cluster.native(), 1, kProduceApi, 1,
                                               RD_KAFKA_RESP_ERR_NO_ERROR, 1500);
  h.run_batches(1);
  const auto read = rill_test::read_topic(cluster.bootstrap_servers(), "late", 1);
  EXPECT_EQ(values_of(read), (std::multiset<std::string>{"1", "2", "3", "4", "5"}));
}

TEST_F(KafkaWrite, ANonRetriableErrorFailsTheBatchNamingTopicAndPartition) {
  for (const std::string transactional_id : {"", "failing-sink"}) {
    SCOPED_TRACE(transactional_id.empty() ? "at least once" : "transactional");
    rill::kafka::MockCluster cluster{1};
    cluster.create_topic("refused", 1);
    auto recorder = std::make_shared<ReplayRecorder>();
    const fs::path ckpt = root_ / "ckpt";
    fs::remove_all(ckpt);
    {
      auto clock = rill::ManualClock::create();
      auto ctx = rill::StreamingContext::get_or_create(ckpt, [&] {
        auto c = std::make_unique<rill::StreamingContext>(
            rill::Config{}.batch_interval(1s).parallelism(2).clock(clock));
        auto in = c->queue_stream<int>(six_batches());
        rill::kafka::write(
            in,
            SinkOptions{.bootstrap_servers = cluster.bootstrap_servers(),
                        .topic = "refused",
                        .transactional_id = transactional_id,
                        .properties = {}},
            [](int i) {
              return ProducerRecord{
                  .key = std::nullopt, .value = std::to_string(i), .partition = 0, .headers = {}};
            });
        in.to(recorder);
        return c;
      });
      rill::testing::run_until(*ctx, *clock, rill::Time{1000});
      rd_kafka_mock_push_request_errors(cluster.native(), kProduceApi, 1,
                                        RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
      try {
        rill::testing::run_until(*ctx, *clock, rill::Time{2000});
        FAIL() << "expected rill::IoError";
      } catch (const rill::IoError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("topic 'refused'"), std::string::npos) << what;
        EXPECT_NE(what.find("partition 0"), std::string::npos) << what;
        EXPECT_NE(what.find("batch 2000 ms"), std::string::npos) << what;
        EXPECT_NE(what.find("MSG_SIZE_TOO_LARGE"), std::string::npos) << what;
      }
      EXPECT_EQ(ctx->state(), rill::ContextState::stopped);
      EXPECT_THROW(ctx->await_termination(), rill::IoError);
    }
    // Batch 2000 was not committed: the restarted context runs it again and writes it.
    {
      auto clock = rill::ManualClock::create();
      auto ctx = rill::StreamingContext::get_or_create(ckpt, [&] {
        auto c = std::make_unique<rill::StreamingContext>(
            rill::Config{}.batch_interval(1s).parallelism(2).clock(clock));
        auto in = c->queue_stream<int>(six_batches());
        rill::kafka::write(in,
                           SinkOptions{.bootstrap_servers = cluster.bootstrap_servers(),
                                       .topic = "refused",
                                       .transactional_id = transactional_id,
                                       .properties = {}},
                           plain_record);
        in.to(recorder);
        return c;
      });
      rill::testing::run_until(*ctx, *clock, rill::Time{2000});
      ctx->stop(rill::StopOptions{.graceful = false});
    }
    const auto writes = recorder->writes();
    ASSERT_FALSE(writes.empty());
    EXPECT_EQ(writes.back(), (std::pair<std::int64_t, bool>{2000, true}));
    const auto read = rill_test::read_topic(cluster.bootstrap_servers(), "refused", 1);
    const auto per_batch = records_per_batch(read);
    EXPECT_EQ(per_batch.at("1000"), 3);
    // The refused request appended nothing: batch 2000 is there once, from the restart.
    EXPECT_EQ(per_batch.at("2000"), 3);
  }
}

TEST_F(KafkaWrite, ATransactionalSinkSkipsTheReplayedBatchesItCommittedBefore) {
  rill::kafka::MockCluster cluster{3};
  cluster.create_topic("exact", 3);
  auto recorder = std::make_shared<ReplayRecorder>();
  run_checkpointed(cluster, "exact", "exact-sink", 4000, recorder);
  lose_checkpoints_after(2000);
  run_checkpointed(cluster, "exact", "exact-sink", 6000, recorder);

  // The restart replayed 3000 and 4000 (their checkpoints were lost) ...
  const auto writes = recorder->writes();
  const std::vector<std::pair<std::int64_t, bool>> expected_writes{
      {1000, false}, {2000, false}, {3000, false}, {4000, false},
      {3000, true},  {4000, true},  {5000, false}, {6000, false}};
  EXPECT_EQ(writes, expected_writes);
  // ... and the sink, finding 4000 committed in the topic, did not write them again.
  const auto read = rill_test::read_topic(cluster.bootstrap_servers(), "exact", 3, true);
  EXPECT_EQ(records_per_batch(read),
            (std::map<std::string, int>{
                {"1000", 3}, {"2000", 3}, {"3000", 3}, {"4000", 3}, {"5000", 3}, {"6000", 3}}));
  std::multiset<std::string> expected;
  for (int k = 1; k <= 6; ++k)
    for (int j = 0; j < 3; ++j)
      expected.insert(std::to_string(10 * k + j));
  EXPECT_EQ(values_of(read), expected);
}

TEST_F(KafkaWrite, TheLastCommittedBatchIsFoundBehindRecordsOfOtherProducers) {
  // 700 records without rill.batch after the sink's last batch: the restart reads the tail in
  // growing windows (256, then 1024 records) until it finds the sink's header.
  rill::kafka::MockCluster cluster{1};
  cluster.create_topic("shared", 1);
  auto recorder = std::make_shared<ReplayRecorder>();
  run_checkpointed(cluster, "shared", "shared-sink", 2000, recorder);
  std::vector<ProducerRecord> others(700, ProducerRecord{.key = std::nullopt,
                                                         .value = "other",
                                                         .partition = 0,
                                                         .headers = {{"from", "elsewhere"}}});
  cluster.produce("shared", others);
  lose_checkpoints_after(1000);
  run_checkpointed(cluster, "shared", "shared-sink", 3000, recorder);
  EXPECT_EQ(recorder->writes().at(2), (std::pair<std::int64_t, bool>{2000, true}));
  const auto read = rill_test::read_topic(cluster.bootstrap_servers(), "shared", 1);
  EXPECT_EQ(records_per_batch(read),
            (std::map<std::string, int>{{"", 700}, {"1000", 3}, {"2000", 3}, {"3000", 3}}));
}

TEST_F(KafkaWrite, AnAtLeastOnceSinkWritesReplayedBatchesAgain) {
  rill::kafka::MockCluster cluster{1};
  cluster.create_topic("twice", 1);
  auto recorder = std::make_shared<ReplayRecorder>();
  run_checkpointed(cluster, "twice", "", 3000, recorder);
  lose_checkpoints_after(2000);
  run_checkpointed(cluster, "twice", "", 4000, recorder);
  const auto read = rill_test::read_topic(cluster.bootstrap_servers(), "twice", 1);
  EXPECT_EQ(records_per_batch(read),
            (std::map<std::string, int>{{"1000", 3}, {"2000", 3}, {"3000", 6}, {"4000", 3}}));
}

TEST_F(KafkaWrite, TheDeliveryCheckKnowsTheSinksGuarantee) {
  for (const std::string transactional_id : {"", "checked-sink"}) {
    SCOPED_TRACE(transactional_id);
    fs::remove_all(root_ / "ckpt");
    rill::StreamingContext ctx{rill::Config{}
                                   .batch_interval(1s)
                                   .clock(rill::ManualClock::create())
                                   .delivery(rill::Delivery::exactly_once)};
    rill::kafka::write(ctx.queue_stream<int>({}),
                       SinkOptions{.bootstrap_servers = "127.0.0.1:1",
                                   .topic = "t",
                                   .transactional_id = transactional_id,
                                   .properties = {}},
                       plain_record);
    ctx.checkpoint(root_ / "ckpt");
    if (transactional_id.empty()) {
      try {
        ctx.start();
        FAIL() << "expected rill::InvalidArgument";
      } catch (const rill::InvalidArgument& e) {
        EXPECT_NE(std::string(e.what()).find("output 'kafka#1' is at least once"),
                  std::string::npos)
            << e.what();
      }
    } else {
      EXPECT_NO_THROW(ctx.start());
      ctx.stop(rill::StopOptions{.graceful = false});
    }
  }
}

TEST_F(KafkaWrite, AnUnreachableBrokerFailsTheBatchWithinTheDeliveryTimeout) {
  for (const std::string transactional_id : {"", "unreachable-sink"}) {
    SCOPED_TRACE(transactional_id.empty() ? "at least once" : "transactional");
    rill::testing::Harness h{1s};
    rill::kafka::write(h.input<int>({{1, 2}}),
                       SinkOptions{.bootstrap_servers = "127.0.0.1:1",
                                   .topic = "nowhere",
                                   .transactional_id = transactional_id,
                                   .properties = {{"message.timeout.ms", "1000"}}},
                       plain_record);
    const auto started = std::chrono::steady_clock::now();
    try {
      h.run_batches(1);
      FAIL() << "expected rill::IoError";
    } catch (const rill::IoError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("topic 'nowhere'"), std::string::npos) << what;
      EXPECT_NE(what.find("timed out"), std::string::npos) << what;
    }
    EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  }
}

TEST_F(KafkaWrite, AThrowingToRecordFailsTheBatchWithItsError) {
  rill::kafka::MockCluster cluster{1};
  cluster.create_topic("thrown", 1);
  for (const std::string transactional_id : {"", "throwing-sink"}) {
    SCOPED_TRACE(transactional_id);
    rill::testing::Harness h{1s};
    rill::kafka::write(h.input<int>({{1, 2, 3}}),
                       SinkOptions{.bootstrap_servers = cluster.bootstrap_servers(),
                                   .topic = "thrown",
                                   .transactional_id = transactional_id,
                                   .properties = {}},
                       [](int i) {
                         if (i == 2) throw std::domain_error("no record for 2");
                         return plain_record(i);
                       });
    EXPECT_THROW(h.run_batches(1), std::domain_error);
  }
}

TEST_F(KafkaWrite, BadOptionsAreRefusedWhenTheSinkIsRegistered) {
  rill::testing::Harness h{1s};
  auto in = h.input<int>({{1}});
  const auto refused = [&](SinkOptions options, const std::string& named) {
    try {
      rill::kafka::write(in, options, plain_record);
      ADD_FAILURE() << "expected rill::InvalidArgument naming " << named;
    } catch (const rill::InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(named), std::string::npos) << e.what();
    }
  };
  const SinkOptions good{
      .bootstrap_servers = "127.0.0.1:1", .topic = "t", .transactional_id = "", .properties = {}};
  auto o = good;
  o.bootstrap_servers.clear();
  refused(o, "bootstrap_servers");
  o = good;
  o.topic.clear();
  refused(o, "topic");
  o = good;
  o.properties = {{"transactional.id", "x"}};
  refused(o, "transactional.id");
  o = good;
  o.properties = {{"enable.idempotence", "false"}};
  refused(o, "enable.idempotence");
  o = good;
  o.properties = {{"no.such.property", "1"}};
  refused(o, "no.such.property");
  o = good;
  o.transactional_id = "t1";
  o.properties = {{"message.timeout.ms", "900000"}};  // beyond transaction.timeout.ms
  refused(o, "rill::kafka::write");
}

}  // namespace
