#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "rill/core/listener.hpp"
#include "rill/core/time.hpp"
#include "rill/dstream/detail/node.hpp"

namespace rill::detail {

/// A sealed batch waiting for the batch thread: what the batch carries through the engine is one
/// value (its BatchContext), plus its record count, how long back-pressure held its tick, the
/// steady-clock time it was queued at (for its scheduling delay), and the sealing part of its
/// progress record. Moved through the queue: its one allocation (the per-source vector) is made
/// once per batch by the tick.
struct PendingBatch {
  BatchContext context;
  /// Input records sealed into the batch (all inputs).
  std::int64_t records = 0;
  /// BatchInfo::held_back: ms of the context's clock by which back-pressure delayed its sealing.
  Duration held_back{0};
  std::chrono::steady_clock::time_point submitted;
  /// BatchInfo::sources, input_rate, sealing_duration and back_pressure, as the tick found them.
  std::vector<SourceProgress> sources;
  double input_rate = 0;
  std::chrono::microseconds sealing{0};
  bool back_pressure = false;
  /// The context's clock when the batch was sealed (rate control's scheduling delay under a
  /// manual clock).
  Time sealed_clock;
};

/// Where the job generator hands sealed batches (the engine's pending-batch queue, which the
/// batch thread empties in time order). A tick asks room(), seals, push()es the batch, then
/// notify()es the batch thread; after a tick of the scheduler thread that
/// queued a batch, on_scheduler_tick().
///
/// Back-pressure: a room() that answers `full` also records that a tick is held; the queue then
/// calls JobGenerator::resume_held() on the scheduler thread as soon as the batch thread takes a
/// batch off the queue (room opens). Recording and taking happen under one lock, so no opening
/// is missed.
///
/// Thread-safety: called by the tick in progress (the scheduler thread's, or the idle batch
/// thread's; one at a time); the queue is thread-safe. Nothing throws but std::bad_alloc and what
/// on_scheduler_tick() throws.
class BatchQueue {
 public:
  /// Whether a tick may queue a batch, and take buffered input for it.
  enum class Room {
    halting,  // the context is halting: the tick does nothing
    full,     // max_pending_batches batches wait: the tick is held (nothing sealed or queued)
    open,
  };

  [[nodiscard]] virtual Room room() = 0;
  /// Queues `batch`; false when the context began halting since room() (then nothing is queued).
  virtual bool push(PendingBatch&& batch) = 0;
  /// Wakes the batch thread for what push() queued.
  virtual void notify() noexcept = 0;
  /// The scheduler thread queued a batch (its tick's lock released): a graceful stop may have
  /// progressed.
  virtual void on_scheduler_tick() = 0;

 protected:
  ~BatchQueue() = default;
};

}  // namespace rill::detail
