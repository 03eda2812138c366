#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rill/core/clock.hpp"
#include "rill/core/config.hpp"
#include "rill/core/listener.hpp"
#include "rill/core/serialization.hpp"
#include "rill/core/time.hpp"

namespace rill {

namespace detail {
class Runtime;
}

/// What a source declares about itself, read by start() instead of recognising sources by name.
struct SourceProperties {
  /// The strongest guarantee the source can give after a crash: `exactly_once` when every
  /// batch's input can be read again, exactly, from its seal record (a queue, a file list, a
  /// write-ahead log, Kafka offsets); `at_most_once` when what was received but not yet
  /// durable is lost (a socket's kernel buffer). Checked against Config::delivery at start().
  Delivery delivery = Delivery::at_most_once;
  /// Source::replay() reads a batch's input again from its seal record.
  bool replayable = false;
  /// The source confirms to its origin only what is durable (a reliable receiver acknowledges
  /// after store() returns; Kafka commits offsets after the checkpoint).
  bool acknowledging = false;
  /// The source can run under Trigger::available_now: it can say what it holds when the
  /// context starts, seal that in batches bounded by its read limits, and tell when it is used
  /// up (Source::has_available_input). Sources that cannot (a socket, a rate generator, a
  /// receiver) leave it false, and start() refuses them by name under that trigger.
  bool available_now = false;
  /// The source can limit its intake to a rate in records/s (a receiver: store() waits):
  /// Config::max_rate_per_source applies to it, and with Config::backpressure the context's
  /// rate estimator runs for it and calls Source::update_rate() after each batch.
  bool rate_limited = false;
};

/// What rill gives a source when the context starts. Valid until the source is stopped.
class SourceContext {
 public:
  SourceContext(std::string name, Time zero, detail::Runtime& runtime)
      : name_(std::move(name)), zero_(zero), runtime_(runtime) {}

  /// The stream's stable name (DStream::name(), else `<kind>#<n>`), for logs and file names.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// The zero time: the first batch time minus one interval.
  [[nodiscard]] Time zero() const noexcept { return zero_; }
  /// The context's clock: read it for every time a source needs (file ages, rates).
  [[nodiscard]] Clock& clock() const;
  [[nodiscard]] const Config& config() const;
  /// True when the context checkpoints: seal() must then fill in the seal record.
  [[nodiscard]] bool checkpointing() const;
  /// True under Trigger::available_now: start() fixes what is available now (lists the
  /// directory, reads the end offsets), and seal() takes nothing beyond it.
  [[nodiscard]] bool available_now() const;
  /// Internal: the engine, for rill's receivers.
  [[nodiscard]] detail::Runtime& runtime() const noexcept { return runtime_; }

 private:
  std::string name_;
  Time zero_;
  detail::Runtime& runtime_;
};

/// The counters a source keeps besides its record count (StreamingContext::source_stats()).
struct SourceCounts {
  /// Records skipped: over-long lines, unreadable or too old files, messages a ZeroMQ SUB
  /// stream dropped while its receiver queue was full.
  std::int64_t skipped = 0;
  /// Errors met: connection failures, unreadable files, report_error calls.
  std::int64_t errors = 0;
};

/// The type of what a source keeps across batches, for checkpoints: a fingerprint of the types
/// (a checkpoint written with other types is refused) and whether cereal can serialize them.
struct PositionType {
  std::uint64_t fingerprint = 0;
  bool serializable = false;
};

/// The PositionType of a position made of values of types Ts.
template <class... Ts>
[[nodiscard]] PositionType position_type() {
  return PositionType{detail::type_fingerprint<Ts...>(), detail::all_serializable_v<Ts...>};
}

/// The input of one batch, as a source seals it.
template <class T>
struct Sealed {
  /// The batch's records, in order; rill cuts them into the stream's partitions contiguously.
  std::vector<T> records;
  /// What fixes these records, written durably before the batch runs (the queue range, the
  /// file names, a log position): replay() gets it back after a restart. Filled in only when
  /// SourceContext::checkpointing().
  std::string seal_record;
};

/// A source of records: the contract every input implements, rill's own ones too (Spark's
/// InputDStream; a Kafka source or a user's source of any kind). The base of a source owns the
/// hard part: rill keeps each batch's sealed records, cuts them into partitions, counts them,
/// writes the seal records and checkpoints the position; a source writes properties() and
/// seal(), and what else its kind needs.
///
/// Add one with `StreamingContext::add_source(std::make_shared<MySource>(...))`, which returns
/// its `DStream<T>`. Threads: seal(), replay(), has_buffered_input() and has_available_input()
/// run on rill's scheduler thread; release(), checkpoint_written(), save_position(),
/// save_position_delta() and position_saved() on its batch thread, possibly at the same time as a
/// seal() of a later batch (guard what both touch); start(), stop(), track_position_changes(),
/// load_position() and load_position_delta() during start() and stop(); counts() on any thread.
template <class T>
class Source {
 public:
  virtual ~Source() = default;

