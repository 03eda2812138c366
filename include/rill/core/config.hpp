#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>

#include "rill/core/clock.hpp"
#include "rill/core/time.hpp"
#include "rill/core/trigger.hpp"

namespace rill {

/// What a context promises about outputs after a crash (checked at start() once checkpointing
/// exists; see docs/operators.md).
enum class Delivery { at_most_once, at_least_once, exactly_once };

/// How the global event-time watermark is formed from the inputs' watermarks (Spark's
/// `spark.sql.streaming.multipleWatermarkPolicy`): `min`, the slowest input decides (the
/// default, as in Spark and Flink); `max`, the fastest decides and slower inputs' late rows are
/// dropped.
enum class WatermarkPolicy { min, max };

/// Config::progress_log(): the file the progress records go to, and its rotation.
struct ProgressLogOptions {
  /// The file; one JSON line (rill::to_json) is appended per completed batch.
  std::filesystem::path path;
  /// Rotation size in bytes: a line that would take the file past it first rotates the file
  /// (a single longer line still goes into a fresh file whole).
  std::uint64_t max_bytes = std::uint64_t{10} << 20;
  /// Rotated files kept: `path.1` (the newest) ... `path.<max_files>`; older ones are deleted.
  /// 0 keeps none (the file starts over).
  std::size_t max_files = 3;
};

/// Config::backpressure_pid(): the gains of the PID rate estimator that back-pressure runs per
/// rate-limited source (Spark's `spark.streaming.backpressure.pid.*`, with Spark's defaults).
/// After each batch it computes, from the batch's records of that source, its processing delay
/// and its scheduling delay, a new rate `r' = r - proportional * error - integral *
/// historical_error - derived * d_error` (records/s), never below `min_rate`: `error` is the
/// last rate minus the measured processing rate, `historical_error` the scheduling delay times
/// the processing rate over the batch interval. docs/operations.md, "Rate control".
struct PidRateOptions {
  /// Weight of the current error (`spark.streaming.backpressure.pid.proportional`); >= 0.
  double proportional = 1.0;
  /// Weight of the accumulated error, read from the scheduling delay
  /// (`spark.streaming.backpressure.pid.integral`); >= 0.
  double integral = 0.2;
  /// Weight of the error's change per second (`spark.streaming.backpressure.pid.derived`); >= 0.
  double derived = 0.0;
  /// The lowest rate ever estimated, in records/s (`spark.streaming.backpressure.pid.minRate`);
  /// > 0, so that a source is never stopped and batches keep measuring the processing rate.
  double min_rate = 100.0;
};

/// A context's settings, written fluently: `Config{}.batch_interval(500ms).parallelism(4)`.
/// Each setter validates its argument and throws rill::InvalidArgument naming it.
class Config {
 public:
  Config& batch_interval(Duration d);
  /// When batches run (rill::Trigger). `Trigger::processing_time(d)` is `batch_interval(d)`, the
  /// default mode; `Trigger::available_now()` processes what the sources hold at start(), back to
  /// back, then stops by itself; its batch times step by batch_interval(), which must still be
  /// set. The last call of trigger() decides the mode.
  Config& trigger(Trigger t);
  Config& parallelism(std::size_t n);
  Config& worker_threads(std::size_t n);
  /// Sealed batches allowed to wait behind the running one (default 2; at least 1, else
  /// rill::InvalidArgument). While n wait, the next tick is held (back-pressure): nothing is
  /// sealed, receivers' store() blocks once their queue is full, files wait to be listed; the tick
  /// is sealed as soon as a batch completes, with everything buffered. Every batch time still
  /// runs, in order, so under sustained overload batch times lag the clock (BatchInfo::held_back).
  Config& max_pending_batches(std::size_t n);
  /// Records a receiver may hold before store() blocks (back-pressure, as Spark's
  /// spark.streaming.receiver.maxRate bounds intake). Default 262144. Throws
  /// rill::InvalidArgument for 0. See also receiver_queue_bytes(): the first bound reached blocks.
  Config& receiver_queue_capacity(std::size_t records);
  /// Bytes a receiver may hold before store() blocks (back-pressure bounded in memory, as Flink's
  /// network buffers are). A record counts sizeof(T), plus size() * sizeof(element) for a
  /// std::string or std::vector; a single record or block larger than the bound is still taken
  /// when the queue is empty. A receiver's records in memory stay under about
  /// (max_pending_batches() + 2) * receiver_queue_bytes(): the queue, the sealed batches waiting
  /// and the one running. Default 64 MiB. Throws rill::InvalidArgument for 0.
  Config& receiver_queue_bytes(std::size_t bytes);
  Config& clock(std::shared_ptr<Clock> c);
  Config& delivery(Delivery d);
  /// Incremental checkpoints: every n-th checkpoint is a full snapshot of the state; those
  /// between hold only what changed since the checkpoint before them. Default 10 (as Spark's
  /// stateStore.minDeltasForSnapshot); 1 writes full snapshots only.
  Config& checkpoint_snapshot_interval(std::size_t checkpoints);
  /// The newest n checkpoints are kept restorable (with the snapshot and deltas they need); older
  /// files are deleted. Default 10.
  Config& checkpoints_retained(std::size_t n);
  /// How the global watermark is formed over the `with_watermark` inputs (default
  /// WatermarkPolicy::min). See docs/event-time.md.
  Config& watermark_policy(WatermarkPolicy policy) noexcept;
  /// Appends every completed batch's progress record to `path` as one line of JSON
  /// (rill::to_json; docs/operations.md), rotating the file by size: when a line would take it
  /// past `max_bytes` (default 10 MiB), `path` becomes `path.1`, `path.1` becomes `path.2` ...
  /// up to `path.<max_files>` (default 3; older files are deleted), and a new `path` is started.
  /// Lines are written on the listener thread, off the batch's path, in batch order, each
  /// flushed (not fsynced); a batch counts as completed (Harness::run_batches returns) once its
  /// line is written. An existing file is appended to. Errors: start() throws rill::IoError when
  /// the file cannot be opened for appending (a missing directory, no permission); a later
  /// write that fails (a full disk) skips the line, logs a warning with the count of skipped
  /// lines, and retries with the next line: the context goes on. Throws rill::InvalidArgument
  /// for an empty path or a max_bytes of 0.
  Config& progress_log(std::filesystem::path path,
                       std::uint64_t max_bytes = std::uint64_t{10} << 20,
                       std::size_t max_files = 3);

