#include "kafka/direct_source.hpp"

#include <rill/core/errors.hpp>
#include <rill/core/logging.hpp>
#include <rill/core/serialization.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <string>
#include <utility>

namespace rill::kafka::detail {

namespace {

using kafka::detail::UniquePartitionList;
using ::rill::detail::logger;

// The seal record's layout version (docs/checkpoint-format.md, "Kafka direct stream"): 2 adds
// the claim token and the batch's seal mark; 1 (the ranges alone) is still read.
constexpr std::uint32_t kSealVersion = 2;
constexpr std::uint32_t kSealVersionRanges = 1;
// A seal record: the non-empty ranges, (topic, partition, from, until).
using SealRanges = std::vector<std::tuple<std::string, std::int32_t, std::int64_t, std::int64_t>>;
// The position's layouts: the first is cereal's bytes of the Offsets alone (a map: its first 8
// bytes are its size, never this prefix); the second is this prefix, then a version (2), the
// Offsets, the claim token and the seal mark.
constexpr std::string_view kPositionMagic{"rillkpos", 8};
constexpr std::uint32_t kPositionVersion = 2;
constexpr std::int64_t kNoMark = std::numeric_limits<std::int64_t>::min();

// Errors of the same kind are logged at most once per this interval (all are counted).
constexpr auto kErrorLogInterval = std::chrono::seconds{10};

void on_error(rd_kafka_t* /*rk*/, int err, const char* reason, void* opaque) {
  static_cast<DirectSource*>(opaque)->client_error(static_cast<rd_kafka_resp_err_t>(err), reason);
}

void on_log(const rd_kafka_t* /*rk*/, int level, const char* facility, const char* message) {
  // syslog levels: 0..3 errors, 4 warnings, 5..6 info, 7 debug.
  if (level <= 3) {
    logger().error("librdkafka {}: {}", facility, message);
  } else if (level == 4) {
    logger().warn("librdkafka {}: {}", facility, message);
  } else if (level <= 6) {
    logger().info("librdkafka {}: {}", facility, message);
  } else {
    logger().debug("librdkafka {}: {}", facility, message);
  }
}

void on_rebalance_cb(rd_kafka_t* /*rk*/, rd_kafka_resp_err_t err,
                     rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  static_cast<DirectSource*>(opaque)->on_rebalance(err, partitions);
}

std::string internal_group(const std::vector<std::string>& topics) {
  return fmt::format("rill-direct-stream.{}", fmt::join(topics, ","));
}

}  // namespace

void (*after_claim_for_tests)() = nullptr;

DirectSource::DirectSource(SourceOptions options, std::chrono::milliseconds metadata_timeout)
    : options_(std::move(options)), what_("rill::kafka::direct_stream") {
  if (options_.bootstrap_servers.empty())
    throw InvalidArgument(
        fmt::format("{}: SourceOptions::bootstrap_servers is empty (give "
                    "host:port of at least one broker)",
                    what_));
  if (options_.topics.empty())
    throw InvalidArgument(fmt::format("{}: SourceOptions::topics is empty", what_));
  for (const auto& topic : options_.topics) {
    if (topic.empty())
      throw InvalidArgument(fmt::format("{}: SourceOptions::topics holds an empty name", what_));
  }
  if (options_.max_records_per_partition < 0)
    throw InvalidArgument(fmt::format(
        "{}: SourceOptions::max_records_per_partition must be >= 0 (0: no limit), got {}", what_,
        options_.max_records_per_partition));
  // Without a group_id the source assigns every partition itself, under an internal group that
  // only holds the commits; with one it subscribes and the group shares the partitions
  // (docs/kafka.md, "Consumer groups").
  const bool group = grouped();
  std::map<std::string, std::string> defaults{
      {"group.id", group ? options_.group_id : internal_group(options_.topics)},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      // Offsets out of range are data loss, reported to the source rather than reset.
      {"auto.offset.reset", "error"},
      {"enable.partition.eof", "false"},
  };
  if (group) defaults.emplace("partition.assignment.strategy", "cooperative-sticky");
  auto conf =
      kafka::detail::make_conf(what_, options_.bootstrap_servers, defaults, options_.properties);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_error_cb(conf.get(), &on_error);
  rd_kafka_conf_set_log_cb(conf.get(), &on_log);
  if (group) rd_kafka_conf_set_rebalance_cb(conf.get(), &on_rebalance_cb);
  if (group) {
    std::array<char, 32> value{};
    std::size_t size = value.size();
    if (rd_kafka_conf_get(conf.get(), "session.timeout.ms", value.data(), &size) ==
        RD_KAFKA_CONF_OK)
      session_timeout_ = std::chrono::milliseconds{std::atoll(value.data())};
  }
  consumer_ = kafka::detail::make_client(what_, RD_KAFKA_CONSUMER, std::move(conf));
  // The client's error callbacks wait in its main queue, served by rd_kafka_poll() on the
  // scheduler thread (drain_events); records come from the consumer queue, only while a seal
  // reads, so what the consumer fetched ahead stays in librdkafka's bounded queue.
  if (discover_partitions(metadata_timeout)) {
    num_partitions_ = std::max<std::size_t>(1, partitions_.size());
  } else {
    logger().warn(
        "{}: the partitions of {} are not known yet (brokers {} unreachable?); the "
        "stream gets the context's parallelism as its partition count",
        what_, fmt::join(options_.topics, ","), options_.bootstrap_servers);
  }
}

DirectSource::~DirectSource() {
  if (!consumer_) return;
  if (subscribed_) {
    try {
      leave_group();
    } catch (const std::exception& e) {
      logger().warn("{}: leaving group '{}': {}", what_, options_.group_id, e.what());
    }
  }
  rd_kafka_consumer_close(consumer_.get());
}

bool DirectSource::discover_partitions(std::chrono::milliseconds timeout) {
  std::vector<Partition> found;
  for (const auto& topic : options_.topics) {
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(consumer_.get(), topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    const rd_kafka_resp_err_t err =
        rd_kafka_metadata(consumer_.get(), 0, rkt, &md, static_cast<int>(timeout.count()));
    rd_kafka_topic_destroy(rkt);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      count_error();
      logger().warn("{}: cannot read the metadata of topic '{}': {}", what_, topic,
                    rd_kafka_err2str(err));
      return false;
    }
    const rd_kafka_metadata_topic_t* t = md->topic_cnt == 1 ? &md->topics[0] : nullptr;
    if (t == nullptr || t->err != RD_KAFKA_RESP_ERR_NO_ERROR || t->partition_cnt == 0) {
      const auto why = t == nullptr ? RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART : t->err;
      rd_kafka_metadata_destroy(md);
      count_error();
      logger().warn("{}: topic '{}' has no partitions to read yet: {}", what_, topic,
                    rd_kafka_err2str(why));
      return false;
    }
    std::vector<std::int32_t> ids;
    for (int i = 0; i < t->partition_cnt; ++i)
      ids.push_back(t->partitions[i].id);
    rd_kafka_metadata_destroy(md);
    std::sort(ids.begin(), ids.end());
    for (std::int32_t id : ids) {
      Partition p;
      p.topic = topic;
      p.partition = id;
      p.owned = !grouped();
      found.push_back(std::move(p));
    }
  }
  partitions_ = std::move(found);
  discovered_ = true;
  if (restore_pending_) {
    for (auto& p : partitions_) {
      if (auto t = restored_.find(p.topic); t != restored_.end()) {
        if (auto o = t->second.find(p.partition); o != t->second.end()) p.next = o->second;
      }
    }
    restore_pending_ = false;
  }
  return true;
}

void DirectSource::start(SourceContext& ctx) {
  what_ = fmt::format("rill::kafka::direct_stream '{}'", ctx.name());
  checkpointing_ = ctx.checkpointing();
  available_now_ = ctx.available_now();
  // A seal waits at most half an interval (within 0.2 s .. 5 s) for the brokers' offsets.
  const auto half = ctx.config().batch_interval() / 2;
  query_timeout_ = std::clamp<std::chrono::milliseconds>(
      std::chrono::duration_cast<std::chrono::milliseconds>(half), std::chrono::milliseconds{200},
      std::chrono::milliseconds{5000});
  if (grouped() && available_now_)
    throw InvalidArgument(fmt::format(
        "{}: Trigger::available_now needs the partitions fixed at start, which a consumer group "
        "(SourceOptions::group_id '{}') does not give; leave group_id empty to read every "
        "partition in this process",
        what_, options_.group_id));
  if (!discovered_) static_cast<void>(discover_partitions(query_timeout_));
  // The claim token of this query (docs/kafka.md, "Consumer groups"): a restored position or seal
  // record replaces it with the previous run's.
  if (checkpointing_ && token_.empty()) {
    std::lock_guard lock(positions_mutex_);
    token_ = new_claim_token();
  }
  resolve_starting_offsets();
  if (available_now_ && discovered_) {
    std::vector<std::size_t> all(partitions_.size());
    for (std::size_t i = 0; i < all.size(); ++i)
      all[i] = i;
    const auto ends = query_offsets(all, /*earliest=*/false);
    for (std::size_t i = 0; i < all.size(); ++i)
      partitions_[i].available_end = ends[i];
  }
  std::lock_guard lock(positions_mutex_);
  base_.offsets = current_offsets();
}

std::vector<std::optional<std::int64_t>> DirectSource::query_offsets(
    const std::vector<std::size_t>& indexes, bool earliest) {
  std::vector<std::optional<std::int64_t>> out(indexes.size());
  if (indexes.empty()) return out;
  UniquePartitionList list{rd_kafka_topic_partition_list_new(static_cast<int>(indexes.size()))};
  for (std::size_t i : indexes) {
    rd_kafka_topic_partition_list_add(list.get(), partitions_[i].topic.c_str(),
                                      partitions_[i].partition)
        ->offset = earliest ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
  }
  // ListOffsets with the timestamps -2 (earliest) and -1 (latest): one request per leader.
  const rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(
      consumer_.get(), list.get(), static_cast<int>(query_timeout_.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    count_error();
    const auto now = std::chrono::steady_clock::now();
    if (now - last_error_log_ >= kErrorLogInterval) {
      last_error_log_ = now;
      logger().warn(
          "{}: cannot read the {} offsets of {} partition(s): {}; those batches stay "
          "empty until the brokers answer",
          what_, earliest ? "start" : "end", indexes.size(), rd_kafka_err2str(err));
    }
    return out;
  }
  for (std::size_t k = 0; k < indexes.size(); ++k) {
    const Partition& p = partitions_[indexes[k]];
    const rd_kafka_topic_partition_t* e =
        rd_kafka_topic_partition_list_find(list.get(), p.topic.c_str(), p.partition);
    if (e == nullptr || e->err != RD_KAFKA_RESP_ERR_NO_ERROR || e->offset < 0) {
      count_error();
      logger().warn("{}: no {} offset for {}[{}]: {}", what_, earliest ? "start" : "end", p.topic,
                    p.partition,
                    rd_kafka_err2str(e == nullptr ? RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION : e->err));
      continue;
    }
    out[k] = e->offset;
  }
  return out;
}

void DirectSource::resolve_starting_offsets() {
  std::vector<std::size_t> unresolved;
  for (std::size_t i = 0; i < partitions_.size(); ++i) {
    if (partitions_[i].owned && !partitions_[i].next) unresolved.push_back(i);
  }
  if (unresolved.empty()) return;
  const auto offsets =
      query_offsets(unresolved, options_.starting_offsets == StartingOffsets::earliest);
  for (std::size_t k = 0; k < unresolved.size(); ++k) {
    if (offsets[k]) partitions_[unresolved[k]].next = *offsets[k];
  }
}

std::optional<std::size_t> DirectSource::find(std::string_view topic,
                                              std::int32_t partition) const {
  // Partitions are few and sorted by topic (in the order given), then number.
  for (std::size_t i = 0; i < partitions_.size(); ++i) {
    if (partitions_[i].partition == partition && partitions_[i].topic == topic) return i;
  }
  return std::nullopt;
}

Offsets DirectSource::current_offsets() const {
  Offsets out;
  for (const auto& p : partitions_) {
    // In group mode, before subscribing (replays), what this process knows of every partition.
    if (p.next && (p.owned || (grouped() && !subscribed_))) out[p.topic][p.partition] = *p.next;
  }
  return out;
}

std::vector<OffsetRange> DirectSource::plan_ranges() {
  std::vector<std::size_t> resolved;
  for (std::size_t i = 0; i < partitions_.size(); ++i) {
    if (partitions_[i].owned && partitions_[i].next) resolved.push_back(i);
  }
  const auto ends = query_offsets(resolved, /*earliest=*/false);
  std::vector<OffsetRange> ranges;
  for (std::size_t k = 0; k < resolved.size(); ++k) {
    if (!ends[k]) continue;
    Partition& p = partitions_[resolved[k]];
    const std::int64_t from = *p.next;
    std::int64_t until = *ends[k];
    if (until < from) {
      // The log ends before where the last batch ended: the topic was recreated or truncated.
      data_loss(p.topic, p.partition, until, from,
                fmt::format("the end offset {} is below the next offset {}: the topic was "
                            "deleted and created again, or truncated",
                            until, from));
      // Skipping: go on from the log's start.
      const auto start = query_offsets({resolved[k]}, /*earliest=*/true);
      if (start[0]) p.next = *start[0];
      continue;
    }
    if (available_now_) until = std::min(until, p.available_end.value_or(from));
    if (options_.max_records_per_partition > 0)
      until = std::min(until, from + options_.max_records_per_partition);
    if (until > from) ranges.push_back(OffsetRange{p.topic, p.partition, from, until});
  }
  return ranges;
}

void DirectSource::data_loss(const std::string& topic, std::int32_t partition, std::int64_t from,
                             std::int64_t until, std::string_view why) {
  const std::string message =
      fmt::format("{}: records {}..{} of {}[{}] vanished before they were read ({})", what_, from,
                  until, topic, partition, why);
  if (options_.fail_on_data_loss) {
    throw IoError(fmt::format(
        "{}; set SourceOptions::fail_on_data_loss = false to log, count and skip them", message));
  }
  if (until > from) skipped_.fetch_add(until - from, std::memory_order_relaxed);
  logger().warn("{}; skipped (fail_on_data_loss is false)", message);
}

void DirectSource::position_consumer(std::size_t index, std::int64_t from) {
  Partition& p = partitions_[index];
  UniquePartitionList list{rd_kafka_topic_partition_list_new(1)};
  rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition)->offset = from;
  if (p.assigned && p.reassign) {
    // A fetcher stopped by an offset-out-of-range error restarts from a new assignment.
    if (rd_kafka_error_t* error = rd_kafka_incremental_unassign(consumer_.get(), list.get())) {
      rd_kafka_error_destroy(error);
    }
    p.assigned = false;
  }
  p.reassign = false;
  if (!p.assigned) {
    if (rd_kafka_error_t* error = rd_kafka_incremental_assign(consumer_.get(), list.get())) {
      const std::string reason = rd_kafka_error_string(error);
      rd_kafka_error_destroy(error);
      throw IoError(
          fmt::format("{}: cannot assign {}[{}]: {}", what_, p.topic, p.partition, reason));
    }
    p.assigned = true;
  } else if (from >= p.buffer_from && from <= p.fetched_next) {
    return;  // the consumer delivered up to here: the buffer holds the rest
  } else if (rd_kafka_error_t* error = rd_kafka_seek_partitions(
                 consumer_.get(), list.get(), static_cast<int>(read_timeout_.count()))) {
    const std::string reason = rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
    throw IoError(fmt::format("{}: cannot seek {}[{}] to offset {}: {}", what_, p.topic,
                              p.partition, from, reason));
  }
  p.buffer.clear();
  p.buffer_from = from;
  p.fetched_next = from;
}

void DirectSource::accept(rd_kafka_message_t* m) {
  const std::string_view topic = m->rkt != nullptr ? rd_kafka_topic_name(m->rkt) : "";
  const auto index = find(topic, m->partition);
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if ((m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
         m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) &&
        index) {
      out_of_range_.push_back(*index);
      return;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
    count_error();
    const auto now = std::chrono::steady_clock::now();
    if (now - last_error_log_ >= kErrorLogInterval) {
      last_error_log_ = now;
      logger().warn("{}: consumer error: {}", what_, rd_kafka_message_errstr(m));
    }
    return;
  }
  if (!index) return;
  Partition& p = partitions_[*index];
  if (!p.assigned) return;                 // fetched before a revocation
  if (m->offset < p.fetched_next) return;  // delivered before a seek; not ours any more
  Record& r = p.buffer.emplace_back();
  if (m->key != nullptr) r.key.emplace(static_cast<const char*>(m->key), m->key_len);
  if (m->payload != nullptr) r.value.assign(static_cast<const char*>(m->payload), m->len);
  r.topic = p.topic;
  r.partition = p.partition;
  r.offset = m->offset;
  rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  const std::int64_t ts = rd_kafka_message_timestamp(m, &type);
  r.timestamp = Time{type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? 0 : ts};
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR && headers != nullptr) {
    const std::size_t n = rd_kafka_header_cnt(headers);
    r.headers.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      const char* name = nullptr;
      const void* value = nullptr;
      std::size_t size = 0;
      if (rd_kafka_header_get_all(headers, i, &name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR)
        break;
      r.headers.emplace_back(name, value == nullptr
                                       ? std::string{}
                                       : std::string(static_cast<const char*>(value), size));
    }
  }
  p.fetched_next = m->offset + 1;
}

