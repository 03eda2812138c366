#pragma once
// The source behind rill::kafka::direct_stream (Spark's DirectKafkaInputDStream): offset ranges
// fixed at seal time, read with one librdkafka consumer on the scheduler thread.

#include <rill/kafka/record.hpp>
#include <rill/kafka/source_options.hpp>

#include "kafka/claim_metadata.hpp"
#include "kafka/client_config.hpp"
#include "rill/sources/source.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace rill::kafka::detail {

/// What a position holds: topic -> partition -> the next offset to read.
using Offsets = std::map<std::string, std::map<std::int32_t, std::int64_t>>;

/// One Kafka partition's part of a batch: the offsets [from, until).
struct OffsetRange {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t from = 0;
  std::int64_t until = 0;
};

/// Test-only (tests/kafka/group_child.cpp), not an API: when set, called on the scheduler thread
/// right after a claim's offset commit succeeded for at least one range, inside seal(), before
/// the batch's seal record is written (the window docs/kafka.md, "Consumer groups", closes). The
/// test child sets it to end the process there. Null (the default): nothing is called.
extern void (*after_claim_for_tests)();

/// The direct stream's Source. Threads: seal(), replay() and has_available_input() run on the
/// scheduler thread and alone touch the consumer's reading state and the partitions' claims;
/// release(), checkpoint_written(), save_position() and position_saved() run on the batch
/// thread and touch only the per-batch positions and the claim token (under
/// `positions_mutex_`), the atomics of what is durable, and the consumer's commit (thread-safe
/// in librdkafka); counts() reads atomics.
class DirectSource final : public Source<Record> {
 public:
  /// Builds the consumer and reads the topics' partition counts (at most `metadata_timeout`).
  /// Throws rill::InvalidArgument for bad options or properties.
  explicit DirectSource(SourceOptions options,
                        std::chrono::milliseconds metadata_timeout = std::chrono::seconds{5});
  ~DirectSource() override;
  DirectSource(const DirectSource&) = delete;
  DirectSource& operator=(const DirectSource&) = delete;

  [[nodiscard]] std::string kind() const override { return "kafka_direct_stream"; }
  [[nodiscard]] SourceProperties properties() const override {
    return SourceProperties{.delivery = Delivery::exactly_once,
                            .replayable = true,
                            .acknowledging = true,
                            .available_now = true};
  }
  [[nodiscard]] std::size_t num_partitions() const override { return num_partitions_; }

  void start(SourceContext& ctx) override;
  Sealed<Record> seal(Time t, bool take_buffered) override;
  std::vector<Record> replay(Time t, std::string_view seal_record) override;
  [[nodiscard]] std::vector<std::size_t> partition_sizes(Time t) const override;
  void stop() override;
  [[nodiscard]] bool has_available_input() const override;
  void release(Time t) override;
  void checkpoint_written(Time t, Time oldest_retained) override;

  [[nodiscard]] std::optional<PositionType> position() const override {
    return position_type<Offsets>();
  }
  /// Position bytes: a magic prefix and a versioned layout holding the next offsets, the claim
  /// token and the latest batch time durably sealed (docs/checkpoint-format.md); load_position()
  /// still reads the first layout (the offsets alone).
  [[nodiscard]] std::string save_position(Time t) const override;
  void load_position(std::string_view bytes) override;
  /// The checkpoint holding save_position(t) is durable: so are the token and the seal marks it
  /// holds.
  void position_saved(Time t) override;

  [[nodiscard]] SourceCounts counts() const override {
    return SourceCounts{skipped_.load(), errors_.load()};
  }

