// rill::kafka::MockCluster: topics, synchronous produce and broker control, checked with a plain
// librdkafka consumer.
#include <rill/core/errors.hpp>
#include <rill/kafka/mock_cluster.hpp>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

using rill::kafka::MockCluster;
using rill::kafka::ProducerRecord;

struct Read {
  std::int32_t partition;
  std::int64_t offset;
  std::string key;
  std::string value;
};

// Reads `n` records of `topic` (partitions 0..partitions-1 from the start) with a plain consumer.
std::vector<Read> read_all(const std::string& bootstrap, const std::string& topic, int partitions,
                           std::size_t n) {
  std::array<char, 256> err{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  EXPECT_EQ(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err.data(), err.size()),
            RD_KAFKA_CONF_OK);
  EXPECT_EQ(rd_kafka_conf_set(conf, "group.id", "mock-cluster-test", err.data(), err.size()),
            RD_KAFKA_CONF_OK);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err.data(), err.size());
  EXPECT_NE(rk, nullptr) << err.data();
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  EXPECT_EQ(rd_kafka_assign(rk, list), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(list);
  std::vector<Read> out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{20};
  while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      out.push_back({m->partition, m->offset,
                     std::string(static_cast<const char*>(m->key), m->key_len),
                     std::string(static_cast<const char*>(m->payload), m->len)});
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

TEST(MockCluster, RecordsProducedToChosenPartitionsAreReadBackInOffsetOrder) {
  MockCluster cluster{3};
  EXPECT_FALSE(cluster.bootstrap_servers().empty());
  cluster.create_topic("words", 3);
  std::vector<ProducerRecord> records;
  for (int i = 0; i < 30; ++i)
    records.push_back({.key = "k" + std::to_string(i),
                       .value = std::to_string(i),
                       .partition = i % 3,
                       .headers = {}});
  cluster.produce("words", records);

  const auto read = read_all(cluster.bootstrap_servers(), "words", 3, 30);
  ASSERT_EQ(read.size(), 30U);
  std::map<std::int32_t, std::int64_t> next_offset;
  for (const Read& r : read) {
    const int i = std::stoi(r.value);
    EXPECT_EQ(r.partition, i % 3);
    EXPECT_EQ(r.key, "k" + std::to_string(i));
    EXPECT_EQ(r.offset, next_offset[r.partition]++);  // offsets 0, 1, 2 ... in each partition
  }
}

TEST(MockCluster, RefusesAClusterWithoutBrokersAndATopicCreatedTwice) {
  EXPECT_THROW(MockCluster{0}, rill::InvalidArgument);
  MockCluster cluster{1};
  cluster.create_topic("t", 1);
  EXPECT_THROW(cluster.create_topic("t", 1), rill::IoError);
}

TEST(MockCluster, AProduceToAPartitionThatDoesNotExistFailsWithATypedError) {
  MockCluster cluster{1};
  cluster.create_topic("t", 2);
  const ProducerRecord bad{.key = {}, .value = "x", .partition = 7, .headers = {}};
  EXPECT_THROW(cluster.produce("t", bad, std::chrono::seconds{5}), rill::IoError);
}

}  // namespace
