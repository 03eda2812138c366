#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rill/checkpoint/detail/checkpointed_state.hpp"
#include "rill/checkpoint/detail/saved_watermarks.hpp"
#include "rill/core/config.hpp"
#include "rill/core/time.hpp"

namespace rill::detail {

/// What one `with_watermark` stream saw in the batch being computed: the largest event time of
/// its records (ms since the epoch), written by the partition tasks that stream it. Several
/// tasks, or the same partition streamed twice, may report: the maximum is idempotent.
class EventTimeProbe {
 public:
  /// Partition task, any pool thread: the largest event time of a chunk of records.
  void observe(Time max_event_time) noexcept {
    const std::int64_t v = max_event_time.milliseconds();
    std::int64_t cur = max_.load(std::memory_order_relaxed);
    while (v > cur && !max_.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
    }
  }
  /// Batch thread, after the batch's outputs: the largest event time seen since the last take,
  /// nullopt when no record was seen; resets.
  std::optional<Time> take() noexcept {
    const std::int64_t v = max_.exchange(kNone, std::memory_order_relaxed);
    if (v == kNone) return std::nullopt;
    return Time{v};
  }

 private:
  static constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::min();
  std::atomic<std::int64_t> max_{kNone};
};

/// The context's event-time watermarks (Spark's WatermarkTracker with its MultipleWatermarkPolicy,
/// plus Flink's idle inputs): one per `with_watermark` input that an output depends on, and the
/// global watermark over them.
///
/// Rules (shared/api.md, "Event time"):
/// - An input has no watermark until its first record; after each batch in which it received
///   records, `max(previous, max event time of the batch - delay)`; it never goes back.
/// - With an idle timeout, an input is idle in batch t when `t - last batch with a record` (or
///   `t - first batch`) `>= idle_timeout`, judged at the end of t; idle inputs are left out.
/// - Global, policy `min`: the least watermark of the inputs that are not idle; none while one of
///   them has no watermark yet (or when all are idle: then it stays). Policy `max`: the largest
///   watermark of the inputs not idle that have one. It never goes back.
/// - `wm(t)`, in force in batch t, is the global watermark at the end of the batch before t;
///   event-time operators filter late rows with `wm(t - interval)` and emit and evict with `wm(t)`.
///
/// It is checkpointed with the operators (one entry, `rill.watermarks`): the per-input watermarks
/// by the input's stream name, the global one and the two in force, so a restart continues with
/// exactly the watermarks the checkpointed batch left (Spark restores only the global one).
///
/// Thread-safety: add_input() before start(); probes from partition tasks; everything else on
/// the batch thread, between or around a batch's outputs, as the batch runner calls it.
class WatermarkTracker final : public CheckpointedState {
 public:
  /// The checkpoint entry's name.
  static constexpr std::string_view kName = SavedWatermarks::kName;

  explicit WatermarkTracker(WatermarkPolicy policy) : policy_(policy) {}

  /// Registers a live `with_watermark` stream (its name is final: the graph is frozen); returns
  /// the probe its partition tasks report to. `delay` and `idle_timeout` are in ms, validated by
  /// the caller.
  EventTimeProbe& add_input(std::string name, Duration delay, Duration idle_timeout);
  /// True when some output depends on a watermark.
  [[nodiscard]] bool active() const noexcept { return !inputs_.empty(); }

  /// Batch t starts: wm(t - interval) becomes the late bound and wm(t) the watermark in force.
  void begin_batch(Time t);
  /// Batch t's outputs are done: every input's watermark, idleness and the global watermark
  /// advance from what the probes saw.
  void end_batch(Time t);

  /// wm(t) of the batch being run (nullopt: no watermark yet).
  [[nodiscard]] std::optional<Time> in_force() const noexcept { return in_force_; }
  /// wm(t - interval) of the batch being run: rows at or before it are late.
  [[nodiscard]] std::optional<Time> late_bound() const noexcept { return late_bound_; }
  /// The global watermark at the end of the last batch (the next batch's wm(t)).
  [[nodiscard]] std::optional<Time> global() const noexcept { return global_; }
  /// True when the global watermark at the end of the last batch is above that batch's wm(t):
  /// one more batch, even empty, would emit or evict (Trigger::available_now runs it).
  [[nodiscard]] bool advanced() const noexcept {
    return global_ && (!in_force_ || *global_ > *in_force_);
  }
  /// The watermark of the input named `name`, as of the end of the last batch.
  [[nodiscard]] std::optional<Time> input_watermark(std::string_view name) const;

  // CheckpointedState: the whole state every time (a few values per input).
  [[nodiscard]] std::optional<StateDescriptor> state_descriptor() const override;
  [[nodiscard]] std::string save_state(Time t) const override;
  void load_state(std::string_view bytes) override;
  [[nodiscard]] std::optional<std::string> save_delta(Time t) const override {
    return save_state(t);
  }
  void load_delta(std::string_view bytes) override { load_state(bytes); }

 private:
  struct Input {
    std::string name;
    Duration delay;
    Duration idle_timeout;
    std::optional<Time> watermark;
    std::optional<Time> last_record_batch;
    bool idle = false;
    std::unique_ptr<EventTimeProbe> probe = std::make_unique<EventTimeProbe>();
  };

  WatermarkPolicy policy_;
  std::vector<Input> inputs_;
  std::optional<Time> first_batch_;
  std::optional<Time> global_;
  std::optional<Time> in_force_;
  std::optional<Time> late_bound_;
};

}  // namespace rill::detail
