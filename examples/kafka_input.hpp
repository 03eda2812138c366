// The Kafka input the applications share when rill::kafka is built (RILL_EXAMPLES_WITH_KAFKA):
// the options `--brokers BROKERS --topic TOPIC` (a Kafka cluster of your own) and `--mock` (an
// in-process rill::kafka::MockCluster, nothing to install), and a small producer with which the
// programs write their generated input into the topic, as an upstream service would.
#pragma once

#include <rill/kafka.hpp>
#include <rill/rill.hpp>

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "command_line.hpp"

namespace rill_examples {

/// Where the Kafka input is: nowhere (the program's other input), a cluster given on the command
/// line, or an in-process mock cluster.
struct KafkaInput {
  std::string brokers;  ///< `host:port[,host:port...]`; set from the mock with --mock
  std::string topic;    ///< the topic (or the prefix of the topics) the program writes and reads
  bool mock = false;    ///< --mock: start a MockCluster in this process

  /// Whether the program runs on Kafka.
  [[nodiscard]] bool on() const { return mock || !brokers.empty(); }
};

/// Adds --brokers, --topic and --mock to `app`. `what` says what the topic holds. --topic goes
/// with --brokers; --mock excludes --brokers and sets the topic to `default_topic`
/// (`mock_topics` names what the program makes of it in --help, default `default_topic`).
inline void add_kafka_options(CLI::App& app, KafkaInput& input, const std::string& what,
                              const std::string& default_topic, std::string mock_topics = {}) {
  if (mock_topics.empty()) mock_topics = "topic '" + default_topic + "'";
  auto* brokers = app.add_option("--brokers", input.brokers,
                                 "Read the input from Kafka: host:port[,host:port...] of the "
                                 "brokers (the program writes its generated input there first)")
                      ->type_name("BROKERS")
                      ->check(non_empty());
  auto* topic =
      app.add_option("--topic", input.topic, what)->type_name("TOPIC")->check(non_empty());
  brokers->needs(topic);
  topic->needs(brokers);
  app.add_flag("--mock", input.mock,
               "Read the input from Kafka, in an in-process mock cluster (" + mock_topics + ")")
      ->excludes(brokers);
  if (input.topic.empty()) input.topic = default_topic;  // --topic overrides it when given
}

/// A started MockCluster when `input.mock`, with `input.brokers` pointed at it; else nothing.
/// The cluster must outlive every client of it.
inline std::unique_ptr<rill::kafka::MockCluster> start_mock(KafkaInput& input) {
  if (!input.mock) return nullptr;
  auto cluster = std::make_unique<rill::kafka::MockCluster>(1);
  input.brokers = cluster->bootstrap_servers();
  return cluster;
}

/// A Kafka producer (librdkafka, idempotent, acks=all) that writes the generated input: send()
/// queues a record, flush() waits until every queued record is acknowledged and throws
/// rill::IoError naming the topic and the first failure otherwise. Not thread-safe: one thread
/// uses it.
class Producer {
 public:
  explicit Producer(const std::string& brokers) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char error[512];
    for (const auto& [name, value] :
         {std::pair{"bootstrap.servers", brokers.c_str()}, std::pair{"enable.idempotence", "true"},
          std::pair{"linger.ms", "0"}, std::pair{"message.timeout.ms", "30000"}}) {
      if (rd_kafka_conf_set(conf, name, value, error, sizeof error) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        throw rill::InvalidArgument(std::string("Kafka producer: ") + error);
      }
    }
    rd_kafka_conf_set_dr_msg_cb(conf, &Producer::on_delivery);
    rd_kafka_conf_set_opaque(conf, this);
    handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (handle_ == nullptr) {  // rd_kafka_new frees conf only on success
      rd_kafka_conf_destroy(conf);
      throw rill::InvalidArgument(std::string("Kafka producer: ") + error);
    }
  }
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;
  ~Producer() {
    rd_kafka_flush(handle_, 5000);
    rd_kafka_destroy(handle_);
  }

  /// Queues `value` for `topic`, into `partition` (or the partitioner's choice).
  void send(const std::string& topic, const std::string& value,
            std::optional<std::int32_t> partition = std::nullopt) {
    const std::int32_t p = partition.value_or(RD_KAFKA_PARTITION_UA);
    void* payload = const_cast<char*>(value.data());
    const std::size_t size = value.size();
    for (;;) {
      const rd_kafka_resp_err_t err =
          rd_kafka_producev(handle_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(p),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_VALUE(payload, size), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
        throw rill::IoError("Kafka producer: cannot send to '" + topic +
                            "': " + rd_kafka_err2str(err));
      rd_kafka_poll(handle_, 10);  // the queue is full: serve delivery reports, then retry
    }
    topic_ = topic;
  }

  /// The records `topic`'s partition `partition` holds (end offset less start offset), asked of
  /// the brokers (at most 10 s). Throws rill::InvalidArgument when the topic does not exist (the
  /// programs' consumers start before the first record is produced, so the topic must be there
  /// first) and rill::IoError when the brokers do not answer.
  std::int64_t records_in(const std::string& topic, std::int32_t partition) {
    std::int64_t low = 0, high = 0;
    const rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(handle_, topic.c_str(), partition, &low, &high, 10000);
    if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
      throw rill::InvalidArgument("Kafka: the topic '" + topic +
                                  "' does not exist; create it first (kafka-topics.sh --create "
                                  "--topic " +
                                  topic + " ...)");
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw rill::IoError("Kafka: cannot read the offsets of '" + topic +
                          "': " + rd_kafka_err2str(err) + " (are the brokers up?)");
    return high - low;
  }

  /// Waits (at most 30 s) until every queued record is acknowledged.
  void flush() {
    if (rd_kafka_flush(handle_, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw rill::IoError("Kafka producer: records to '" + topic_ +
                          "' not acknowledged within 30 s (are the brokers up?)");
    if (failure_ != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const auto failure = failure_;
      failure_ = RD_KAFKA_RESP_ERR_NO_ERROR;
      throw rill::IoError("Kafka producer: a record to '" + topic_ +
                          "' failed: " + rd_kafka_err2str(failure));
    }
  }

 private:
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<Producer*>(opaque);
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && self->failure_ == RD_KAFKA_RESP_ERR_NO_ERROR)
      self->failure_ = m->err;  // delivery reports run inside flush/poll, on this thread
  }

  rd_kafka_t* handle_ = nullptr;
  std::string topic_;
  rd_kafka_resp_err_t failure_ = RD_KAFKA_RESP_ERR_NO_ERROR;
};

}  // namespace rill_examples
