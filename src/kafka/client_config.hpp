#pragma once
// librdkafka handles owned by std::unique_ptr, and the configuration every rill Kafka client is
// built from. Private to the kafka component.

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace rill::kafka::detail {

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const noexcept { rd_kafka_conf_destroy(c); }
};
struct HandleDeleter {
  // Destroys a client; a consumer must have been closed (rd_kafka_consumer_close) before.
  void operator()(rd_kafka_t* rk) const noexcept { rd_kafka_destroy(rk); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const noexcept {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const noexcept { rd_kafka_message_destroy(m); }
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const noexcept { rd_kafka_queue_destroy(q); }
};

using UniqueConf = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using UniqueHandle = std::unique_ptr<rd_kafka_t, HandleDeleter>;
using UniquePartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;
using UniqueMessage = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;
using UniqueQueue = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;

// A configuration: `bootstrap.servers` (unless empty), then `defaults` (rill's choices), then the
// user's `properties`, which win. Throws rill::InvalidArgument naming the property and
// librdkafka's reason when a name or value is refused. `what` names the client in messages
// ("rill::kafka::direct_stream").
UniqueConf make_conf(std::string_view what, const std::string& bootstrap_servers,
                     const std::map<std::string, std::string>& defaults,
                     const std::map<std::string, std::string>& properties);

// Sets one property; throws rill::InvalidArgument as make_conf does.
void set_property(rd_kafka_conf_t* conf, std::string_view what, const std::string& name,
                  const std::string& value);

// Creates a client of `type` from `conf` (taking it over, also on failure). Throws
// rill::InvalidArgument with librdkafka's reason when it refuses the configuration.
UniqueHandle make_client(std::string_view what, rd_kafka_type_t type, UniqueConf conf);

}  // namespace rill::kafka::detail
