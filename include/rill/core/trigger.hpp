#pragma once

#include "rill/core/time.hpp"

namespace rill {

class Config;

/// When a context runs its batches (Spark's Trigger), set with `Config::trigger(...)`.
///
/// - `Trigger::processing_time(d)`: a batch every `d` (ms) on the grid of the context's clock,
///   as `Config::batch_interval(d)` (Spark's Trigger.ProcessingTime). The default.
/// - `Trigger::available_now()`: processes what the sources hold at start() and then stops by
///   itself (Spark's Trigger.AvailableNow). Batches run back to back without waiting for the
///   clock; batch times still step one batch interval each from the first grid time, so windows,
///   state and watermarks behave as usual. Each batch takes at most what the sources' read limits
///   allow (FileStreamOptions::max_files_per_batch, max_bytes_per_batch). Once the input is used
///   up, one more empty batch runs while the global watermark still moved in the last batch; then
///   the context stops and await_termination() returns. Sources that cannot say what they hold
///   (socket, rate, receivers) make start() throw rill::InvalidArgument naming them. The batch
///   interval still comes from `Config::batch_interval`. See docs/architecture.md, "Triggers".
///
/// A value type: cheap to copy, immutable, thread-safe.
class Trigger {
 public:
  enum class Kind { processing_time, available_now };

  /// A batch every `interval` (ms, positive; rill::InvalidArgument otherwise).
  [[nodiscard]] static Trigger processing_time(Duration interval);
  /// What the sources hold at start(), then stop.
  [[nodiscard]] static Trigger available_now() noexcept {
    return Trigger(Kind::available_now, Duration{0});
  }

  [[nodiscard]] Kind kind() const noexcept { return kind_; }
  [[nodiscard]] bool is_available_now() const noexcept { return kind_ == Kind::available_now; }
  /// The interval of processing_time (ms); 0 for available_now, whose batch times step by the
  /// Config's batch interval.
  [[nodiscard]] Duration interval() const noexcept { return interval_; }

  friend bool operator==(const Trigger&, const Trigger&) = default;

 private:
  friend class Config;  // Config::trigger() reads back a processing time from batch_interval
  Trigger(Kind kind, Duration interval) noexcept : kind_(kind), interval_(interval) {}

  Kind kind_;
  Duration interval_;
};

}  // namespace rill
