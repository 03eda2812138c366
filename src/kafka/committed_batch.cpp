#include "kafka/committed_batch.hpp"

#include <rill/core/errors.hpp>

#include "kafka/client_config.hpp"
#include "kafka/client_log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <vector>

namespace rill::kafka::detail {
namespace {

using Clock = std::chrono::steady_clock;

// The records read backwards from the end of a partition, in windows growing by this factor.
constexpr std::int64_t kFirstWindow = 256;
constexpr std::int64_t kWindowGrowth = 4;

struct TopicDeleter {
  void operator()(rd_kafka_topic_t* t) const noexcept { rd_kafka_topic_destroy(t); }
};
struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* m) const noexcept { rd_kafka_metadata_destroy(m); }
};

// One partition's search: the range [start, end) read this round.
struct Tail {
  std::int32_t partition = 0;
  std::int64_t low = 0;
  std::int64_t start = 0;
  std::int64_t end = 0;
  std::optional<std::int64_t> found;
  bool round_done = false;
};

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

// A consumer that closes itself before it is destroyed.
class Reader {
 public:
  Reader(std::string_view what, const std::string& bootstrap_servers, const std::string& topic,
         const std::map<std::string, std::string>& properties) {
    auto conf = make_conf(what, bootstrap_servers,
                          {{"isolation.level", "read_committed"},
                           {"enable.auto.commit", "false"},
                           {"enable.partition.eof", "true"},
                           // The end of a partition is seen sooner (a read of its tail ends
                           // there).
                           {"fetch.wait.max.ms", "100"},
                           // Required by rd_kafka_consumer_poll; this consumer only assigns
                           // partitions, it never joins the group nor commits.
                           {"group.id", "rill.kafka.sink.recovery." + topic}},
                          properties);
    // The sink's properties are a producer's: the consumer ignores those it has no use for.
    route_logs_to_rill(conf.get(), /*quiet_config_warnings=*/true);
    handle_ = make_client(what, RD_KAFKA_CONSUMER, std::move(conf));
  }
  ~Reader() { rd_kafka_consumer_close(handle_.get()); }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;
  [[nodiscard]] rd_kafka_t* get() const noexcept { return handle_.get(); }

 private:
  UniqueHandle handle_;
};

// Reads every unfinished tail's [start, end) once (or to the partition's end), keeping the
// largest rill.batch seen in each.
void read_round(std::string_view what, rd_kafka_t* rk, const std::string& topic,
                std::vector<Tail>& tails, Clock::time_point deadline) {
  UniquePartitionList list{rd_kafka_topic_partition_list_new(static_cast<int>(tails.size()))};
  std::size_t open = 0;
  for (Tail& t : tails) {
    if (t.round_done) continue;
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), t.partition)->offset = t.start;
    ++open;
  }
  if (open == 0) return;
  if (auto err = rd_kafka_assign(rk, list.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw IoError(fmt::format("{}: cannot read the end of topic '{}': {}", what, topic,
                              rd_kafka_err2str(err)));
  const auto tail_of = [&](std::int32_t partition) -> Tail* {
    for (Tail& t : tails) {
      if (t.partition == partition && !t.round_done) return &t;
    }
    return nullptr;
  };
  while (open > 0) {
    if (Clock::now() >= deadline) {
      for (const Tail& t : tails) {
        if (!t.round_done)
          throw IoError(fmt::format(
              "{}: could not read the committed records of topic '{}' partition {} (offsets {} "
              "to {}) in time: are the brokers reachable?",
              what, topic, t.partition, t.start, t.end));
      }
    }
    UniqueMessage m{rd_kafka_consumer_poll(rk, std::min(100, remaining_ms(deadline)))};
    if (!m) continue;
    Tail* t = tail_of(m->partition);
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (t != nullptr) {
        t->round_done = true;
        --open;
      }
      continue;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (m->rkt == nullptr) continue;  // a client-level event (a broker down): retried
      throw IoError(fmt::format("{}: cannot read topic '{}' partition {}: {}", what, topic,
                                m->partition, rd_kafka_message_errstr(m.get())));
    }
    if (t == nullptr || m->offset < t->start) continue;  // left from an earlier round
    if (m->offset < t->end) {
      if (const auto batch = batch_header_of(m.get()))
        t->found = std::max(t->found.value_or(*batch), *batch);
    }
    if (m->offset >= t->end - 1) {
      t->round_done = true;
      --open;
    }
  }
}

}  // namespace

std::optional<std::int64_t> batch_header_of(const rd_kafka_message_t* message) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  const void* value = nullptr;
  std::size_t size = 0;
  if (rd_kafka_header_get_last(headers, kBatchHeader.data(), &value, &size) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      value == nullptr) {
    return {};
  }
  const char* first = static_cast<const char*>(value);
  std::int64_t ms = 0;
  const auto [end, ec] = std::from_chars(first, first + size, ms);
  if (ec != std::errc{} || end != first + size) return {};
  return ms;
}

std::optional<std::int64_t> last_committed_batch(
    std::string_view what, const std::string& bootstrap_servers, const std::string& topic,
    const std::map<std::string, std::string>& properties, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  Reader reader(what, bootstrap_servers, topic, properties);
  rd_kafka_t* rk = reader.get();

  std::unique_ptr<rd_kafka_topic_t, TopicDeleter> rkt{
      rd_kafka_topic_new(rk, topic.c_str(), nullptr)};
  const rd_kafka_metadata_t* raw = nullptr;
  if (auto err = rd_kafka_metadata(rk, 0, rkt.get(), &raw, remaining_ms(deadline));
      err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw IoError(fmt::format(
        "{}: cannot read the partitions of topic '{}' within {} ms: {} (are the brokers at '{}' "
        "reachable?)",
        what, topic, timeout.count(), rd_kafka_err2str(err), bootstrap_servers));
  }
  const std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter> metadata{raw};
  if (metadata->topic_cnt != 1) return {};
  const rd_kafka_metadata_topic_t& described = metadata->topics[0];
  if (described.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) return {};  // nothing written
  if (described.err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw IoError(fmt::format("{}: cannot read the partitions of topic '{}': {}", what, topic,
                              rd_kafka_err2str(described.err)));

  std::vector<Tail> tails;
  for (int i = 0; i < described.partition_cnt; ++i) {
    Tail t;
    t.partition = described.partitions[i].id;
    std::int64_t high = 0;
    // With read_committed, the high offset is the last stable offset: nothing of an open
    // transaction is after it.
    if (auto err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), t.partition, &t.low, &high,
                                                    remaining_ms(deadline));
        err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw IoError(fmt::format("{}: cannot read the offsets of topic '{}' partition {}: {}", what,
                                topic, t.partition, rd_kafka_err2str(err)));
    }
    t.end = high;
    t.start = std::max(t.low, high - kFirstWindow);
    t.round_done = high <= t.low;  // empty
    tails.push_back(t);
  }

  std::int64_t window = kFirstWindow;
  for (;;) {
    read_round(what, rk, topic, tails, deadline);
    bool more = false;
    window *= kWindowGrowth;
    for (Tail& t : tails) {
      // A partition is settled once a header was found or its start was read.
      if (t.found || t.start <= t.low) {
        t.round_done = true;
        continue;
      }
      t.end = t.start;
      t.start = std::max(t.low, t.end - window);
      t.round_done = false;
      more = true;
    }
    if (!more) break;
  }
  std::optional<std::int64_t> newest;
  for (const Tail& t : tails) {
    if (t.found) newest = std::max(newest.value_or(*t.found), *t.found);
  }
  return newest;
}

}  // namespace rill::kafka::detail
