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