std::vector<std::vector<Record>> DirectSource::read(std::vector<OffsetRange>& ranges) {
  std::vector<std::size_t> index(ranges.size());
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const auto found = find(ranges[i].topic, ranges[i].partition);
    if (!found)
      throw IoError(fmt::format("{}: {}[{}] is not a partition of the topics read", what_,
                                ranges[i].topic, ranges[i].partition));
    index[i] = *found;
    position_consumer(index[i], ranges[i].from);
  }
  const auto deadline = std::chrono::steady_clock::now() + read_timeout_;
  auto complete = [&] {
    for (std::size_t i = 0; i < ranges.size(); ++i) {
      if (partitions_[index[i]].fetched_next < ranges[i].until) return false;
    }
    return true;
  };
  // Messages are taken from the consumer's queue up to kPollBatch at a time without waiting
  // (one lock and one clock reading per call, not per message); only when the queue is empty
  // does the loop wait for one, at most 100 ms, and serve the client's error callbacks.
  constexpr std::size_t kPollBatch = 1024;
  std::array<rd_kafka_message_t*, kPollBatch> messages{};
  const kafka::detail::UniqueQueue queue{rd_kafka_queue_get_consumer(consumer_.get())};
  while (!complete()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      for (std::size_t i = 0; i < ranges.size(); ++i) {
        const Partition& p = partitions_[index[i]];
        if (p.fetched_next < ranges[i].until) {
          throw IoError(fmt::format(
              "{}: could not read offsets {}..{} of {}[{}] within {} ms (read up to {}); the "
              "batch's offsets are fixed, so it cannot go on without them",
              what_, ranges[i].from, ranges[i].until, p.topic, p.partition, read_timeout_.count(),
              p.fetched_next));
        }
      }
    }
    const ssize_t taken =
        queue ? rd_kafka_consume_batch_queue(queue.get(), 0, messages.data(), messages.size()) : 0;
    if (taken > 0) {
      for (ssize_t i = 0; i < taken; ++i) {
        accept(messages[static_cast<std::size_t>(i)]);
        rd_kafka_message_destroy(messages[static_cast<std::size_t>(i)]);
      }
    } else if (rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_.get(), 100)) {
      accept(m);
      rd_kafka_message_destroy(m);
    } else {
      drain_events();  // the brokers' errors while waiting
    }
    while (!out_of_range_.empty()) {
      const std::size_t at = out_of_range_.back();
      out_of_range_.pop_back();
      for (std::size_t i = 0; i < ranges.size(); ++i) {
        if (index[i] != at) continue;
        Partition& p = partitions_[at];
        const auto start = query_offsets({at}, /*earliest=*/true);
        const std::int64_t low = start[0].value_or(ranges[i].until);
        const std::int64_t from = std::max(p.fetched_next, ranges[i].from);
        data_loss(p.topic, p.partition, from, std::max(from, std::min(low, ranges[i].until)),
                  fmt::format("offset {} is out of range; the log starts at {} now", from, low));
        // Skipping: the rest of the range, from the log's start.
        ranges[i].from = std::max(from, std::min(low, ranges[i].until));
        p.reassign = true;
        position_consumer(at, ranges[i].from);
        if (ranges[i].from >= ranges[i].until) p.fetched_next = ranges[i].until;
      }
    }
  }
  std::vector<std::vector<Record>> out(ranges.size());
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    Partition& p = partitions_[index[i]];
    out[i].reserve(
        static_cast<std::size_t>(std::max<std::int64_t>(0, ranges[i].until - ranges[i].from)));
    while (!p.buffer.empty() && p.buffer.front().offset < ranges[i].from)
      p.buffer.pop_front();
    while (!p.buffer.empty() && p.buffer.front().offset < ranges[i].until) {
      out[i].push_back(std::move(p.buffer.front()));
      p.buffer.pop_front();
    }
    if (p.buffer.empty()) {
      p.buffer_from = p.fetched_next;
    } else {
      p.buffer_from = p.buffer.front().offset;
    }
  }
  return out;
}

