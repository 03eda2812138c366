#pragma once
// Reads a whole topic back with a plain librdkafka consumer, for the Kafka tests.

#include <rill/kafka/record.hpp>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace rill_test {

/// Every record of `topic` (partitions 0..partitions-1, from their start to their end), in
/// partition then offset order. `read_committed`: the consumer's isolation level. Fails the test
/// when the end of a partition is not reached within 20 s.
inline std::vector<rill::kafka::Record> read_topic(const std::string& bootstrap,
                                                   const std::string& topic, int partitions,
                                                   bool read_committed = false) {
  std::array<char, 256> err{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::map<std::string, std::string> properties{
      {"bootstrap.servers", bootstrap},
      {"group.id", "rill-kafka-test-reader"},
      {"enable.auto.commit", "false"},
      {"enable.partition.eof", "true"},
      {"isolation.level", read_committed ? "read_committed" : "read_uncommitted"},
      {"fetch.wait.max.ms", "10"},
      {"log_level", "3"}};
  for (const auto& [name, value] : properties)
    EXPECT_EQ(rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err.data(), err.size()),
              RD_KAFKA_CONF_OK)
        << err.data();
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err.data(), err.size());
  if (rk == nullptr) {
    ADD_FAILURE() << err.data();
    return {};
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  EXPECT_EQ(rd_kafka_assign(rk, list), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(list);

  std::map<std::int32_t, std::vector<rill::kafka::Record>> by_partition;
  int at_end = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{20};
  while (at_end < partitions && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      ++at_end;
    } else if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      rill::kafka::Record r;
      if (m->key != nullptr) r.key = std::string(static_cast<const char*>(m->key), m->key_len);
      r.value = std::string(static_cast<const char*>(m->payload), m->len);
      r.topic = rd_kafka_topic_name(m->rkt);
      r.partition = m->partition;
      r.offset = m->offset;
      r.timestamp = rill::Time{rd_kafka_message_timestamp(m, nullptr)};
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name = nullptr;
        const void* value = nullptr;
        std::size_t size = 0;
        for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
                                RD_KAFKA_RESP_ERR_NO_ERROR;
             ++i)
          r.headers.emplace_back(name, value == nullptr
                                           ? std::string{}
                                           : std::string(static_cast<const char*>(value), size));
      }
      by_partition[m->partition].push_back(std::move(r));
    }
    rd_kafka_message_destroy(m);
  }
  EXPECT_EQ(at_end, partitions) << "the end of topic '" << topic << "' was not reached";
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  std::vector<rill::kafka::Record> out;
  for (auto& [p, records] : by_partition)
    for (auto& r : records)
      out.push_back(std::move(r));
  return out;
}

/// The value of the last header named `name` of `r`; "" when it has none.
inline std::string last_header(const rill::kafka::Record& r, const std::string& name) {
  std::string value;
  for (const auto& [n, v] : r.headers)
    if (n == name) value = v;
  return value;
}

}  // namespace rill_test