  /// Counts one client error (librdkafka's error callback, a failed offset query).
  void count_error() noexcept { errors_.fetch_add(1, std::memory_order_relaxed); }
  /// librdkafka's error callback (served by rd_kafka_poll() in drain_events(), on the scheduler
  /// thread): counted; logged at most once per 10 s with the number not logged since.
  void client_error(rd_kafka_resp_err_t err, const char* reason);
  /// Group mode: librdkafka's rebalance callback (served by the consumer's polls, on the
  /// scheduler thread). Keeps the event for serve_group(), which applies it between two batches'
  /// reads, so that a rebalance takes effect at a batch boundary; while closing, applies it.
  void on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);

 private:
  /// A Kafka partition as this source reads it.
  struct Partition {
    std::string topic;
    std::int32_t partition = 0;
    std::optional<std::int64_t> next;  // the next batch's first offset; nullopt: not resolved
    bool owned = false;     // read by this process: always without a group, else as assigned
    bool assigned = false;  // in the consumer's assignment
    bool reassign = false;  // its fetcher stopped (offset out of range)
    // Records the consumer delivered and no batch took yet: complete for [buffer_from,
    // fetched_next) (offsets missing in it were compacted away or are control records).
    std::deque<Record> buffer;
    std::int64_t buffer_from = 0;
    std::int64_t fetched_next = 0;
    std::optional<std::int64_t> available_end;  // Trigger::available_now: end offset at start()
    // Group mode: the claims named by the partition's committed offset as last known (read at
    // assignment, then what this process's claims committed); carried forward by its claims.
    ClaimMetadata claims;
  };

  /// What the position holds as of a batch: the next offsets, and the latest batch time (ms)
  /// whose claims are sealed once this batch's seal record is (the batch's time, or later when
  /// it finished claims of later batches a previous run made, or the mark known before it when
  /// it was sealed after a restart before those claims could be finished).
  struct BatchPosition {
    Offsets offsets;
    std::int64_t mark = std::numeric_limits<std::int64_t>::min();
  };

  /// A rebalance event kept until the batch boundary.
  struct Rebalance {
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    kafka::detail::UniquePartitionList partitions;
    bool lost = false;  // rd_kafka_assignment_lost() when the event came
  };

  [[nodiscard]] bool grouped() const noexcept { return !options_.group_id.empty(); }
  /// Group mode, at the first seal: gives up what replays assigned by hand and subscribes.
  void subscribe();
  /// Group mode, at a batch boundary: polls the consumer for the group's events and applies
  /// the rebalances that arrived (during this poll or the previous batch's reads).
  void serve_group();
  /// Applies one rebalance: an assignment starts each partition at the group's committed offset
  /// (or this process's own position when ahead), else at starting_offsets; a revocation
  /// unassigns (claim() committed every sealed range already).
  void apply(const Rebalance& event);
  void assign_partitions(rd_kafka_topic_partition_list_t* list);
  void revoke_partitions(rd_kafka_topic_partition_list_t* list, bool lost);
  /// The group's committed offsets (and metadata) of the partitions in `list`, filled in place;
  /// retried for read_timeout_, each failure counted. Throws rill::IoError "<stream>: <context>
  /// (<librdkafka's error>); <consequence>" when they cannot be read by then.
  void read_committed(rd_kafka_topic_partition_list_t* list, std::string_view context,
                      std::string_view consequence);
  /// Group mode with a checkpoint, giving partitions up (not lost): where the partition's
  /// committed offset is this process's sealed claim, commits the same offset with that claim
  /// struck from its metadata (the claims it owed stay), so that the next owner does not carry
  /// a claim that is no one's to finish. A refused commit leaves the claim to be carried.
  void settle_claims(rd_kafka_topic_partition_list_t* list);
  /// Group mode: leaves the group (unsubscribe, serve the final revocation), before close.
  void leave_group();
  /// Reads the topics' partitions; false when the brokers could not say.
  bool discover_partitions(std::chrono::milliseconds timeout);
  /// Queries the log start (`earliest` true) or end offsets of the partitions at `indexes`;
  /// nullopt per partition that could not be had (counted and logged).
  std::vector<std::optional<std::int64_t>> query_offsets(const std::vector<std::size_t>& indexes,
                                                         bool earliest);
  /// Resolves the partitions without a next offset from starting_offsets.
  void resolve_starting_offsets();
  /// The ranges of batch t: from each partition's next to its end offset now (capped).
  std::vector<OffsetRange> plan_ranges();
  /// Checks the ranges against the log start offsets: vanished records fail (IoError) or are
  /// skipped (the range then starts at the log start).
  void check_data_loss(std::vector<OffsetRange>& ranges, bool replaying);
  /// Reads exactly the records of `ranges`, one vector per range, in offset order.
  /// Data lost on the way (offsets out of range) narrows a range, or throws (fail_on_data_loss).
  std::vector<std::vector<Record>> read(std::vector<OffsetRange>& ranges);
  /// Serves the client's pending error callbacks (its main queue; never records).
  void drain_events();
  /// Puts partition `index` into the consumer's assignment, or seeks it, so that it delivers
  /// from `from` on.
  void position_consumer(std::size_t index, std::int64_t from);
  /// One message of the consumer: into its partition's buffer, or an error handled.
  void accept(rd_kafka_message_t* message);
  /// Data loss found while reading partition `index` (offset out of range).
  void on_out_of_range(std::size_t index);
  /// Records that vanished: fails or logs and counts, per fail_on_data_loss.
  void data_loss(const std::string& topic, std::int32_t partition, std::int64_t from,
                 std::int64_t until, std::string_view why);
  /// The partition's index in partitions_, or nullopt.
  [[nodiscard]] std::optional<std::size_t> find(std::string_view topic,
                                                std::int32_t partition) const;
  /// The records cut into the stream's partitions: the ranges with records first, in order.
  /// Sets last_sizes_.
  std::vector<Record> flatten(std::vector<std::vector<Record>> parts);
  /// The next offsets of every resolved partition.
  [[nodiscard]] Offsets current_offsets() const;
  /// Without a group: commits `offsets` to the internal group, asynchronously (for lag
  /// monitoring). In a group nothing: claim() committed each range when it was sealed.
  void commit(const Offsets& offsets);
  /// Group mode, in seal() after the read: commits the end of each range, synchronously. A range
  /// whose commit the group refuses (a rebalance in progress, a stale generation) is taken out of
  /// the batch, its records back in the partition's buffer. So the group's committed offset of a
  /// partition is always the end of the last range a process sealed for it: the next owner
  /// starts exactly there.
  /// With a checkpoint, each range's commit carries ClaimMetadata naming the claim (this
  /// process's token, batch t) and the claims the partition's metadata owed, carried forward.
  void claim(Time t, std::vector<OffsetRange>& ranges, std::vector<std::vector<Record>>& parts);
  /// Group mode with a checkpoint, at the first seal after a restart (before subscribing): the
  /// claims this process's token made for batches later than the latest one durably sealed
  /// (read from every partition's committed metadata) were never sealed; reads exactly their
  /// ranges (assigned by hand, as replays do) into `ranges` and `parts` and returns the latest
  /// batch time among them. Throws rill::IoError when the committed offsets cannot be read.
  std::int64_t finish_own_claims(std::vector<OffsetRange>& ranges,
                                 std::vector<std::vector<Record>>& parts);
  /// Exactly-once claims: a group and a checkpoint.
  [[nodiscard]] bool claims_named() const noexcept { return grouped() && checkpointing_; }
  /// The latest batch time (ms) known to be durably sealed: replayed, checkpointed, or sealed
  /// before the current seal() began.
  [[nodiscard]] std::int64_t sealed_through() const noexcept {
    return std::max(sealed_through_, saved_mark_.load(std::memory_order_acquire));
  }
  /// The mark of the position as of batch t (under positions_mutex_).
  [[nodiscard]] std::int64_t mark_at(Time t) const;

  SourceOptions options_;
  std::string what_;  // "rill::kafka::direct_stream" and the stream's name, for messages
  kafka::detail::UniqueHandle consumer_;
  std::size_t num_partitions_ = 0;
  std::chrono::milliseconds query_timeout_{2000};
  std::chrono::milliseconds read_timeout_{30000};
  bool checkpointing_ = false;
  bool available_now_ = false;

  std::vector<Partition> partitions_;  // topics in the order given, partitions in order
  bool discovered_ = false;
  Offsets restored_;  // the position load_position() gave, applied to partitions_ at the seal
  bool restore_pending_ = false;
  std::vector<std::size_t> out_of_range_;  // partitions whose fetch met offsets out of range
  std::vector<std::size_t> last_sizes_;    // the sizes of the latest seal's parts with records
  mutable std::map<Time, std::vector<std::size_t>> sizes_;  // until partition_sizes(t)

  // Group mode.
  bool subscribed_ = false;
  bool closing_ = false;
  // No new ranges until then: a commit was refused for a rebalance in progress (until the
  // rebalance's callback, at most a session timeout).
  std::chrono::steady_clock::time_point claims_paused_until_{};
  std::chrono::milliseconds session_timeout_{45000};
  int assignments_to_resume_ = 0;   // assignment callbacks until a revocation's rebalance is over
  std::vector<Rebalance> pending_;  // rebalances kept until the batch boundary

  // Claim naming (group mode with a checkpoint; docs/kafka.md, "Consumer groups").
  std::string token_;            // this query's, kept in positions and seal records
  bool token_restored_ = false;  // from a position or a seal record (a previous run's)
  // The token is in a durable position or seal record: claims may name it.
  std::atomic<bool> token_durable_{false};
  std::int64_t sealed_through_ = std::numeric_limits<std::int64_t>::min();  // replays, position
  std::optional<std::int64_t> handed_mark_;  // the mark of the seal record seal() returned last
  std::atomic<std::int64_t> saved_mark_{std::numeric_limits<std::int64_t>::min()};
  mutable std::string saved_token_;  // the token of the position save_position() returned last

  mutable std::mutex positions_mutex_;       // also guards token_ against the batch thread
  std::map<Time, BatchPosition> positions_;  // batch -> the position after it (until released)
  // The position before the batches in positions_ (start, restore, checkpoint).
  BatchPosition base_;

  std::atomic<std::int64_t> skipped_{0};
  std::atomic<std::int64_t> errors_{0};
  std::chrono::steady_clock::time_point last_error_log_{};
  std::chrono::steady_clock::time_point last_client_error_log_{};
  std::int64_t client_errors_suppressed_ = 0;
};

}  // namespace rill::kafka::detail