std::vector<Record> DirectSource::flatten(std::vector<std::vector<Record>> parts) {
  std::size_t total = 0;
  last_sizes_.clear();
  for (const auto& part : parts) {
    total += part.size();
    if (!part.empty()) last_sizes_.push_back(part.size());
  }
  std::vector<Record> all;
  all.reserve(total);
  for (auto& part : parts) {
    for (auto& r : part)
      all.push_back(std::move(r));
  }
  return all;
}

void DirectSource::drain_events() {
  static_cast<void>(rd_kafka_poll(consumer_.get(), 0));
}

Sealed<Record> DirectSource::seal(Time t, bool /*take_buffered*/) {
  Sealed<Record> sealed;
  if (claims_named() && handed_mark_) {
    // The scheduler wrote the seal record seal() returned last before it called this one: the
    // token and the claims of batches up to its mark are durable.
    sealed_through_ = std::max(sealed_through_, *handed_mark_);
    handed_mark_.reset();
    token_durable_.store(true, std::memory_order_release);
  }
  if (!discovered_ && discover_partitions(query_timeout_))
    logger().info("{}: the partitions of {} are known now", what_, fmt::join(options_.topics, ","));
  drain_events();
  // A restart's claims made and never sealed: read first, into this batch.
  std::vector<OffsetRange> owed;
  std::vector<std::vector<Record>> owed_parts;
  std::int64_t mark = t.milliseconds();
  // After a restart, until the previous run's unsealed claims are finished (the brokers could
  // not be reached yet), a batch's seal record must not mark batches up to its time sealed: its
  // mark stays the one known.
  const bool finishing = claims_named() && token_restored_ && !subscribed_;
  if (grouped() && discovered_) {
    if (!subscribed_) {
      if (finishing) mark = std::max(mark, finish_own_claims(owed, owed_parts));
      subscribe();
    }
    serve_group();
  } else if (finishing) {
    mark = sealed_through();
  }
  std::vector<OffsetRange> ranges;
  // In a group, no new ranges while a rebalance is known to run (claim() was refused): a commit
  // sent while this member's JoinGroup waits at the coordinator is answered after it with a
  // stale generation, which makes librdkafka drop the whole assignment. With a checkpoint, none
  // either before a claim can name a durable token, nor for a batch time a restart would take
  // for sealed (a grid moved back after a restart: t at or before the sealed mark).
  const bool paused =
      grouped() && (std::chrono::steady_clock::now() < claims_paused_until_ ||
                    (claims_named() && (!token_durable_.load(std::memory_order_acquire) ||
                                        t.milliseconds() <= sealed_through())));
  if (discovered_ && !paused) {
    resolve_starting_offsets();
    ranges = plan_ranges();
  }
  auto parts = read(ranges);
  if (grouped()) claim(t, ranges, parts);
  for (const auto& range : ranges) {
    partitions_[*find(range.topic, range.partition)].next = range.until;
  }
  if (!owed.empty()) {
    // The finished claims first: a replay of this batch reads them again from its seal record.
    for (std::size_t i = 0; i < ranges.size(); ++i) {
      owed.push_back(std::move(ranges[i]));
      owed_parts.push_back(std::move(parts[i]));
    }
    ranges = std::move(owed);
    parts = std::move(owed_parts);
  }
  if (checkpointing_) {
    SealRanges record;
    for (const auto& r : ranges) {
      if (r.until > r.from) record.emplace_back(r.topic, r.partition, r.from, r.until);
    }
    std::string token;
    {
      std::lock_guard lock(positions_mutex_);
      token = token_;
    }
    sealed.seal_record = ::rill::detail::to_bytes(kSealVersion, record, token, mark);
    if (claims_named()) handed_mark_ = mark;
  }
  sealed.records = flatten(std::move(parts));
  sizes_[t] = last_sizes_;
  std::lock_guard lock(positions_mutex_);
  positions_[t] = BatchPosition{current_offsets(), mark};
  return sealed;
}

