#pragma once
/// @file
/// `rill::kafka::SinkOptions`: where and how `rill::kafka::write` produces a stream's batches.

#include <map>
#include <string>

namespace rill::kafka {

/// The options of a Kafka sink (Spark's `kafka` sink options; Flink's `KafkaSink` builder).
/// A plain value type. docs/kafka.md ("The sink") lists the librdkafka properties rill sets.
struct SinkOptions {
  /// `bootstrap.servers`: a comma-separated `host:port` list. Required.
  std::string bootstrap_servers;
  /// The topic every record goes to. Required; it must exist (rill does not create topics).
  std::string topic;
  /// Empty (the default): an idempotent producer, at-least-once after a restart. Set: the
  /// producer's `transactional.id`; each batch is written in one Kafka transaction and a
  /// restarted context skips the batches the topic already holds committed, so a consumer with
  /// `isolation.level=read_committed` sees every batch exactly once. Unique per sink: two
  /// running producers with one id fence each other.
  std::string transactional_id;
  /// Further librdkafka producer properties (`linger.ms`, `compression.type`, `security.*` ...),
  /// applied over rill's defaults. `bootstrap.servers` and `transactional.id` are the fields
  /// above, and `enable.idempotence` stays `true`: setting them here is refused.
  std::map<std::string, std::string> properties;
};

}  // namespace rill::kafka
