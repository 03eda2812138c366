#pragma once
/// @file
/// `rill::kafka::detail::KafkaSink<T, F>`: the `rill::Sink<T>` that `rill::kafka::write`
/// registers. Internal: use `rill::kafka::write`.

#include <rill/kafka/detail/batch_producer.hpp>
#include <rill/kafka/record.hpp>
#include <rill/kafka/sink_options.hpp>
#include <rill/sinks/sink.hpp>

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <utility>

namespace rill::kafka::detail {

/// Writes every batch of a stream to one Kafka topic: each record through `to_record`, the
/// partitions of the batch in parallel, then waits for the acknowledgements (and commits the
/// batch's transaction). At least once; exactly once with a transactional id.
template <class T, class F>
class KafkaSink final : public Sink<T> {
 public:
  KafkaSink(const SinkOptions& options, F to_record)
      : producer_(options), to_record_(std::move(to_record)) {}

  [[nodiscard]] std::string kind() const override { return "kafka"; }
  [[nodiscard]] SinkProperties properties() const override {
    return SinkProperties{.delivery = producer_.transactional() ? Delivery::exactly_once
                                                                : Delivery::at_least_once};
  }

  void write(const BatchView<T>& batch) override {
    if (!producer_.begin(batch.time(), batch.replaying())) return;
    try {
      batch.for_each_chunk([this](std::size_t /*p*/, std::span<const T> items) {
        for (const T& x : items) {
          const ProducerRecord& record = std::invoke(to_record_, x);
          producer_.send(record);
        }
      });
    } catch (...) {
      producer_.abandon();
      throw;
    }
    producer_.commit();
  }

 private:
  BatchProducer producer_;
  F to_record_;
};

}  // namespace rill::kafka::detail