std::vector<Record> DirectSource::replay(Time t, std::string_view seal_record) {
  std::vector<OffsetRange> ranges;
  std::int64_t mark = t.milliseconds();  // the first layout's: the batch's time
  if (!seal_record.empty()) {
    std::uint32_t version = 0;
    SealRanges record;
    std::string token;
    try {
      ::rill::detail::from_bytes(seal_record, version);
      if (version == kSealVersionRanges) {
        ::rill::detail::from_bytes(seal_record, version, record);
      } else if (version == kSealVersion) {
        ::rill::detail::from_bytes(seal_record, version, record, token, mark);
      }
    } catch (const std::exception& e) {
      throw CheckpointError(
          fmt::format("{}: the seal record of batch {} cannot be read: {}", what_, t, e.what()));
    }
    if (version != kSealVersion && version != kSealVersionRanges)
      throw CheckpointError(fmt::format(
          "{}: the seal record of batch {} has layout version {}, this build reads {} and {}",
          what_, t, version, kSealVersionRanges, kSealVersion));
    if (!token.empty()) {
      // The previous run's token (a position of the first layout had none).
      std::lock_guard lock(positions_mutex_);
      token_ = std::move(token);
      token_restored_ = true;
      token_durable_.store(true, std::memory_order_release);
    }
    for (auto& [topic, partition, from, until] : record)
      ranges.push_back(OffsetRange{std::move(topic), partition, from, until});
  }
  sealed_through_ = std::max(sealed_through_, mark);
  if (!discovered_ && !discover_partitions(read_timeout_))
    throw IoError(fmt::format("{}: cannot read the partitions of {} to replay batch {}", what_,
                              fmt::join(options_.topics, ","), t));
  auto parts = read(ranges);
  for (const auto& range : ranges) {
    auto& next = partitions_[*find(range.topic, range.partition)].next;
    next = std::max(next.value_or(range.until), range.until);
  }
  auto records = flatten(std::move(parts));
  sizes_[t] = last_sizes_;
  std::lock_guard lock(positions_mutex_);
  positions_[t] = BatchPosition{current_offsets(), mark};
  return records;
}