  /// The stem of the stream's default name, `<kind>#<n>` (snake_case: `queue_stream`).
  [[nodiscard]] virtual std::string kind() const = 0;
  /// What the source promises; constant.
  [[nodiscard]] virtual SourceProperties properties() const = 0;
  /// Partitions of each batch; 0 (the default): the context's parallelism.
  [[nodiscard]] virtual std::size_t num_partitions() const { return 0; }

  /// Called once by start(), before the first batch is sealed and before a checkpoint is
  /// restored (load_position() comes after it).
  virtual void start(SourceContext& /*ctx*/) {}
  /// Fixes the input of batch t (called once per batch time, in order), taking what is
  /// buffered (received, listed). rill passes `take_buffered` true: while
  /// `Config::max_pending_batches` batches wait, it holds the tick rather than sealing a batch,
  /// and seals it late once a batch completes (docs/architecture.md, "Sealing"). The parameter
  /// stays for sources written when a held tick sealed with false; should it be false, a source
  /// returns nothing it can keep for later.
  virtual Sealed<T> seal(Time t, bool take_buffered) = 0;
  /// After a restart, the records of batch t again, from the seal record seal() gave (empty
  /// when the checkpoint held none for this source). The default seals again, which is right
  /// for a source whose input is a pure function of t (a rate generator). Throw
  /// rill::CheckpointError when the records cannot be had any more.
  virtual std::vector<T> replay(Time t, std::string_view /*seal_record*/) {
    return seal(t, true).records;
  }
  /// How batch t's records are cut into partitions, asked right after seal(t) or replay(t) on
  /// the same thread: the sizes of the first partitions, in order (their sum is the number of
  /// records; partitions after them are empty; entries beyond num_partitions() join the last
  /// partition). Empty (the default): `parallelism` contiguous slices of equal size. A source
  /// whose origin is partitioned (Kafka) keeps its partitions apart this way, as Spark's
  /// KafkaRDD has one partition per Kafka partition.
  [[nodiscard]] virtual std::vector<std::size_t> partition_sizes(Time /*t*/) const { return {}; }
  /// Stop receiving new input (a graceful stop); what is buffered stays to be sealed.
  virtual void stop() {}
  /// True while received input waits to be sealed (a graceful stop waits for it).
  [[nodiscard]] virtual bool has_buffered_input() const { return false; }
  /// Under Trigger::available_now (SourceProperties::available_now): true while part of what the
  /// source held at start() is not sealed into a batch yet: queued vectors, files listed at
  /// start() and not read to their end, Kafka offsets below the end offsets read at start().
  /// Asked before each batch is sealed, after load_position() and any replay: what a restored
  /// checkpoint says was processed is not available. The context seals batches while some
  /// source says true (each within the source's read limits), and stops once none does and the
  /// watermarks are still. Must not count what arrived after start(), so that the run ends.
  [[nodiscard]] virtual bool has_available_input() const { return false; }
  /// Batch t is done: forget what only it needed.
  virtual void release(Time /*t*/) {}
  /// The checkpoint of batch t is durable: offsets up to it may be committed. A restart may
  /// still fall back to any checkpoint from `oldest_retained` on (when newer ones are damaged)
  /// and run the batches after it again from their seal records, so a log may forget only what
  /// batches up to `oldest_retained` took (Flink's notifyCheckpointComplete, with the
  /// retained checkpoints of Config::checkpoints_retained()).
  virtual void checkpoint_written(Time /*t*/, Time /*oldest_retained*/) {}

