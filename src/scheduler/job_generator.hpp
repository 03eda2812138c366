#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/system_timer.hpp>

#include "checkpoint/checkpoint_coordinator.hpp"
#include "checkpoint/checkpointer.hpp"
#include "rill/core/clock.hpp"
#include "rill/core/time.hpp"
#include "rill/sources/detail/input_source.hpp"
#include "rill/sources/detail/runtime.hpp"
#include "scheduler/batch_queue.hpp"
#include "scheduler/grid_timer.hpp"
#include "scheduler/listener_bus.hpp"
#include "scheduler/table_refresher.hpp"
#include "scheduler/trigger.hpp"

namespace rill::detail {

/// Spark's JobGenerator: the batch grid (asked of a TriggerPolicy), the clock timers of the
/// scheduler thread, and the ticks that seal batches. A tick seals every input's data for its batch
/// (or seals it again from its seal record after a restart), writes the seal record, and queues the
/// batch. Every grid time is ticked once, in order, even when its timer fires late or
/// back-pressure holds it.
///
/// Who ticks: under a manual clock, the scheduler thread, on the clock's notifications. Under
/// the system clock, the engine's batch thread, when it has nothing to run, sleeps until
/// next_tick() on the grid timer (GridTimer: one periodic timerfd, armed once) and ticks itself,
/// so that one thread wakes per batch; when a grid time finds the batch thread busy, the same
/// expiry wakes the scheduler thread instead, which ticks then: a slow batch does not delay the
/// sealing of the next. Without the grid timer (not expected), the scheduler thread ticks on its
/// clock timers, as under a manual clock.
///
/// Unpaced (Trigger::available_now): no clock timer and no grid timer; the engine's scheduler
/// thread calls tick_available() to seal batches back to back while the inputs hold what was
/// available at start(), and decides itself when the run ends.
///
/// Back-pressure: while max_pending_batches batches wait (BatchQueue::Room::full), a due tick is
/// held, not performed: nothing is sealed or queued and next_tick() stays, so receivers' queues
/// fill and store() blocks, and files stay unlisted. As soon as the batch thread takes a batch
/// off the queue, the queue calls resume_held(): the held grid time is ticked (late) and takes
/// everything the inputs buffered meanwhile; the grid times after it that are already due follow
/// while room remains (the manual clock's timers; on the system clock, a tick that finds the
/// next grid time due already posts its tick to the scheduler thread). Every grid time is still
/// ticked once, in order: under sustained overload the batch times fall behind the clock instead of
/// empty batches piling up. A batch sealed while the generator is behind because of a held tick
/// reports how late (BatchInfo::held_back).
///
/// Thread-safety: construct, link_clock() and start() before the engine's threads run;
/// schedule_at(), process_due_timers(), scheduler_tick(), resume_held() and halt() on the
/// scheduler thread;
/// tick() on the scheduler thread or the idle batch thread (one tick at a time: a tick already
/// taken is skipped); next_tick() and batch_thread_ticks() on any thread; unlink_clock() once the
/// context stopped, off the scheduler thread. Times in ms of the context's clock. A tick's
/// failure to seal fails the context (Runtime::fail) rather than throw.
class JobGenerator {
 public:
  /// `runtime` (the engine) posts to and fails the context and gives its clock; `io` is the
  /// scheduler thread's io_context; `inputs` are sealed in this order; sealed batches go to
  /// `queue`, their on_batch_submitted events to `bus`. All outlive the generator.
  JobGenerator(Runtime& runtime, boost::asio::io_context& io,
               std::unique_ptr<TriggerPolicy> trigger, std::vector<InputSource*> inputs,
               BatchQueue& queue, ListenerBus& bus);
  ~JobGenerator();
  JobGenerator(const JobGenerator&) = delete;
  JobGenerator& operator=(const JobGenerator&) = delete;

  /// The first batch time of a fresh run, from the clock's reading now.
  [[nodiscard]] Time first_batch() const;
  /// The batch time after batch `t` (the first one after a restored checkpoint of batch `t`).
  [[nodiscard]] Time batch_after(Time t) const noexcept { return trigger_->next_batch(t); }
  /// Under a manual clock, has every change of its reading run the due timers on the scheduler
  /// thread.
  void link_clock();
  /// Unlinks the manual clock (after the scheduler thread ended). Does nothing unlinked.
  void unlink_clock();
  /// Sets the grid going from batch `first` of a context with zero time `zero`: seal records go
  /// to `checkpoints` (null without checkpoints), `replay` holds the batches to seal again from
  /// their records; every tick that seals a batch lets `tables` pin (and, under a manual clock,
  /// reload) the static tables first. On the system clock, opens and arms the grid timer.
  void start(Time zero, Time first, CheckpointCoordinator* checkpoints,
             std::map<std::int64_t, SealData> replay, TableRefresher* tables);
  /// Once the scheduler thread runs: without a grid timer, schedules the tick of `first` on it
  /// (with one, the idle batch thread seals the first batch when it is due).
  void schedule_first_tick(Time first);