void DirectSource::read_committed(rd_kafka_topic_partition_list_t* list, std::string_view context,
                                  std::string_view consequence) {
  const auto deadline = std::chrono::steady_clock::now() + read_timeout_;
  for (;;) {
    const auto err =
        rd_kafka_committed(consumer_.get(), list, static_cast<int>(query_timeout_.count()));
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    count_error();
    if (std::chrono::steady_clock::now() >= deadline) {
      throw IoError(
          fmt::format("{}: {} ({}); {}", what_, context, rd_kafka_err2str(err), consequence));
    }
  }
}

std::int64_t DirectSource::finish_own_claims(std::vector<OffsetRange>& ranges,
                                             std::vector<std::vector<Record>>& parts) {
  std::int64_t latest = kNoMark;
  if (partitions_.empty()) return latest;
  UniquePartitionList list{rd_kafka_topic_partition_list_new(static_cast<int>(partitions_.size()))};
  for (const auto& p : partitions_)
    rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition);
  read_committed(list.get(),
                 fmt::format("cannot read the committed offsets of group '{}'", options_.group_id),
                 "without them this process cannot tell which ranges it claimed before it "
                 "stopped and never sealed");
  const std::int64_t sealed = sealed_through();
  std::string names;
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& e = list->elems[i];
    const auto index = find(e.topic, e.partition);
    if (!index || e.err != RD_KAFKA_RESP_ERR_NO_ERROR || e.metadata == nullptr) continue;
    auto found = ClaimMetadata::parse(
        std::string_view{static_cast<const char*>(e.metadata), e.metadata_size});
    if (!found) continue;
    partitions_[*index].claims = *found;
    for (const auto& c : found->claims()) {
      if (c.token != token_ || c.batch_ms <= sealed || c.until <= c.from) continue;
      const bool seen = std::any_of(ranges.begin(), ranges.end(), [&](const OffsetRange& r) {
        return r.topic == e.topic && r.partition == e.partition && r.from == c.from &&
               r.until == c.until;
      });
      if (seen) continue;
      ranges.push_back(OffsetRange{e.topic, e.partition, c.from, c.until});
      latest = std::max(latest, c.batch_ms);
      names += fmt::format("{}{}[{}] {}..{} (batch {})", names.empty() ? "" : ", ", e.topic,
                           e.partition, c.from, c.until, c.batch_ms);
    }
  }
  if (ranges.empty()) return latest;
  logger().info(
      "{}: group '{}': finishing {} range(s) this process claimed before it stopped and never "
      "sealed (batches after {}): {}",
      what_, options_.group_id, ranges.size(), sealed, names);
  parts = read(ranges);
  for (const auto& range : ranges) {
    // Not read again: the group's committed offset of the partition is at or after its end.
    auto& next = partitions_[*find(range.topic, range.partition)].next;
    next = std::max(next.value_or(range.until), range.until);
  }
  return latest;
}

std::vector<std::size_t> DirectSource::partition_sizes(Time t) const {
  // Asked right after seal(t) or replay(t), on the scheduler thread.
  auto it = sizes_.find(t);
  if (it == sizes_.end()) return {};
  std::vector<std::size_t> sizes = std::move(it->second);
  sizes_.erase(it);
  return sizes;
}

void DirectSource::stop() {}

bool DirectSource::has_available_input() const {
  for (const auto& p : partitions_) {
    if (!p.available_end) continue;
    if (!p.next || *p.next < *p.available_end) return true;
  }
  return false;
}

void DirectSource::release(Time t) {
  if (checkpointing_) return;  // checkpoint_written() commits and forgets
  Offsets offsets;
  {
    std::lock_guard lock(positions_mutex_);
    auto it = positions_.find(t);
    if (it == positions_.end()) return;
    offsets = std::move(it->second.offsets);
    positions_.erase(positions_.begin(), std::next(it));
  }
  commit(offsets);
}

void DirectSource::checkpoint_written(Time t, Time /*oldest_retained*/) {
  Offsets offsets;
  {
    std::lock_guard lock(positions_mutex_);
    auto it = positions_.upper_bound(t);
    if (it == positions_.begin()) return;
    base_ = std::prev(it)->second;
    offsets = base_.offsets;
    positions_.erase(positions_.begin(), it);
  }
  commit(offsets);
}

void DirectSource::commit(const Offsets& offsets) {
  // In a group, each range's end was committed when it was sealed (claim()).
  if (offsets.empty() || grouped()) return;
  UniquePartitionList list{rd_kafka_topic_partition_list_new(0)};
  for (const auto& [topic, parts] : offsets) {
    for (const auto& [partition, offset] : parts)
      rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = offset;
  }
  // Asynchronous: the group's offsets serve lag monitoring only, never a restart.
  if (auto err = rd_kafka_commit(consumer_.get(), list.get(), 1);
      err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    count_error();
    logger().warn("{}: cannot commit offsets to the group: {}", what_, rd_kafka_err2str(err));
  }
}

std::int64_t DirectSource::mark_at(Time t) const {
  auto it = positions_.upper_bound(t);
  // The latest batch's up to t (its seal record was written: the batch completed).
  return (it == positions_.begin() ? base_ : std::prev(it)->second).mark;
}

