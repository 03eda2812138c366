#pragma once
/// @file
/// `rill::kafka::detail::BatchProducer`: the librdkafka producer behind `rill::kafka::write`,
/// writing one batch at a time. Internal: use `rill::kafka::write`.

#include <rill/core/time.hpp>
#include <rill/kafka/record.hpp>
#include <rill/kafka/sink_options.hpp>

#include <memory>

namespace rill::kafka::detail {

/// One idempotent (optionally transactional) producer writing the batches of one sink in time
/// order: begin(t), send() for each record, then commit() (or abandon() after a failure
/// elsewhere). A batch counts as written only when commit() returned: every record of it was
/// acknowledged by the brokers (and, with a transactional id, its transaction committed).
///
/// Thread-safety: send() may be called from several threads at once between begin() and
/// commit(); every other member from one thread at a time (rill's batch thread).
class BatchProducer {
 public:
  /// Creates the producer (it connects in the background). Throws rill::InvalidArgument when an
  /// option is missing, when `properties` sets `bootstrap.servers`, `transactional.id` or
  /// `enable.idempotence`, or when librdkafka refuses a property (named with its reason).
  explicit BatchProducer(const SinkOptions& options);
  ~BatchProducer();
  BatchProducer(const BatchProducer&) = delete;
  BatchProducer& operator=(const BatchProducer&) = delete;

  /// True with a transactional id: each batch is one Kafka transaction.
  [[nodiscard]] bool transactional() const noexcept;

  /// Starts batch t (a replay after a restart when `replaying`). The first call initialises
  /// the transactions (fencing an earlier producer of the same id and aborting its open
  /// transaction). Returns false when batch t must not be written: transactional, replaying,
  /// and t is not after the newest `rill.batch` committed in the topic. Throws rill::IoError
  /// when the brokers do not answer within the delivery timeout.
  [[nodiscard]] bool begin(Time t, bool replaying);

  /// Queues one record of the current batch, with its headers and then `rill.batch`. Waits
  /// while librdkafka's local queue is full. Throws rill::IoError when librdkafka refuses the
  /// record (too large, a partition the topic does not have). Any thread.
  void send(const ProducerRecord& record);

  /// Waits until every record sent since begin() is acknowledged, then commits the batch's
  /// transaction. Throws rill::IoError naming the topic, the partition and the reason of the
  /// first record that failed (the transaction is aborted), or saying what timed out.
  void commit();

  /// Gives up the current batch after a failure outside the producer (a throwing `to_record`):
  /// aborts its transaction, or drops its records still queued. Never throws.
  void abandon() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rill::kafka::detail
