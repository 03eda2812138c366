#include "scheduler/batch_runner.hpp"

#include <chrono>
#include <exception>
#include <functional>
#include <utility>

#include "checkpoint/durable_file.hpp"
#include "rill/core/logging.hpp"

namespace rill::detail {

namespace {
using SteadyClock = std::chrono::steady_clock;

Duration elapsed_ms(SteadyClock::time_point from, SteadyClock::time_point to) {
  return std::chrono::duration_cast<Duration>(to - from);
}

std::chrono::microseconds elapsed_us(SteadyClock::time_point from, SteadyClock::time_point to) {
  return std::chrono::duration_cast<std::chrono::microseconds>(to - from);
}

/// The execution services of one batch: its context, and the worker pool.
class BatchExec final : public Exec {
 public:
  BatchExec(WorkerPool& pool, BatchContext batch) : Exec(batch), pool_(pool) {}
  void parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn) override {
    pool_.parallel_for(n, fn);
  }

 private:
  WorkerPool& pool_;
};
}  // namespace

BatchRunner::BatchRunner(Runtime& runtime, WorkerPool& pool, Plan plan,
                         CheckpointCoordinator* checkpoints, ListenerBus& bus)
    : runtime_(runtime),
      pool_(pool),
      plan_(std::move(plan)),
      checkpoints_(checkpoints),
      bus_(bus) {}

bool BatchRunner::run(PendingBatch& batch, BatchInfo& info) {
  const Time t = batch.context.time;
  const auto started = SteadyClock::now();
  info.batch_time = t;
  info.num_records = batch.records;
  info.held_back = batch.held_back;
  info.sources = std::move(batch.sources);
  info.input_rate = batch.input_rate;
  info.sealing_duration = batch.sealing;
  info.back_pressure = batch.back_pressure;
  info.scheduling_delay = elapsed_ms(batch.submitted, started);
  if (plan_.watermarks != nullptr) {
    plan_.watermarks->begin_batch(t);
    info.watermark = plan_.watermarks->in_force();
  }
  bus_.emit(&StreamingListener::on_batch_started, info);

  BatchExec exec(pool_, batch.context);
  bool ok = true;
  try {
    for (OperatorNode* node : plan_.live) {
      if (node->sees_every_batch()) node->on_batch(t, exec);
    }
    for (OutputOperation* op : plan_.outputs) {
      if (!op->parent().defined_at(t, batch.context.zero)) continue;
      const auto op_started = SteadyClock::now();
      op->run(exec);
      info.outputs.push_back(
          OutputProgress{op->name(), elapsed_us(op_started, SteadyClock::now())});
    }
    // The watermarks advance from what this batch saw, before its checkpoint holds them.
    if (plan_.watermarks != nullptr) plan_.watermarks->end_batch(t);
  } catch (...) {
    ok = false;
    logger().error("batch {} failed; stopping the context", t);
    runtime_.fail(std::current_exception());
  }
  if (ok && checkpoints_) {
    try {
      crash_point("commit");
      const auto checkpoint_started = SteadyClock::now();
      const auto written = checkpoints_->write_checkpoint(t, batch.context.zero);
      info.checkpoint =
          CheckpointInfo{static_cast<std::int64_t>(written.bytes),
                         elapsed_us(checkpoint_started, SteadyClock::now()), written.snapshot};
      const Time oldest = checkpoints_->oldest_retained();
      for (InputSource* input : plan_.inputs)
        input->checkpoint_written(t, oldest);
    } catch (...) {
      ok = false;
      logger().error("the checkpoint of batch {} failed; stopping the context", t);
      runtime_.fail(std::current_exception());
    }
  }
  for (OperatorNode* node : plan_.live)
    node->clear_done(t);
  for (InputSource* input : plan_.inputs)
    input->release_input(t);
  if (!ok) return false;

  for (OperatorNode* node : plan_.live) {
    if (auto state = node->state_info()) info.state.push_back(std::move(*state));
  }
  const auto completed = SteadyClock::now();
  info.processing_delay = elapsed_ms(started, completed);
  info.total_delay = info.scheduling_delay + info.processing_delay;
  // Records per second of processing, from the microseconds (a batch often takes under 1 ms).
  const auto processing_us = elapsed_us(started, completed).count();
  info.processing_rate =
      info.num_records > 0 && processing_us > 0
          ? static_cast<double>(info.num_records) * 1e6 / static_cast<double>(processing_us)
          : 0.0;
  return true;
}

}  // namespace rill::detail