std::string DirectSource::save_position(Time t) const {
  std::lock_guard lock(positions_mutex_);
  auto it = positions_.upper_bound(t);
  const Offsets& offsets = it == positions_.begin() ? base_.offsets : std::prev(it)->second.offsets;
  saved_token_ = token_;
  std::string bytes(kPositionMagic);
  bytes += ::rill::detail::to_bytes(kPositionVersion, offsets, token_, mark_at(t));
  return bytes;
}

void DirectSource::position_saved(Time t) {
  std::lock_guard lock(positions_mutex_);
  if (!saved_token_.empty() && saved_token_ == token_)
    token_durable_.store(true, std::memory_order_release);
  const std::int64_t mark = mark_at(t);
  if (mark > saved_mark_.load(std::memory_order_relaxed))
    saved_mark_.store(mark, std::memory_order_release);
}

void DirectSource::load_position(std::string_view bytes) {
  Offsets offsets;
  std::string token;
  std::int64_t mark = kNoMark;
  if (bytes.starts_with(kPositionMagic)) {
    std::uint32_t version = 0;
    const std::string_view rest = bytes.substr(kPositionMagic.size());
    ::rill::detail::from_bytes(rest, version);
    if (version != kPositionVersion)
      throw CheckpointError(
          fmt::format("{}: the position has layout version {}, this build reads "
                      "{} and the first layout",
                      what_, version, kPositionVersion));
    ::rill::detail::from_bytes(rest, version, offsets, token, mark);
    if (!token.empty() && !is_claim_token(token))
      throw CheckpointError(
          fmt::format("{}: the position's claim token '{}' is malformed", what_, token));
  } else {
    ::rill::detail::from_bytes(bytes, offsets);  // the first layout: the offsets alone
  }
  if (discovered_) {
    for (auto& p : partitions_) {
      if (auto t = offsets.find(p.topic); t != offsets.end()) {
        if (auto o = t->second.find(p.partition); o != t->second.end()) p.next = o->second;
      }
    }
  } else {
    restored_ = offsets;
    restore_pending_ = true;
  }
  sealed_through_ = std::max(sealed_through_, mark);
  std::lock_guard lock(positions_mutex_);
  if (!token.empty()) {
    token_ = std::move(token);
    token_restored_ = true;
    token_durable_.store(true, std::memory_order_release);
  }
  base_ = BatchPosition{std::move(offsets), mark};
}

void DirectSource::client_error(rd_kafka_resp_err_t err, const char* reason) {
  count_error();
  const auto now = std::chrono::steady_clock::now();
  if (now - last_client_error_log_ < kErrorLogInterval) {
    ++client_errors_suppressed_;
    return;
  }
  last_client_error_log_ = now;
  logger().warn("{}: client error {}: {}{}", what_, rd_kafka_err2name(err), reason,
                client_errors_suppressed_ > 0
                    ? fmt::format(" ({} more since the last such line)", client_errors_suppressed_)
                    : std::string{});
  client_errors_suppressed_ = 0;
}

void DirectSource::on_rebalance(rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t* partitions) {
  Rebalance event{err, UniquePartitionList{rd_kafka_topic_partition_list_copy(partitions)},
                  rd_kafka_assignment_lost(consumer_.get()) != 0};
  if (closing_) {
    // Called from librdkafka's C code: nothing may propagate.
    try {
      apply(event);
    } catch (const std::exception& e) {
      count_error();
      logger().warn("{}: group '{}': while leaving: {}", what_, options_.group_id, e.what());
    }
    return;
  }
  pending_.push_back(std::move(event));
}

void DirectSource::claim(Time t, std::vector<OffsetRange>& ranges,
                         std::vector<std::vector<Record>>& parts) {
  if (ranges.empty()) return;
  UniquePartitionList list{rd_kafka_topic_partition_list_new(static_cast<int>(ranges.size()))};
  // What each range's commit names (with a checkpoint: this process's claim), and the claims the
  // partition's metadata owed, carried forward so that a killed process finds its own.
  std::vector<ClaimMetadata> named(ranges.size());
  std::vector<std::vector<Claim>> dropped(ranges.size());
  const std::int64_t sealed = sealed_through();
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const OffsetRange& r = ranges[i];
    const Partition& p = partitions_[*find(r.topic, r.partition)];
    auto carried = ClaimMetadata::carry(p.claims, token_, sealed);
    if (claims_named()) named[i].primary = Claim{token_, t.milliseconds(), r.from, r.until};
    named[i].owed = std::move(carried.owed);
    dropped[i] = std::move(carried.dropped);
    rd_kafka_topic_partition_t* e =
        rd_kafka_topic_partition_list_add(list.get(), r.topic.c_str(), r.partition);
    e->offset = r.until;
    if (named[i].primary || !named[i].owed.empty()) {
      const std::string text = named[i].format();
      // Freed by rd_kafka_topic_partition_list_destroy (free()).
      e->metadata = std::malloc(text.size());
      if (e->metadata == nullptr) throw std::bad_alloc();
      std::memcpy(e->metadata, text.data(), text.size());
      e->metadata_size = text.size();
    }
  }
  const rd_kafka_resp_err_t err = rd_kafka_commit(consumer_.get(), list.get(), 0);
  std::string lost_claims;  // dropped from the metadata by a commit that succeeded
  std::size_t lost_count = 0;
  std::size_t kept = 0;
  std::string refused;
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const rd_kafka_topic_partition_t* e = rd_kafka_topic_partition_list_find(
        list.get(), ranges[i].topic.c_str(), ranges[i].partition);
    const rd_kafka_resp_err_t why = err != RD_KAFKA_RESP_ERR_NO_ERROR ? err
                                    : e == nullptr ? RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION
                                                   : e->err;
    if (why == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS) {
      // Until the rebalance's callback (apply()), or at most a session timeout.
      claims_paused_until_ = std::chrono::steady_clock::now() + session_timeout_;
    }
    if (why == RD_KAFKA_RESP_ERR_NO_ERROR) {
      partitions_[*find(ranges[i].topic, ranges[i].partition)].claims = std::move(named[i]);
      for (const auto& c : dropped[i]) {
        ++lost_count;
        lost_claims +=
            fmt::format("{}{}[{}] {}..{} (batch {} of {})", lost_claims.empty() ? "" : ", ",
                        ranges[i].topic, ranges[i].partition, c.from, c.until, c.batch_ms, c.token);
      }
      if (kept != i) {
        ranges[kept] = std::move(ranges[i]);
        parts[kept] = std::move(parts[i]);
      }
      ++kept;
      continue;
    }
    // Not this batch's: the records go back to the partition's buffer, and the range is asked
    // for again at the next seal (if the partition is still this process's then).
    Partition& p = partitions_[*find(ranges[i].topic, ranges[i].partition)];
    for (auto it = parts[i].rbegin(); it != parts[i].rend(); ++it)
      p.buffer.push_front(std::move(*it));
    p.buffer_from = ranges[i].from;
    refused +=
        fmt::format("{}{}[{}] {}..{} ({})", refused.empty() ? "" : ", ", ranges[i].topic,
                    ranges[i].partition, ranges[i].from, ranges[i].until, rd_kafka_err2name(why));
  }
  ranges.resize(kept);
  parts.resize(kept);
  if (lost_count > 0) {
    errors_.fetch_add(static_cast<std::int64_t>(lost_count), std::memory_order_relaxed);
    logger().warn(
        "{}: group '{}': more than {} claims to carry forward on a "
        "partition; no longer carried: {} (a process that made one and was not restarted since "
        "will not finish it when it is)",
        what_, options_.group_id, ClaimMetadata::kMaxOwed, lost_claims);
  }
  if (kept > 0 && after_claim_for_tests != nullptr) after_claim_for_tests();
  if (!refused.empty()) {
    count_error();
    const auto now = std::chrono::steady_clock::now();
    if (now - last_error_log_ >= kErrorLogInterval) {
      last_error_log_ = now;
      logger().warn(
          "{}: group '{}' refused the commit of {}: left out of this batch (a rebalance in "
          "progress; the partitions' next owner starts there)",
          what_, options_.group_id, refused);
    }
  }
}

