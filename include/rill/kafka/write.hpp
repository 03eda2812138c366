#pragma once
/// @file
/// `rill::kafka::write`: a stream's batches to a Kafka topic (Spark's `kafka` sink, Flink's
/// `KafkaSink`). docs/kafka.md ("The sink") describes the semantics.

#include <rill/dstream.hpp>
#include <rill/kafka/detail/kafka_sink.hpp>
#include <rill/kafka/record.hpp>
#include <rill/kafka/sink_options.hpp>

#include <concepts>
#include <memory>
#include <type_traits>
#include <utility>

namespace rill::kafka {

/// Registers an output operation writing every batch of `stream` to `options.topic`, one record
/// per element, made by `to_record(const T&) -> ProducerRecord` (key, value, partition,
/// headers). Each record carries, after its own headers, the header `rill.batch`: the batch
/// time in ms as decimal ASCII (`"1000"`).
///
/// - A batch counts as done only when every record of it is acknowledged (idempotent producer:
///   retried records are not duplicated). A record that fails (after librdkafka's retries, or
///   when not acknowledged within `message.timeout.ms`, 60000 ms by default) fails the batch with
///   a rill::IoError naming the topic, the partition and the reason; the context stops with it
///   and the batch is not committed.
/// - Without `options.transactional_id`: at least once (a batch run again after a restart is
///   written again). With it: each batch is one Kafka transaction, committed before the batch's
///   checkpoint; a restarted context skips the replayed batches whose `rill.batch` the topic
///   already holds committed, so an `isolation.level=read_committed` consumer sees each batch
///   exactly once (the sink then counts as exactly once for `Config::delivery`).
///
/// `to_record` is called on rill's worker threads, for different partitions of a batch at once
/// (as `map`'s function): it must be safe to call concurrently. The producer is created here;
/// the brokers are first contacted in the background, and waited for by the first batch.
///
/// Call before start(). Throws rill::InvalidArgument for an empty bootstrap list or topic, for
/// `properties` setting `bootstrap.servers`, `transactional.id` or `enable.idempotence`, or a
/// property librdkafka refuses; rill::IllegalState after start().
template <class T, class F>
requires std::invocable<F&, const T&> &&
    std::convertible_to<std::invoke_result_t<F&, const T&>, ProducerRecord>
void write(const DStream<T>& stream, const SinkOptions& options, F to_record) {
  stream.to(std::make_shared<detail::KafkaSink<T, F>>(options, std::move(to_record)));
}

}  // namespace rill::kafka
