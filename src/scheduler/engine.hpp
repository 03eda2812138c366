#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "checkpoint/checkpoint_coordinator.hpp"
#include "rill/core/config.hpp"
#include "rill/core/listener.hpp"
#include "rill/sources/detail/runtime.hpp"
#include "scheduler/batch_queue.hpp"
#include "scheduler/batch_runner.hpp"
#include "scheduler/grid_timer.hpp"
#include "scheduler/job_generator.hpp"
#include "scheduler/listener_bus.hpp"
#include "scheduler/plan.hpp"
#include "scheduler/progress_history.hpp"
#include "scheduler/rate_controller.hpp"
#include "scheduler/table_refresher.hpp"
#include "scheduler/worker_pool.hpp"

namespace rill::detail {

/// The running side of a StreamingContext: its lifecycle, its threads, the queue of sealed
/// batches between them, and the stop protocol (Spark's JobScheduler; the rest is delegated):
/// - the scheduler thread runs an Asio io_context: the job generator's clock timers and ticks
///   (JobGenerator: sealing, back-pressure, the grid timer), receiver restarts and the stop
///   protocol; under Trigger::available_now it seals batches back to back and stops the context
///   once the available input is processed and the watermarks are still;
/// - the batch thread runs the pending batches one at a time, in time order (BatchRunner). On
///   the system clock, a batch thread with nothing to run sleeps on the grid timer (GridTimer)
///   until the next grid time and seals that batch itself (JobGenerator::tick()), so that one
///   thread wakes per batch: a batch costs it two system calls, the epoll_wait and the read of
///   the timer's expiry; the scheduler thread is woken only when a grid time finds the batch
///   thread busy;
/// - the listener bus (ListenerBus) calls listeners on one thread, in order;
/// - static tables load at start(), are pinned per batch by the ticks and reload off the batch
///   path (TableRefresher);
/// - checkpoints go through a CheckpointCoordinator.
/// The Engine is also the Runtime that sources use.
///
/// Thread-safety: the public members are called by the context's user thread, except where
/// noted; the Runtime members on any thread. stop() on a rill thread only requests the stop.
/// Errors: start() and check_can_start() throw as documented; the context's first failure is
/// rethrown by await_termination[_for]() and await_batch().
class Engine final : public Runtime, private BatchQueue {
 public:
  /// A context running with `config` (batch interval in ms, clock, limits).
  explicit Engine(Config config);
  ~Engine() override;

  /// Adds a listener (any thread, any time); throws rill::InvalidArgument when it is null.
  void add_listener(std::shared_ptr<StreamingListener> listener);
  /// Checkpoint into `dir`; with `recover`, restore from its newest valid checkpoint at start()
  /// (with `start_fresh`, an unreadable directory starts afresh instead of failing).
  void set_checkpoint(std::filesystem::path dir, bool recover, bool start_fresh);
  /// Throws rill::IllegalState when the context cannot start (started, stopped or failed).
  void check_can_start() const;
  /// Runs `plan` (a frozen graph). Throws rill::InvalidArgument when the delivery asked for
  /// cannot be kept or, under Trigger::available_now, an input cannot say what it holds,
  /// rill::CheckpointError when the checkpoint directory cannot be used or restored (a failed
  /// restore leaves the context stopped), and what an input's start throws.
  void start(Plan plan);
  /// Returns false when a batch was still running at the deadline (the threads were left).
  bool stop(const StopOptions& options);
  /// Waits until the context stopped; rethrows the context's error.
  void await_termination();
  /// Waits up to `d` (ms) until the context stopped; rethrows the context's error. False at the
  /// deadline.
  bool await_termination_for(Duration d);
  [[nodiscard]] ContextState state() const;
  [[nodiscard]] Time zero() const;
  /// Waits until batch t has completed (its listeners called); rethrows the context's error.
  void await_batch(Time t);
  /// Waits until receivers have stored `n` records in all; false at the deadline.
  bool await_records_stored(std::int64_t n, std::chrono::steady_clock::duration timeout);
  [[nodiscard]] std::vector<SourceStats> source_stats() const;
  /// The newest completed batch's progress record (any thread).
  [[nodiscard]] std::optional<BatchInfo> last_progress() const { return history_.last(); }
  /// The last ProgressHistory::kCapacity records, oldest first (any thread).
  [[nodiscard]] std::vector<BatchInfo> recent_progress() const { return history_.recent(); }
  /// The totals over every completed batch (any thread).
  [[nodiscard]] ProgressTotals progress_totals() const { return history_.totals(); }

