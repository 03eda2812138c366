#pragma once
/// @file
/// The records of rill's Kafka connector: what `rill::kafka::direct_stream` yields and what the
/// function given to `rill::kafka::write` returns.

#include <rill/core/time.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rill::kafka {

/// One Kafka record as read by `direct_stream` (Spark's `ConsumerRecord`).
/// - `key`: `std::nullopt` for a null key, `""` for an empty one.
/// - `timestamp`: the record's Kafka timestamp (create or log-append time), ms since the epoch.
/// - `headers`: in their Kafka order; a null header value becomes `""`.
/// A plain value type: copyable, no thread-safety concerns of its own.
struct Record {
  std::optional<std::string> key;
  std::string value;
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  Time timestamp{0};
  std::vector<std::pair<std::string, std::string>> headers;

  friend bool operator==(const Record&, const Record&) = default;
};

/// One record to produce (Kafka's `ProducerRecord`, without the topic: the sink has one).
/// - `key`: `std::nullopt` produces a null key, `""` an empty one.
/// - `partition`: `std::nullopt` lets the producer's partitioner choose (by key hash).
/// - `headers`: written in this order; the sink appends `rill.batch` after them.
struct ProducerRecord {
  std::optional<std::string> key;
  std::string value;
  std::optional<std::int32_t> partition;
  std::vector<std::pair<std::string, std::string>> headers;

  friend bool operator==(const ProducerRecord&, const ProducerRecord&) = default;
};

}  // namespace rill::kafka