void DirectSource::subscribe() {
  // Replays read their recorded ranges with partitions assigned by hand: give them up first.
  UniquePartitionList manual{rd_kafka_topic_partition_list_new(0)};
  for (auto& p : partitions_) {
    if (p.assigned) rd_kafka_topic_partition_list_add(manual.get(), p.topic.c_str(), p.partition);
    p.assigned = false;
    p.owned = false;
    p.buffer.clear();
  }
  if (manual->cnt > 0) {
    if (rd_kafka_error_t* error = rd_kafka_incremental_unassign(consumer_.get(), manual.get())) {
      const std::string reason = rd_kafka_error_string(error);
      rd_kafka_error_destroy(error);
      throw IoError(
          fmt::format("{}: cannot give up the partitions the replays read: {}", what_, reason));
    }
  }
  UniquePartitionList topics{
      rd_kafka_topic_partition_list_new(static_cast<int>(options_.topics.size()))};
  for (const auto& topic : options_.topics)
    rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (auto err = rd_kafka_subscribe(consumer_.get(), topics.get());
      err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw IoError(fmt::format("{}: cannot subscribe to {} in group '{}': {}", what_,
                              fmt::join(options_.topics, ","), options_.group_id,
                              rd_kafka_err2str(err)));
  }
  subscribed_ = true;
}

void DirectSource::serve_group() {
  // Poll without waiting: the group's events (served as callbacks) and records fetched for the
  // partitions owned (kept in their buffers for the next ranges).
  for (int i = 0; i < 100000; ++i) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_.get(), 0);
    if (m == nullptr) break;
    accept(m);
    rd_kafka_message_destroy(m);
  }
  auto events = std::move(pending_);
  pending_.clear();
  for (const auto& event : events)
    apply(event);
}

void DirectSource::apply(const Rebalance& event) {
  if (event.err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (assignments_to_resume_ > 0) --assignments_to_resume_;
    if (assignments_to_resume_ == 0) claims_paused_until_ = {};  // the rebalance is over
    assign_partitions(event.partitions.get());
  } else if (event.err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    // A revocation is followed by this member's JoinGroup (the cooperative protocol's second
    // round, the eager protocol's only one, a rejoin after a lost assignment): no claims until
    // that round's assignment arrives. A cooperative revocation comes with its round's (empty)
    // assignment first, so the second one ends the pause there.
    const bool cooperative =
        std::string_view{rd_kafka_rebalance_protocol(consumer_.get())} == "COOPERATIVE";
    assignments_to_resume_ = cooperative && !event.lost ? 2 : 1;
    claims_paused_until_ = std::chrono::steady_clock::now() + session_timeout_;
    revoke_partitions(event.partitions.get(), event.lost);
  } else {
    count_error();
    logger().warn("{}: group '{}': rebalance error: {}; giving up the partitions", what_,
                  options_.group_id, rd_kafka_err2str(event.err));
    revoke_partitions(event.partitions.get(), /*lost=*/true);
  }
}

void DirectSource::assign_partitions(rd_kafka_topic_partition_list_t* list) {
  const bool cooperative =
      std::string_view{rd_kafka_rebalance_protocol(consumer_.get())} == "COOPERATIVE";
  // Where each partition starts: the group's committed offset (its previous owner committed the
  // end of the last range it sealed when it gave it up, or after its last checkpoint), or this
  // process's own position when that is ahead (it owned the partition last and its commit after
  // a checkpoint did not land), else starting_offsets.
  UniquePartitionList committed{rd_kafka_topic_partition_list_copy(list)};
  read_committed(committed.get(),
                 fmt::format("group '{}' assigned {} partition(s) whose committed offsets cannot "
                             "be read",
                             options_.group_id, list->cnt),
                 "without them this process would read records their previous owner read");
  std::vector<std::size_t> taken;
  for (int i = 0; i < list->cnt; ++i) {
    const auto index = find(list->elems[i].topic, list->elems[i].partition);
    if (!index) continue;
    Partition& p = partitions_[*index];
    const rd_kafka_topic_partition_t* c = rd_kafka_topic_partition_list_find(
        committed.get(), list->elems[i].topic, list->elems[i].partition);
    if (c != nullptr && c->err == RD_KAFKA_RESP_ERR_NO_ERROR && c->offset >= 0)
      p.next = std::max(p.next.value_or(c->offset), c->offset);
    // The claims its committed offset names: carried forward by this process's claims (the
    // previous owner may have been killed before its seal record was written; restarted, it
    // finds its claim there). This process's own unsealed claims were finished at its restart.
    p.claims = {};
    if (c != nullptr && c->err == RD_KAFKA_RESP_ERR_NO_ERROR && c->metadata != nullptr) {
      if (auto found = ClaimMetadata::parse(
              std::string_view{static_cast<const char*>(c->metadata), c->metadata_size}))
        p.claims = std::move(*found);
    }
    p.owned = true;
    taken.push_back(*index);
  }
  resolve_starting_offsets();
  for (int i = 0; i < list->cnt; ++i) {
    auto& e = list->elems[i];
    const auto index = find(e.topic, e.partition);
    if (!index) continue;
    Partition& p = partitions_[*index];
    e.offset = p.next.value_or(RD_KAFKA_OFFSET_INVALID);
    p.assigned = true;
    p.reassign = false;
    p.buffer.clear();
    p.buffer_from = p.next.value_or(0);
    p.fetched_next = p.next.value_or(0);
  }
  std::string names;
  for (std::size_t i : taken)
    names += fmt::format("{}{}[{}]@{}", names.empty() ? "" : " ", partitions_[i].topic,
                         partitions_[i].partition, partitions_[i].next.value_or(-1));
  logger().info("{}: group '{}' assigned {}", what_, options_.group_id, names);
  rd_kafka_error_t* error = nullptr;
  if (cooperative) {
    error = rd_kafka_incremental_assign(consumer_.get(), list);
  } else if (auto err = rd_kafka_assign(consumer_.get(), list); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = rd_kafka_error_new(err, "%s", rd_kafka_err2str(err));
  }
  if (error != nullptr) {
    const std::string reason = rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
    throw IoError(fmt::format("{}: cannot take the partitions group '{}' assigned: {}", what_,
                              options_.group_id, reason));
  }
}

