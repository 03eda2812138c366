#pragma once

#include "rill/core/time.hpp"

namespace rill::detail {

/// When batches run (Spark's Trigger): the batch grid, as times of the context's clock in ms.
/// The job generator asks it for every batch time; it keeps no state.
///
/// Thread-safety: const after construction, so any thread may call it. Nothing throws.
class Trigger {
 public:
  virtual ~Trigger() = default;

  /// The first batch time of a fresh run, given the clock's reading `now` at start().
  [[nodiscard]] virtual Time first_batch(Time now) const noexcept = 0;
  /// The batch time that follows batch `t`.
  [[nodiscard]] virtual Time next_batch(Time t) const noexcept = 0;
};

/// Batches at every multiple of the batch interval (Spark's Trigger.ProcessingTime): the first
/// is the first multiple strictly after the clock's reading at start(), each next one an interval
/// later, and each waits for the clock.
class ProcessingTimeTrigger final : public Trigger {
 public:
  /// `interval` is the batch interval (ms), positive (Config checks it).
  explicit ProcessingTimeTrigger(Duration interval) noexcept : interval_(interval) {}

  [[nodiscard]] Time first_batch(Time now) const noexcept override;
  [[nodiscard]] Time next_batch(Time t) const noexcept override;

 private:
  Duration interval_;
};

}  // namespace rill::detail
