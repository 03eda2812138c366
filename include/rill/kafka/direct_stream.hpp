#pragma once
/// @file
/// `rill::kafka::direct_stream`: a Kafka source in the style of Spark's direct stream
/// (`KafkaUtils.createDirectStream`). docs/kafka.md describes it.

#include <rill/kafka/record.hpp>
#include <rill/kafka/source_options.hpp>

#include "rill/dstream.hpp"
#include "rill/streaming_context.hpp"

namespace rill::kafka {

/// The records of `options.topics`, as `DStream<Record>`: no receiver and no write-ahead log;
/// each batch is a range of offsets per Kafka partition, fixed when the batch is sealed (from
/// where the previous batch ended to the partition's end offset read at the seal, capped by
/// `max_records_per_partition`) and written into the seal record, so a replayed batch reads
/// exactly the same records. Exactly-once with a checkpoint (with the file sinks and an
/// idempotent `foreach_batch`). Without a `group_id` the offsets are committed after each
/// checkpoint, for lag monitoring only; with one the process is a member of that consumer group
/// (cooperative-sticky), rebalances take effect at batch boundaries and each range is committed
/// when it is sealed (docs/kafka.md, "Consumer groups"). `start()` throws
/// `rill::InvalidArgument` for `Trigger::available_now()` with a `group_id`.
///
/// Partitions: rill partition i of a batch holds the records of the i-th Kafka partition that
/// has records in it (topics in the order given, partitions in number order), records in offset
/// order; the stream has as many rill partitions as the topics had Kafka partitions when this
/// was called (the partitions left over in a batch are empty).
///
/// Contacts the brokers once, for the topics' partition counts (at most 5 s; when they cannot be
/// reached the stream gets the context's parallelism). Call before `start()`, on the thread
/// building the graph. Throws `rill::InvalidArgument` for empty `bootstrap_servers` or
/// `topics`, an empty topic name, a negative `max_records_per_partition`, or a property
/// librdkafka refuses; `rill::IllegalState` after `start()`.
DStream<Record> direct_stream(StreamingContext& ctx, SourceOptions options);

}  // namespace rill::kafka
