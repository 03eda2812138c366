#pragma once

#include "checkpoint/checkpoint_coordinator.hpp"
#include "rill/core/listener.hpp"
#include "rill/sources/detail/runtime.hpp"
#include "scheduler/batch_queue.hpp"
#include "scheduler/listener_bus.hpp"
#include "scheduler/plan.hpp"
#include "scheduler/worker_pool.hpp"

namespace rill::detail {

/// Runs one sealed batch (Spark's JobScheduler running a batch's JobSet): lets the nodes that see
/// every batch see its time (parents first), runs the outputs defined at it in registration
/// order (their partitions on the worker pool), writes its checkpoint, then drops what the batch
/// held (node caches, sealed input) and measures it.
///
/// Thread-safety: run() on the batch thread only, one batch at a time, in time order. User code
/// or a checkpoint that fails is logged and fails the context (Runtime::fail): run() returns
/// false then, rather than throw.
class BatchRunner {
 public:
  /// Runs the nodes and outputs of `plan` on `pool`; checkpoints through `checkpoints` (null
  /// without checkpoints); emits on_batch_started on `bus`; fails `runtime` on errors. All
  /// outlive the runner.
  BatchRunner(Runtime& runtime, WorkerPool& pool, Plan plan, CheckpointCoordinator* checkpoints,
              ListenerBus& bus);

  /// Runs `batch`, and fills `info` (its whole progress record: the tick's part moved out of
  /// `batch`, delays in ms, output and checkpoint times, state sizes) for on_batch_completed;
  /// false when the batch or its checkpoint failed (the context is then failed, the batch not
  /// done).
  bool run(PendingBatch& batch, BatchInfo& info);

 private:
  Runtime& runtime_;
  WorkerPool& pool_;
  Plan plan_;
  CheckpointCoordinator* checkpoints_;
  ListenerBus& bus_;
};

}  // namespace rill::detail
