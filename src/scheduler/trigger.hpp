#pragma once

#include <memory>

#include "rill/core/config.hpp"
#include "rill/core/time.hpp"
#include "scheduler/plan.hpp"

namespace rill::detail {

/// When batches run (the policy behind the public rill::Trigger): the batch grid, as times of
/// the context's clock in ms, and whether each batch waits for its time on the clock. The job
/// generator asks it for every batch time; it keeps no state.
///
/// Thread-safety: const after construction, so any thread may call it. Nothing throws.
class TriggerPolicy {
 public:
  virtual ~TriggerPolicy() = default;

  /// The first batch time of a fresh run, given the clock's reading `now` at start().
  [[nodiscard]] virtual Time first_batch(Time now) const noexcept = 0;
  /// The batch time that follows batch `t`.
  [[nodiscard]] virtual Time next_batch(Time t) const noexcept = 0;
  /// True when a batch is sealed once the clock reads its time; false when batches are sealed
  /// back to back, as soon as the queue has room (the engine then decides when the run ends).
  [[nodiscard]] virtual bool paced_by_clock() const noexcept = 0;
};

/// Batches at every multiple of the batch interval (Spark's Trigger.ProcessingTime): the first
/// is the first multiple strictly after the clock's reading at start(), each next one an interval
/// later, and each waits for the clock.
class ProcessingTimeTrigger final : public TriggerPolicy {
 public:
  /// `interval` is the batch interval (ms), positive (Config checks it).
  explicit ProcessingTimeTrigger(Duration interval) noexcept : interval_(interval) {}

  [[nodiscard]] Time first_batch(Time now) const noexcept override;
  [[nodiscard]] Time next_batch(Time t) const noexcept override;
  [[nodiscard]] bool paced_by_clock() const noexcept override { return true; }

 private:
  Duration interval_;
};

/// Spark's Trigger.AvailableNow: the grid of ProcessingTimeTrigger (so windows, state and
/// watermarks see the usual batch times), but no batch waits for the clock.
class AvailableNowTrigger final : public TriggerPolicy {
 public:
  /// `interval` is the batch interval (ms), positive (Config checks it).
  explicit AvailableNowTrigger(Duration interval) noexcept : grid_(interval) {}

  [[nodiscard]] Time first_batch(Time now) const noexcept override {
    return grid_.first_batch(now);
  }
  [[nodiscard]] Time next_batch(Time t) const noexcept override { return grid_.next_batch(t); }
  [[nodiscard]] bool paced_by_clock() const noexcept override { return false; }

 private:
  ProcessingTimeTrigger grid_;
};

/// The policy of `config`'s trigger, with its batch interval.
[[nodiscard]] std::unique_ptr<TriggerPolicy> make_trigger_policy(const Config& config);

/// Under Trigger::available_now, every input must say what it holds at start()
/// (SourceProperties::available_now): throws rill::InvalidArgument naming those that cannot.
/// Does nothing under other triggers.
void check_trigger_inputs(const Plan& plan, const Config& config);

}  // namespace rill::detail