  /// A source that keeps a position across batches (a queue index, the files seen) returns
  /// its type (`rill::position_type<std::uint64_t>()`); checkpoints then hold save_position()
  /// and a restart calls load_position(). nullopt (the default): nothing is kept.
  [[nodiscard]] virtual std::optional<PositionType> position() const { return std::nullopt; }
  /// The position as of the end of batch t (cereal's bytes: rill::detail::to_bytes).
  [[nodiscard]] virtual std::string save_position(Time /*t*/) const { return {}; }
  /// Restores a save_position(), after start() and before the first batch. Throw (any
  /// exception) on bytes it cannot read: the restore reports rill::CheckpointError naming the
  /// stream and the checkpoint.
  virtual void load_position(std::string_view /*bytes*/) {}

  /// Incremental positions (optional; Spark's state-store deltas, Flink's incremental
  /// checkpoints): a source whose position grows (the names a file stream remembers) writes
  /// into most checkpoints only what changed since the last durable one. rill writes a snapshot
  /// (save_position()) first in every run, every Config::checkpoint_snapshot_interval()-th
  /// checkpoint and whenever the deltas outweigh it, and a delta otherwise; a restore calls
  /// load_position() with the snapshot, then load_position_delta() with each delta in order.
  ///
  /// Called once by start() when the context checkpoints to a directory, before start() and
  /// before anything is restored: from now on the source may keep what save_position_delta()
  /// needs (the position last written). Without it, it never writes a delta.
  virtual void track_position_changes() {}
  /// What changed in the position since the checkpoint last made durable (position_saved()), as
  /// of the end of batch t, in the source's own versioned bytes; nullopt (the default) writes
  /// the whole save_position() instead, e.g. before the first position_saved() or when the
  /// change is as large as the position. Applying it with load_position_delta() on top of the
  /// position last saved must give exactly save_position(t).
  [[nodiscard]] virtual std::optional<std::string> save_position_delta(Time /*t*/) const {
    return std::nullopt;
  }
  /// Applies a save_position_delta() on top of the position restored so far (load_position(),
  /// then the deltas before this one), after start() and before the first batch. Throw (any
  /// exception) on bytes it cannot read or that do not apply to that position: the restore
  /// reports rill::CheckpointError naming the stream and the checkpoint.
  virtual void load_position_delta(std::string_view /*bytes*/) {}
  /// The checkpoint of batch t, holding the position last returned by save_position(t) or
  /// save_position_delta(t), is durable: later deltas count their changes from it. Called for
  /// every checkpoint written (also the one start() writes at the zero time), right after the
  /// write and before checkpoint_written(); not called when the write failed.
  virtual void position_saved(Time /*t*/) {}

  /// Counters besides the records (thread-safe: read from any thread).
  [[nodiscard]] virtual SourceCounts counts() const { return {}; }
  /// A source that buffers received records in a bounded queue (a receiver) returns it as the
  /// last seal() found it: its depth and bounds, and whether back-pressure made a producer wait
  /// for room since the seal before (BatchInfo's SourceProgress::queue). Called on the
  /// scheduler thread right after each seal(). nullopt (the default): no such queue.
  [[nodiscard]] virtual std::optional<QueueInfo> queue_info() const { return std::nullopt; }

  /// Rate control (SourceProperties::rate_limited, Config::backpressure; Spark's
  /// RateController publishing to a receiver): the rate back-pressure estimated for this source
  /// after a batch completed, in records/s (> 0, at least the PID's min_rate). The source limits
  /// its intake to min(it, Config::max_rate_per_source()). Called on the batch thread, once per
  /// completed batch that gave an estimate, possibly while a seal() runs on the scheduler thread.
  virtual void update_rate(double /*records_per_second*/) {}
  /// The limit of the source's intake now, in records/s; nullopt when unlimited or when the
  /// source cannot be limited (SourceProgress::rate_limit). Called on the scheduler thread right
  /// after each seal().
  [[nodiscard]] virtual std::optional<double> rate_limit() const { return std::nullopt; }
};

}  // namespace rill
