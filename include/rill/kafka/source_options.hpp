#pragma once
/// @file
/// `rill::kafka::SourceOptions`: what `rill::kafka::direct_stream` reads and how (Spark's
/// `ConsumerStrategies.Subscribe` / `Assign` parameters and the `kafka.*` source options).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace rill::kafka {

/// Where a partition's first batch starts when no checkpoint says where to resume (Spark's
/// `startingOffsets`, Kafka's `auto.offset.reset`).
enum class StartingOffsets {
  /// The partition's log start offset: every record still retained.
  earliest,
  /// The partition's end offset when the context starts: only records produced after it.
  latest,
};

/// The options of `rill::kafka::direct_stream`. A plain value type.
struct SourceOptions {
  /// `host:port[,host:port...]`, Kafka's `bootstrap.servers`. Must not be empty.
  std::string bootstrap_servers;
  /// The topics read; at least one, each non-empty.
  std::vector<std::string> topics;
  /// Kafka's consumer group (Kafka Streams' `application.id`, Spark's `Subscribe` strategy):
  /// set, this process is a member and the processes of the group share the topics' partitions
  /// (cooperative-sticky assignor; a rebalance takes effect at a batch boundary; each range's
  /// end is committed to the group, synchronously, when its batch is sealed, so no record is
  /// read by two members). Each process needs its own checkpoint directory. Empty: this process
  /// reads every partition of `topics` itself (assign), committing after each checkpoint to
  /// the internal group `rill-direct-stream.<topics joined by ','>` for lag monitoring.
  /// docs/kafka.md, "Consumer groups".
  std::string group_id;
  /// Where partitions start when no checkpoint exists, resolved during `start()`.
  StartingOffsets starting_offsets = StartingOffsets::latest;
  /// At most this many records per partition per batch; 0: no limit. Must be >= 0.
  std::int64_t max_records_per_partition = 0;
  /// Records that vanished before they were read (retention, a recreated topic): true fails
  /// the context with `rill::IoError` naming topic, partition and offsets; false logs, counts
  /// them as skipped (`source_stats()`) and goes on from the earliest offset still there.
  bool fail_on_data_loss = true;
  /// librdkafka consumer properties, passed as they are; they win over rill's defaults
  /// (docs/kafka.md lists those). A name or value librdkafka refuses throws
  /// `rill::InvalidArgument` from `direct_stream`.
  std::map<std::string, std::string> properties;
};

}  // namespace rill::kafka
