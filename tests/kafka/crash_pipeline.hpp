#pragma once
// The Kafka crash test's input and pipeline, shared by the child process the test kills
// (tests/kafka/crash_child.cpp) and the test's model (tests/kafka/crash_test.cpp).
//
// Input: topic kInputTopic, kPartitions partitions, partition p holding records_in(p) records
// whose keys are words (key_of). Pipeline: direct_stream with max_records_per_partition =
// kPerBatch, so batch k (batch time k * kInterval) holds offsets [kPerBatch (k-1), kPerBatch k)
// of each partition; words counted per batch (reduce_by_key), in total (update_state_by_key) and
// over three batches (reduce_by_key_and_window), each written sorted to text files; the totals
// also go to a Kafka topic through the transactional sink, each record (word, total) stamped
// with its batch time.

#include <rill/kafka.hpp>
#include <rill/rill.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace rill_test::kafka_crash {

using namespace std::chrono_literals;

inline constexpr int kPartitions = 4;
inline constexpr int kOutputPartitions = 2;
inline constexpr std::int64_t kPerBatch = 4;
inline constexpr int kBatches = 16;
// Long batches on a manual clock cost nothing and give each seal 5 s (half an interval, at
// most 5 s) to read the end offsets, also under sanitizers.
inline constexpr std::chrono::seconds kInterval{10};
inline constexpr const char* kInputTopic = "words";

/// Records in Kafka partition p: 36, 44, 52, 60 (all read by batch 15; batch 16 is empty).
inline std::int64_t records_in(int partition) {
  return 36 + 8 * std::int64_t{partition};
}

/// The key of the record at `offset` of `partition`.
inline std::string key_of(int partition, std::int64_t offset) {
  static const std::vector<std::string> words = {"apple", "birch", "cedar", "dune", "elm", "fjord"};
  return words[static_cast<std::size_t>((offset * 5 + partition * 3 + offset / 7) % 6)];
}

/// The input as produced, partition by partition.
inline std::vector<rill::kafka::ProducerRecord> input(int partition) {
  std::vector<rill::kafka::ProducerRecord> out;
  for (std::int64_t o = 0; o < records_in(partition); ++o)
    out.push_back({.key = key_of(partition, o),
                   .value = std::to_string(o),
                   .partition = partition,
                   .headers = {}});
  return out;
}

/// A word's total at a batch time (ms), as the Kafka sink gets it.
using Stamped = std::tuple<std::int64_t, std::string, std::int64_t>;

/// Short client timeouts keep restarts quick.
inline std::map<std::string, std::string> client_properties() {
  return {{"fetch.wait.max.ms", "20"},
          {"topic.metadata.refresh.interval.ms", "1000"},
          {"reconnect.backoff.ms", "20"},
          {"reconnect.backoff.max.ms", "200"}};
}

template <class T>
rill::DStream<T> sorted(const rill::DStream<T>& s) {
  return s.transform([](const rill::Batch<T>& b, rill::Time) {
    auto v = b.collect();
    std::sort(v.begin(), v.end());
    return v;
  });
}

/// The pipeline: text files under `out` (counts-, totals-, recent-<time>), the totals in
/// `output_topic`; `writing(t)` is called before the sink hands batch t's first record to
/// librdkafka, `done(t)` after the sink's output of batch t returned (its transaction committed).
/// Exactly once: the context checkpoints and asks for Delivery::exactly_once.
template <class Writing, class Done>
std::unique_ptr<rill::StreamingContext> pipeline(const std::string& bootstrap,
                                                 const std::filesystem::path& out,
                                                 const std::string& output_topic,
                                                 std::shared_ptr<rill::ManualClock> clock,
                                                 Writing writing, Done done) {
  using Count = std::pair<std::string, std::int64_t>;
  auto ctx = std::make_unique<rill::StreamingContext>(rill::Config{}
                                                          .batch_interval(kInterval)
                                                          .parallelism(2)
                                                          .worker_threads(2)
                                                          .clock(std::move(clock))
                                                          .delivery(rill::Delivery::exactly_once));
  auto words = rill::kafka::direct_stream(
                   *ctx, rill::kafka::SourceOptions{.bootstrap_servers = bootstrap,
                                                    .topics = {kInputTopic},
                                                    .group_id = "",
                                                    .starting_offsets =
                                                        rill::kafka::StartingOffsets::earliest,
                                                    .max_records_per_partition = kPerBatch,
                                                    .fail_on_data_loss = true,
                                                    .properties = client_properties()})
                   .name("words")
                   .map([](const rill::kafka::Record& r) {
                     return Count{r.key.value_or(""), 1};
                   });
  const auto plus = [](std::int64_t a, std::int64_t b) { return a + b; };
  sorted(words.reduce_by_key(plus)).save_as_text_files((out / "counts").string());
  auto totals = words
                    .update_state_by_key([](const std::vector<std::int64_t>& values,
                                            std::optional<std::int64_t> state) {
                      std::int64_t sum = state.value_or(0);
                      for (const auto v : values)
                        sum += v;
                      return std::optional<std::int64_t>{sum};
                    })
                    .name("totals");
  sorted(totals).save_as_text_files((out / "totals").string());
  sorted(words.reduce_by_key_and_window(plus, 3 * kInterval, kInterval).name("recent"))
      .save_as_text_files((out / "recent").string());
  auto stamped = totals.transform([](const rill::Batch<Count>& b, rill::Time t) {
    std::vector<Stamped> v;
    for (const auto& [word, total] : b)
      v.emplace_back(t.milliseconds(), word, total);
    return v;
  });
  auto props = client_properties();
  props.emplace("linger.ms", "0");
  rill::kafka::write(stamped,
                     rill::kafka::SinkOptions{.bootstrap_servers = bootstrap,
                                              .topic = output_topic,
                                              .transactional_id = "rill-crash-" + output_topic,
                                              .properties = std::move(props)},
                     [writing](const Stamped& s) {
                       writing(std::get<0>(s));
                       return rill::kafka::ProducerRecord{.key = std::get<1>(s),
                                                          .value = std::to_string(std::get<2>(s)),
                                                          .partition = std::nullopt,
                                                          .headers = {}};
                     });
  stamped.foreach_batch(
      [done](const rill::Batch<Stamped>&, rill::Time t) { done(t.milliseconds()); },
      rill::idempotent);
  return ctx;
}

}  // namespace rill_test::kafka_crash