  /// Rate control (Spark's `spark.streaming.backpressure.enabled`; default false). After every
  /// batch a PID estimator per receiver stream (socket_text_stream, receiver_stream, ZeroMQ)
  /// computes from the batch's processing and scheduling delays the rate, in records/s, at which
  /// the stream can be processed within the batch interval, and the receiver's store() then
  /// blocks while its records come in faster (a token bucket; Spark's RateLimiter). The limit is
  /// min(the estimate, max_rate_per_source()), never below backpressure_pid().min_rate unless
  /// max_rate_per_source() is lower. Off: receivers are limited only by max_rate_per_source()
  /// and their bounded queues. docs/operations.md, "Rate control".
  Config& backpressure(bool enabled) noexcept;
  /// The most records per second each receiver stream takes in (Spark's
  /// `spark.streaming.receiver.maxRate`, per receiver); store() blocks beyond it, with or
  /// without backpressure(). 0 (the default): unlimited. Throws rill::InvalidArgument for a
  /// negative or non-finite rate.
  Config& max_rate_per_source(double records_per_second);
  /// With backpressure(true): the limit each receiver stream starts with, in records/s, until
  /// the first estimate (Spark's `spark.streaming.backpressure.initialRate`); capped by
  /// max_rate_per_source(). 0 (the default): no limit until then. Throws rill::InvalidArgument
  /// for a negative or non-finite rate.
  Config& backpressure_initial_rate(double records_per_second);
  /// The PID estimator's gains and minimum rate (Spark's defaults: 1.0, 0.2, 0.0, 100 records/s).
  /// Throws rill::InvalidArgument, naming the value, for a negative or non-finite gain or a
  /// min_rate that is not > 0.
  Config& backpressure_pid(PidRateOptions options);