void DirectSource::revoke_partitions(rd_kafka_topic_partition_list_t* list, bool lost) {
  const bool cooperative =
      std::string_view{rd_kafka_rebalance_protocol(consumer_.get())} == "COOPERATIVE";
  // Nothing to commit: the end of every range sealed for these partitions was committed by its
  // seal (claim()), and the batches sealed so far run in this process (their records were read
  // when they were sealed; a restart replays them from their seal records). The next owner
  // starts exactly after them.
  if (!lost) settle_claims(list);
  std::string names;
  for (int i = 0; i < list->cnt; ++i) {
    const auto index = find(list->elems[i].topic, list->elems[i].partition);
    if (!index) continue;
    Partition& p = partitions_[*index];
    names += fmt::format("{}{}[{}]@{}", names.empty() ? "" : " ", p.topic, p.partition,
                         p.next.value_or(-1));
    p.owned = false;
    p.assigned = false;
    p.next.reset();
    p.buffer.clear();
  }
  logger().info("{}: group '{}' {} {}", what_, options_.group_id,
                lost ? "lost (this member was out of the group)" : "revoked", names);
  rd_kafka_error_t* error = nullptr;
  if (cooperative) {
    error = rd_kafka_incremental_unassign(consumer_.get(), list);
  } else if (auto err = rd_kafka_assign(consumer_.get(), nullptr);
             err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = rd_kafka_error_new(err, "%s", rd_kafka_err2str(err));
  }
  if (error != nullptr) {
    count_error();
    logger().warn("{}: group '{}': cannot give up {}: {}", what_, options_.group_id, names,
                  rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
  }
}

void DirectSource::settle_claims(rd_kafka_topic_partition_list_t* list) {
  if (!claims_named()) return;
  const std::int64_t sealed = sealed_through();
  UniquePartitionList settle{rd_kafka_topic_partition_list_new(list->cnt)};
  std::vector<std::pair<std::size_t, ClaimMetadata>> settled;
  for (int i = 0; i < list->cnt; ++i) {
    const auto index = find(list->elems[i].topic, list->elems[i].partition);
    if (!index) continue;
    const Partition& p = partitions_[*index];
    // Only where this process's claim committed the partition's offset, and that claim (the
    // process's latest of the partition) is sealed: the offset stays, the claim is struck.
    if (!p.claims.primary || p.claims.primary->token != token_ ||
        p.claims.primary->batch_ms > sealed)
      continue;
    ClaimMetadata m;
    auto carried = ClaimMetadata::carry(p.claims, token_, sealed);
    if (!carried.dropped.empty()) continue;
    m.owed = std::move(carried.owed);
    rd_kafka_topic_partition_t* e =
        rd_kafka_topic_partition_list_add(settle.get(), p.topic.c_str(), p.partition);
    e->offset = p.claims.primary->until;
    const std::string text = m.format();
    e->metadata = std::malloc(text.size());
    if (e->metadata == nullptr) throw std::bad_alloc();
    std::memcpy(e->metadata, text.data(), text.size());
    e->metadata_size = text.size();
    settled.emplace_back(*index, std::move(m));
  }
  if (settled.empty()) return;
  if (closing_) {
    // Leaving (the destructor): asynchronously, so that unreachable brokers do not hold the
    // destructor; sent before the LeaveGroup on the same coordinator connection, and
    // rd_kafka_consumer_close() waits for it.
    if (auto err = rd_kafka_commit(consumer_.get(), settle.get(), 1);
        err != RD_KAFKA_RESP_ERR_NO_ERROR)
      logger().info("{}: group '{}': could not mark this process's sealed claims as sealed: {}",
                    what_, options_.group_id, rd_kafka_err2str(err));
    return;
  }
  // Synchronously: answered before the revocation completes, so before the next owner's first
  // claim of these partitions.
  const rd_kafka_resp_err_t err = rd_kafka_commit(consumer_.get(), settle.get(), 0);
  std::string left;
  for (auto& [index, m] : settled) {
    Partition& p = partitions_[index];
    const rd_kafka_topic_partition_t* e =
        rd_kafka_topic_partition_list_find(settle.get(), p.topic.c_str(), p.partition);
    const rd_kafka_resp_err_t why = err != RD_KAFKA_RESP_ERR_NO_ERROR ? err
                                    : e == nullptr ? RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION
                                                   : e->err;
    if (why == RD_KAFKA_RESP_ERR_NO_ERROR) {
      p.claims = std::move(m);
    } else {
      left += fmt::format("{}{}[{}] ({})", left.empty() ? "" : ", ", p.topic, p.partition,
                          rd_kafka_err2name(why));
    }
  }
  if (!left.empty())
    logger().info(
        "{}: group '{}': could not mark this process's sealed claims of {} as sealed; the next "
        "owner carries them forward (at most {} per partition)",
        what_, options_.group_id, left, ClaimMetadata::kMaxOwed);
}

void DirectSource::leave_group() {
  // Unsubscribing revokes every partition (served here), then close() finds an empty
  // assignment.
  auto events = std::move(pending_);
  pending_.clear();
  for (const auto& event : events)
    apply(event);
  closing_ = true;
  static_cast<void>(rd_kafka_unsubscribe(consumer_.get()));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  auto owns = [&] {
    return std::any_of(partitions_.begin(), partitions_.end(),
                       [](const Partition& p) { return p.assigned; });
  };
  while (owns() && std::chrono::steady_clock::now() < deadline) {
    if (rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_.get(), 50))
      rd_kafka_message_destroy(m);
  }
}

}  // namespace rill::kafka::detail