  /// False when batches are sealed back to back, without waiting for the clock
  /// (Trigger::available_now).
  [[nodiscard]] bool paced() const noexcept { return trigger_->paced_by_clock(); }
  /// Unpaced: true while a batch sealed before a restart waits to be replayed or some input
  /// still holds part of what was available at start() (InputSource::has_available_input).
  /// Scheduler thread.
  [[nodiscard]] bool has_available_input();
  /// Unpaced, on the scheduler thread: seals and queues the next batches back to back while
  /// has_available_input(), until the queue is full (the tick is held; resume_held() goes on)
  /// or the context halts.
  void tick_available();

  /// True when the idle batch thread seals the next batch itself (the system clock, with a grid
  /// timer).
  [[nodiscard]] bool batch_thread_ticks() const noexcept { return grid_ != nullptr; }
  /// The grid timer the idle batch thread sleeps on; null on a manual clock, unpaced, or when it
  /// could not be opened. Set by start(); owned by the generator.
  [[nodiscard]] GridTimer* grid_timer() const noexcept { return grid_.get(); }
  /// The next grid time to tick (a held tick's, while it is held).
  [[nodiscard]] Time next_tick() const noexcept { return next_tick_.load(); }

  /// What tick() did.
  enum class TickResult {
    sealed,   // the batch was sealed and queued
    held,     // max_pending_batches batches wait: nothing was sealed; resume_held() retries
    skipped,  // `t` was ticked already, the context halts, or sealing failed (the context fails)
  };
  /// Seals batch `t` when it is the next tick, and queues it; holds it while the queue is full.
  TickResult tick(Time t);
  /// tick() on the scheduler thread: when it queued the batch, schedules the next tick (without
  /// a grid timer) and tells the queue (BatchQueue::on_scheduler_tick()).
  void scheduler_tick(Time t);
  /// The queue has room again after a held tick: ticks the held grid time on the scheduler
  /// thread (then, through scheduler_tick(), the due ones after it while room remains). Does
  /// nothing when no tick is held or the held one was ticked meanwhile.
  void resume_held();

  /// Runs `fn` on the scheduler thread once the clock reads `t` or later.
  void schedule_at(Time t, std::function<void()> fn);
  /// Runs the timers that are due, then waits for the next one.
  void process_due_timers();
  /// Drops the timers and stops watching the grid timer: nothing is ticked any more.
  void halt();

 private:
  struct ClockLink;
  void rearm_timer();
  void on_grid_timer();

  Runtime& runtime_;
  Clock& clock_;
  boost::asio::io_context& io_;
  std::unique_ptr<TriggerPolicy> trigger_;
  std::vector<InputSource*> inputs_;
  BatchQueue& queue_;
  ListenerBus& bus_;
  CheckpointCoordinator* checkpoints_ = nullptr;  // set by start()
  TableRefresher* tables_ = nullptr;              // set by start()
  Time zero_;                                     // set by start()

  boost::asio::system_timer system_timer_;
  // The grid timer of the system clock's ticks (see the class comment); absent on a manual
  // clock and unpaced. Opened and armed by start().
  std::unique_ptr<GridTimer> grid_;
  std::multimap<Time, std::function<void()>> timers_;  // scheduler thread
  std::shared_ptr<ClockLink> clock_link_;
  std::uint64_t clock_token_ = 0;
  std::map<std::int64_t, SealData> replay_;  // tick(), under tick_mutex_, after start()
  std::mutex tick_mutex_;                    // one tick() at a time
  std::atomic<Time> next_tick_;              // written by tick(), under tick_mutex_
  // Under tick_mutex_: the grid time whose tick is held by back-pressure, and whether the ticks
  // are behind the clock since one was held (until a tick seals the last due grid time).
  std::optional<Time> held_;
  bool behind_ = false;
};

}  // namespace rill::detail