  [[nodiscard]] Duration batch_interval() const noexcept { return batch_interval_; }
  /// `Trigger::available_now()` when set so; else `Trigger::processing_time(batch_interval())`
  /// (its interval is 0 ms while no batch interval is set).
  [[nodiscard]] Trigger trigger() const noexcept;
  /// Default: the number of worker threads.
  [[nodiscard]] std::size_t parallelism() const noexcept;
  /// Default: the hardware threads (at least 1).
  [[nodiscard]] std::size_t worker_threads() const noexcept;
  [[nodiscard]] std::size_t max_pending_batches() const noexcept { return max_pending_batches_; }
  [[nodiscard]] std::size_t receiver_queue_capacity() const noexcept {
    return receiver_queue_capacity_;
  }
  [[nodiscard]] std::size_t receiver_queue_bytes() const noexcept { return receiver_queue_bytes_; }
  /// Default: a new SystemClock.
  [[nodiscard]] std::shared_ptr<Clock> clock() const;
  [[nodiscard]] Delivery delivery() const noexcept { return delivery_; }
  [[nodiscard]] std::size_t checkpoint_snapshot_interval() const noexcept {
    return checkpoint_snapshot_interval_;
  }
  [[nodiscard]] std::size_t checkpoints_retained() const noexcept { return checkpoints_retained_; }
  [[nodiscard]] WatermarkPolicy watermark_policy() const noexcept { return watermark_policy_; }
  [[nodiscard]] bool has_batch_interval() const noexcept { return batch_interval_.count() > 0; }
  [[nodiscard]] bool backpressure() const noexcept { return backpressure_; }
  /// records/s; 0: unlimited.
  [[nodiscard]] double max_rate_per_source() const noexcept { return max_rate_per_source_; }
  /// records/s; 0: none.
  [[nodiscard]] double backpressure_initial_rate() const noexcept {
    return backpressure_initial_rate_;
  }
  [[nodiscard]] const PidRateOptions& backpressure_pid() const noexcept {
    return backpressure_pid_;
  }
  /// The progress log's settings; nullopt when no progress_log() was set.
  [[nodiscard]] const std::optional<ProgressLogOptions>& progress_log() const noexcept {
    return progress_log_;
  }

 private:
  Duration batch_interval_{0};
  bool available_now_ = false;
  std::optional<std::size_t> parallelism_;
  std::optional<std::size_t> worker_threads_;
  std::size_t max_pending_batches_ = 2;
  std::size_t receiver_queue_capacity_ = 262144;
  std::size_t receiver_queue_bytes_ = std::size_t{64} << 20;
  std::shared_ptr<Clock> clock_;
  Delivery delivery_ = Delivery::at_least_once;
  std::size_t checkpoint_snapshot_interval_ = 10;
  std::size_t checkpoints_retained_ = 10;
  WatermarkPolicy watermark_policy_ = WatermarkPolicy::min;
  std::optional<ProgressLogOptions> progress_log_;
  bool backpressure_ = false;
  double max_rate_per_source_ = 0;
  double backpressure_initial_rate_ = 0;
  PidRateOptions backpressure_pid_;
};

/// Where a StreamingContext is in its life: built, running, or stopped for good.
enum class ContextState { initialized, active, stopped };

/// How StreamingContext::stop() ends processing.
struct StopOptions {
  /// Graceful: stop receivers, finish every batch of data already received, then return.
  bool graceful = true;
  /// Longest wait: for a graceful stop, for the draining (then it turns immediate); for an
  /// immediate stop, for the batch in flight. Zero means 10 batch intervals, as in Spark.
  Duration timeout{0};
};

}  // namespace rill
