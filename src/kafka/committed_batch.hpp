#pragma once
// Finding the newest batch a transactional Kafka sink committed: the largest `rill.batch` header
// among the committed records at the end of each partition of its topic. Private to the kafka
// component.

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace rill::kafka::detail {

// The header every record of the sink carries: the batch time in ms, decimal ASCII.
inline constexpr std::string_view kBatchHeader = "rill.batch";

// The value (ms) of the last `rill.batch` header of `message`; nullopt when it has none or its
// value is not a decimal integer.
std::optional<std::int64_t> batch_header_of(const rd_kafka_message_t* message);

// Reads the tail of every partition of `topic` with an `isolation.level=read_committed`
// consumer (configured from `bootstrap_servers` and the sink's `properties`) and returns the
// largest `rill.batch` found: in each partition the last committed records, the window read
// growing backwards until one holds the header or the partition's start is reached. nullopt
// when the topic does not exist or no record holds the header. Throws rill::IoError naming the
// topic (and partition) when the brokers do not answer within `timeout`. `what` names the
// caller in messages.
std::optional<std::int64_t> last_committed_batch(
    std::string_view what, const std::string& bootstrap_servers, const std::string& topic,
    const std::map<std::string, std::string>& properties, std::chrono::milliseconds timeout);

}  // namespace rill::kafka::detail