  // Runtime
  Clock& clock() override { return *clock_; }
  const Config& config() const override { return config_; }
  void run_at(Time t, std::function<void()> fn) override;
  void post(std::function<void()> fn) override;
  void fail(std::exception_ptr error) override;
  void records_stored(std::int64_t n) override;
  [[nodiscard]] bool checkpointing() const override { return !checkpoint_dir_.empty(); }
  [[nodiscard]] std::unique_ptr<BlockLog> open_block_log(std::string_view name) override;

 private:
  // BatchQueue: the job generator's ticks hand their batches to pending_.
  [[nodiscard]] Room room() override;
  bool push(PendingBatch&& batch) override;
  void notify() noexcept override;
  void on_scheduler_tick() override;

  /// start() failed before its threads ran: stops the `started_inputs` first inputs, the pool
  /// and the listener bus, releases the checkpoint directory, and leaves the context stopped.
  void abandon_start(std::size_t started_inputs);

  // scheduler thread: the stop protocol
  /// Trigger::available_now: seals the next batches of what the inputs held at start(); once
  /// they are used up and the last batch completed, seals one more empty batch while the
  /// watermark moved in it, else stops the context.
  void continue_available_now();
  void begin_drain();
  void check_drained();
  void halt_inputs();

  // batch thread
  void batch_loop();
  /// Batch t completed: await_batch(t) returns.
  void mark_completed(Time t);

  void request_halt();
  void maybe_finish();  // under mutex_
  bool wait_stopped(Duration timeout);
  void join_threads();

  Config config_;
  Plan plan_;
  std::shared_ptr<Clock> clock_;
  Duration interval_;
  bool available_now_;  // Trigger::available_now: batches back to back, then stop

  std::unique_ptr<WorkerPool> pool_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  // What a system-clock batch thread sleeps on (the job generator's, set by start() before the
  // threads run; null without one): woken when pending_ or halting_ changes.
  std::atomic<GridTimer*> grid_{nullptr};
  ListenerBus bus_;
  // The completed batches' progress records, added by the batch thread before listeners hear.
  ProgressHistory history_;
  std::filesystem::path checkpoint_dir_;
  bool recover_ = false;
  bool start_fresh_ = false;
  std::unique_ptr<CheckpointCoordinator> checkpoints_;  // with a checkpoint directory
  std::unique_ptr<TableRefresher> tables_;              // created by start()
  std::unique_ptr<JobGenerator> generator_;             // created by start()
  std::unique_ptr<BatchRunner> runner_;                 // created by start()
  std::unique_ptr<RateController> rate_;  // by start(), with back-pressure and a rate-limited input
  std::thread scheduler_thread_;
  std::thread batch_thread_;
  std::atomic<bool> draining_{false};  // written by the scheduler thread
  // A graceful stop's clock reading: every grid time up to it is sealed and run before the
  // context halts (scheduler thread).
  Time drain_until_;

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  ContextState state_ = ContextState::initialized;
  std::exception_ptr error_;
  bool halting_ = false;
  bool inputs_stopped_ = false;
  bool batches_done_ = false;
  bool running_batch_ = false;
  // Under mutex_: after the last batch, WatermarkTracker::advanced() (available_now's end test).
  bool watermark_advanced_ = false;
  // A tick found the queue full and is held (room()); the batch thread resumes it when it takes
  // the next batch off the queue.
  bool tick_held_ = false;
  // Under mutex_: a tick found room and seals a batch it has not push()ed yet (a failed seal
  // leaves it set, but fails the context, which halts).
  bool sealing_ = false;
  std::mutex join_mutex_;
  bool joined_ = false;  // under join_mutex_
  std::deque<PendingBatch> pending_;
  std::optional<Time> last_completed_;
  Time zero_;

  // Records stored by receivers; a store() notifies only while await_records_stored() waits.
  std::atomic<std::int64_t> stored_{0};
  std::atomic<int> stored_waiters_{0};
  std::mutex stored_mutex_;
  std::condition_variable stored_cv_;
};

}  // namespace rill::detail
