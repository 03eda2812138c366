#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/system_timer.hpp>

#include "checkpoint/checkpointer.hpp"
#include "rill/core/config.hpp"
#include "rill/core/listener.hpp"
#include "rill/sources/detail/runtime.hpp"
#include "scheduler/plan.hpp"
#include "scheduler/serial_executor.hpp"
#include "scheduler/worker_pool.hpp"

namespace rill::detail {

/// The running side of a StreamingContext (Spark's JobScheduler and JobGenerator in one):
/// - the scheduler thread runs an Asio io_context: clock timers, batch ticks (which seal every
///   input's data for the batch), receiver restarts and the stop protocol;
/// - the batch thread runs sealed batches one at a time, in time order: output operations in
///   registration order, each computing its lineage with the partitions on the worker pool;
/// - the listener bus calls listeners on one thread, in order.
/// On the system clock, a batch thread with nothing to run seals the next batch itself when it
/// is due, so that one thread wakes per batch, not two. A backup timer (a timerfd the scheduler
/// thread watches) is armed kBackupGrace after the next grid time, each time a batch is sealed:
/// when the batch thread is still busy then, the scheduler thread seals that batch instead, so
/// a slow batch delays the next one's sealing by about kBackupGrace at most. An idle batch
/// thread sleeps on a futex (wake_word_), so that a batch costs it two system calls: the sleep
/// and the timer's re-arming.
class Engine final : public Runtime {
 public:
  explicit Engine(Config config);
  ~Engine() override;

  void add_listener(std::shared_ptr<StreamingListener> listener);
  /// Checkpoint into `dir`; with `recover`, restore from its newest valid checkpoint at start()
  /// (with `start_fresh`, an unreadable directory starts afresh instead of failing).
  void set_checkpoint(std::filesystem::path dir, bool recover, bool start_fresh);
  /// Throws rill::IllegalState when the context cannot start (started, stopped or failed).
  void check_can_start() const;
  /// Runs `plan` (a frozen graph).
  void start(Plan plan);
  /// Returns false when a batch was still running at the deadline (the threads were left).
  bool stop(const StopOptions& options);
  void await_termination();
  bool await_termination_for(Duration d);
  [[nodiscard]] ContextState state() const;
  [[nodiscard]] Time zero() const;
  /// Waits until batch t has completed (its listeners called); rethrows the context's error.
  void await_batch(Time t);
  /// Waits until receivers have stored `n` records in all; false at the deadline.
  bool await_records_stored(std::int64_t n, std::chrono::steady_clock::duration timeout);
  [[nodiscard]] std::vector<SourceStats> source_stats() const;

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
  struct PendingBatch {
    Time time;
    std::int64_t records = 0;
    std::chrono::steady_clock::time_point submitted;
    bool replayed = false;  // sealed from a record written before a restart
  };
  struct ClockLink;

  // start()
  void check_delivery() const;
  void check_serializable() const;
  void check_compatible(const CheckpointData& data) const;
  /// Restores the state a chain of checkpoints holds (a snapshot, then deltas).
  void restore(const std::vector<CheckpointData>& chain);
  // batch thread
  void write_checkpoint(Time t);

  // scheduler thread
  void schedule_at(Time t, std::function<void()> fn);
  void process_due_timers();
  void rearm_timer();
  /// Seals batch t (when t is the next tick). The scheduler thread's ticks also check a
  /// graceful stop's progress; the batch thread's (system clock, when idle) leave that to it.
  void tick(Time t, bool scheduler_thread = true);
  void await_backup_timer();
  // Does nothing without a backup timer (manual clock).
  void set_backup_timer(Time at) noexcept;
  void begin_drain();
  void check_drained();
  void halt_inputs();

  // batch thread
  void batch_loop();
  /// Sleeps until `due` (system clock) unless wake_batch_thread() was called since wake_word_
  /// read `seen`; true when `due` came.
  bool sleep_until(std::uint32_t seen, Time due);
  /// Wakes a batch thread in sleep_until() (a system call only when it sleeps).
  void wake_batch_thread() noexcept;
  bool run_batch(const PendingBatch& batch);

  void request_halt();
  void maybe_finish();  // under mutex_
  bool wait_stopped(Duration timeout);
  void join_threads();
  /// Posts the event to the listener bus; false when there is no listener.
  bool emit(void (StreamingListener::*event)(const BatchInfo&), const BatchInfo& info);

  Config config_;
  Plan plan_;
  std::shared_ptr<Clock> clock_;
  Duration interval_;

  std::unique_ptr<WorkerPool> pool_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  boost::asio::system_timer system_timer_;
  static constexpr Duration kBackupGrace{1};
  // The backup timer of the system clock's ticks (see the class comment); absent on a manual
  // clock. Set by start(), then by tick() under tick_mutex_.
  std::optional<boost::asio::posix::stream_descriptor> backup_timer_;
  // What a system-clock batch thread sleeps on: bumped when pending_ or halting_ changes.
  std::atomic<std::uint32_t> wake_word_{0};
  std::atomic<bool> batch_sleeping_{false};
  bool futex_failed_ = false;  // batch thread
  std::multimap<Time, std::function<void()>> timers_;
  std::shared_ptr<ClockLink> clock_link_;
  std::uint64_t clock_token_ = 0;
  std::thread scheduler_thread_;
  std::thread batch_thread_;
  std::unique_ptr<SerialExecutor> bus_;
  std::filesystem::path checkpoint_dir_;
  bool recover_ = false;
  bool start_fresh_ = false;
  std::unique_ptr<Checkpointer> checkpointer_;
  // Incremental checkpoints (batch thread): the last checkpoint this run wrote, and the deltas
  // written since the last snapshot.
  std::optional<Time> last_checkpoint_;
  std::size_t deltas_since_snapshot_ = 0;
  std::size_t delta_bytes_since_snapshot_ = 0;
  std::size_t snapshot_bytes_ = 0;
  std::map<std::int64_t, SealData> replay_;  // tick(), under tick_mutex_, after start()
  std::atomic<bool> draining_{false};        // written by the scheduler thread
  std::mutex tick_mutex_;                    // one tick() at a time
  std::atomic<Time> next_tick_;              // written by tick(), under tick_mutex_

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  ContextState state_ = ContextState::initialized;
  std::exception_ptr error_;
  bool halting_ = false;
  bool inputs_stopped_ = false;
  bool batches_done_ = false;
  bool running_batch_ = false;
  std::mutex join_mutex_;
  bool joined_ = false;  // under join_mutex_
  std::deque<PendingBatch> pending_;
  std::optional<Time> last_completed_;
  Time zero_;
  std::vector<std::shared_ptr<StreamingListener>> listeners_;

  // Records stored by receivers; a store() notifies only while await_records_stored() waits.
  std::atomic<std::int64_t> stored_{0};
  std::atomic<int> stored_waiters_{0};
  std::mutex stored_mutex_;
  std::condition_variable stored_cv_;
};

}  // namespace rill::detail
