#pragma once
/// @file
/// `rill::kafka::MockCluster`: librdkafka's in-process mock Kafka cluster, for tests, benchmarks
/// and the examples' self-contained mode (as Kafka Streams' `EmbeddedKafkaCluster`, but nothing
/// to start: the brokers are threads of this process listening on 127.0.0.1).

#include <rill/kafka/record.hpp>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <memory>
#include <span>
#include <string>

namespace rill::kafka {

/// A mock Kafka cluster of `brokers` brokers (ids 1..brokers) inside this process. Other processes
/// reach it too, through `bootstrap_servers()`. The cluster lives as long as this object.
///
/// Known limits of librdkafka 2.0's mock (measured): transactions are accepted but not isolated
/// (a read_committed consumer sees aborted records), offsets sent with a transaction are not
/// stored, and producers are never fenced.
///
/// Thread-safety: the methods may be called from any one thread at a time; the brokers run on
/// librdkafka's own threads.
class MockCluster {
 public:
  /// Starts the brokers. Throws `rill::InvalidArgument` when `brokers` < 1 and `rill::IoError`
  /// when librdkafka cannot create the cluster.
  explicit MockCluster(int brokers = 3);
  ~MockCluster();
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  /// The comma-separated `host:port` list to give clients as `bootstrap.servers`.
  [[nodiscard]] const std::string& bootstrap_servers() const noexcept;

  /// Creates `topic` with `partitions` partitions. Throws `rill::IoError` with the mock's reason
  /// (for instance a topic that exists already).
  void create_topic(const std::string& topic, int partitions, int replication_factor = 1);

  /// Produces `records` to `topic` in order and waits (at most `timeout`) until every one is
  /// acknowledged. Throws `rill::IoError` naming the topic and the first failure.
  void produce(const std::string& topic, std::span<const ProducerRecord> records,
               std::chrono::milliseconds timeout = std::chrono::seconds{30});
  /// One record; as above.
  void produce(const std::string& topic, const ProducerRecord& record,
               std::chrono::milliseconds timeout = std::chrono::seconds{30});

  /// Takes broker `id` down (its connections close and it refuses new ones) or brings it up.
  void set_broker_down(int id);
  void set_broker_up(int id);

  /// The mock's own handle, for the rest of `rdkafka_mock.h` (injected request errors with
  /// `rd_kafka_mock_push_request_errors`, leaders, round-trip times). Owned by this object.
  [[nodiscard]] rd_kafka_mock_cluster_t* native() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rill::kafka
