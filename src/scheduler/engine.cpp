#include "scheduler/engine.hpp"

#include <map>
#include <utility>

#include <fmt/format.h>
#include <boost/asio/post.hpp>

#include "rill/core/detail/rill_thread.hpp"
#include "rill/core/errors.hpp"
#include "rill/core/logging.hpp"
#include "scheduler/delivery_check.hpp"
#include "scheduler/progress_log.hpp"
#include "scheduler/trigger.hpp"

namespace rill::detail {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

Engine::Engine(Config config)
    : config_(std::move(config)),
      clock_(config_.clock()),
      interval_(config_.batch_interval()),
      available_now_(config_.trigger().is_available_now()) {}

Engine::~Engine() {
  try {
    stop(StopOptions{.graceful = false, .timeout = Duration{0}});
  } catch (...) {
  }
}

void Engine::add_listener(std::shared_ptr<StreamingListener> listener) {
  if (!listener) throw InvalidArgument("StreamingContext::add_listener: the listener is null");
  bus_.add(std::move(listener));
}

void Engine::set_checkpoint(std::filesystem::path dir, bool recover, bool start_fresh) {
  checkpoint_dir_ = std::move(dir);
  recover_ = recover;
  start_fresh_ = start_fresh;
}

void Engine::check_can_start() const {
  {
    std::lock_guard lock(mutex_);
    if (error_) {
      throw IllegalState(
          "StreamingContext::start: the context failed and stopped; create a new context");
    }
    if (state_ == ContextState::active) {
      throw IllegalState("StreamingContext::start: the context is already started");
    }
    if (state_ == ContextState::stopped) {
      throw IllegalState(
          "StreamingContext::start: a stopped context cannot be restarted; create a new one");
    }
  }
}

void Engine::start(Plan plan) {
  plan_ = std::move(plan);
  check_delivery(plan_, config_.delivery(), !checkpoint_dir_.empty());
  check_trigger_inputs(plan_, config_);
  // Opened before anything starts: a path that cannot be written fails start() (rill::IoError).
  if (const auto& log = config_.progress_log()) bus_.add(std::make_shared<ProgressLog>(*log));

  std::size_t started_inputs = 0;
  Time first{0};  // the first batch to seal
  try {
    // First: a loader that fails leaves nothing started.
    tables_ = std::make_unique<TableRefresher>(*clock_, plan_.tables);
    tables_->load_all();
    BatchQueue& queue = *this;
    generator_ = std::make_unique<JobGenerator>(*this, io_, make_trigger_policy(config_),
                                                plan_.inputs, queue, bus_);
    first = generator_->first_batch();
    std::optional<std::vector<CheckpointData>> chain;  // restores the newest checkpoint
    const CheckpointData* restored = nullptr;
    if (!checkpoint_dir_.empty()) {
      checkpoints_ =
          std::make_unique<CheckpointCoordinator>(checkpoint_dir_, config_, plan_.stateful);
      checkpoints_->check_serializable();
      checkpoints_->track_changes();
      if (recover_) {
        chain = checkpoints_->load_latest(start_fresh_);
        if (chain) {
          restored = &chain->back();
          first = generator_->batch_after(Time{restored->batch_time});
        }
      }
    }
    {
      std::lock_guard lock(mutex_);
      zero_ = restored ? Time{restored->zero} : first - interval_;
      state_ = ContextState::active;
    }
    pool_ = std::make_unique<WorkerPool>(config_.worker_threads());
    bus_.start();
    work_.emplace(io_.get_executor());
    runner_ = std::make_unique<BatchRunner>(*this, *pool_, plan_, checkpoints_.get(), bus_);
    rate_ = RateController::create(config_, *clock_, plan_.inputs);

    generator_->link_clock();
    for (const auto& input : plan_.inputs) {
      input->start_input(*this, zero_);
      ++started_inputs;
    }
    if (checkpoints_ && !restored) {
      // A first checkpoint at the zero time: a restart before the first batch's checkpoint
      // still finds the zero time and every input's starting position, and replays the sealed
      // batches. On a full disk it fails here, before anything runs.
      (void)checkpoints_->write_checkpoint(zero_, zero_);
    }
    std::map<std::int64_t, SealData> replay;
    if (restored) {
      replay = checkpoints_->restore(*chain);
      // The batches up to the checkpoint completed before the restart, and left the
      // watermarks as restored (available_now runs an empty batch when they moved in it).
      std::lock_guard lock(mutex_);
      last_completed_ = Time{restored->batch_time};
      watermark_advanced_ = plan_.watermarks != nullptr && plan_.watermarks->advanced();
    }
    generator_->start(zero_, first, checkpoints_.get(), std::move(replay), tables_.get());
    grid_.store(generator_->grid_timer());
    tables_->start(zero_);
  } catch (...) {
    abandon_start(started_inputs);
    throw;
  }
  batch_thread_ = std::thread([this] { batch_loop(); });
  scheduler_thread_ = std::thread([this] {
    RillThreadScope scope;
    io_.run();
  });
  if (available_now_) {
    post([this] { continue_available_now(); });
  } else {
    generator_->schedule_first_tick(first);
  }
  logger().debug("StreamingContext started: interval {} ms, zero time {}", interval_.count(),
                 zero_);
}

void Engine::abandon_start(std::size_t started_inputs) {
  // Nothing was sealed and the scheduler and batch threads do not run yet: stop what start()
  // started, in reverse, and leave the context stopped with no thread of its own.
  for (std::size_t i = started_inputs; i-- > 0;) {
    try {
      plan_.inputs[i]->stop_input();
    } catch (...) {
      logger().error("StreamingContext::start: an input failed to stop");
    }
  }
  if (generator_) generator_->halt();
  if (generator_) generator_->unlink_clock();
  if (tables_) tables_->join();
  work_.reset();
  bus_.shutdown();
  if (pool_) pool_->join();
  checkpoints_.reset();  // releases the directory's lock
  {
    std::lock_guard join_lock(join_mutex_);
    joined_ = true;
  }
  {
    std::lock_guard lock(mutex_);
    state_ = ContextState::stopped;
  }
  cv_.notify_all();
}

// ---------------------------------------------------------------- scheduler thread

void Engine::run_at(Time t, std::function<void()> fn) {
  post([this, t, fn = std::move(fn)]() mutable { generator_->schedule_at(t, std::move(fn)); });
}

void Engine::post(std::function<void()> fn) {
  asio::post(io_, [this, fn = std::move(fn)] {
    try {
      fn();
    } catch (...) {
      fail(std::current_exception());
    }
  });
}

BatchQueue::Room Engine::room() {
  std::lock_guard lock(mutex_);
  if (halting_) return Room::halting;
  if (pending_.size() < config_.max_pending_batches()) {
    // The tick seals now and push()es: until then a graceful stop must not take the queue for
    // drained (the inputs may already be empty, their records in the batch being sealed).
    sealing_ = true;
    return Room::open;
  }
  // The tick is held: the batch thread resumes it when it takes the next batch (batch_loop).
  tick_held_ = true;
  return Room::full;
}

bool Engine::push(PendingBatch&& batch) {
  std::lock_guard lock(mutex_);
  sealing_ = false;
  if (halting_) return false;
  pending_.push_back(std::move(batch));
  return true;
}

void Engine::notify() noexcept {
  cv_.notify_all();
  if (GridTimer* grid = grid_.load()) grid->wake();
}

void Engine::on_scheduler_tick() {
  check_drained();
  continue_available_now();
}

void Engine::continue_available_now() {
  if (!available_now_ || draining_) return;
  // Batches of what the inputs held at start(), back to back while the queue has room (a held
  // tick is resumed when a batch leaves the queue, and comes back here).
  generator_->tick_available();
  if (generator_->has_available_input()) return;
  // The input is used up: once the last batch completed, one more (empty) batch runs while the
  // watermark moved in the last one (it would emit or evict); then the run ends.
  bool advanced = false;
  {
    std::lock_guard lock(mutex_);
    if (halting_ || !pending_.empty() || running_batch_ || sealing_) return;
    advanced = watermark_advanced_;
  }
  if (advanced) {
    (void)generator_->tick(generator_->next_tick());
    return;
  }
  logger().info(
      "StreamingContext: Trigger::available_now: the available input is processed; "
      "stopping");
  request_halt();
}

void Engine::begin_drain() {
  if (draining_) return;
  drain_until_ = clock_->now();
  draining_ = true;
  logger().info("StreamingContext: stopping gracefully; stopping receivers");
  for (const auto& input : plan_.inputs)
    input->stop_input();
  check_drained();
}

void Engine::check_drained() {
  if (!draining_) return;
  for (const auto& input : plan_.inputs) {
    if (!input->has_buffered_input()) continue;
    // The next ticks seal it. A manual clock may never move again while stop() waits, and
    // unpaced ticks wait for no clock, so there the next batch is sealed now; while
    // max_pending_batches batches wait, that tick is held, and resumed when a batch leaves the
    // queue (then this runs again).
    if (clock_->is_manual() || !generator_->paced()) {
      generator_->scheduler_tick(generator_->next_tick());
    }
    return;
  }
  // Every grid time up to the stop is sealed and run, also those back-pressure held (they are
  // resumed as batches leave the queue, or ticked when due): their batches take what the inputs
  // hold, files not listed yet included. Their ticks run this again.
  // (Unpaced, no tick waits for the clock: only what is buffered is sealed.)
  if (generator_->paced() && generator_->next_tick() <= drain_until_) return;
  {
    std::lock_guard lock(mutex_);
    if (!pending_.empty() || running_batch_ || sealing_) return;
  }
  request_halt();
}

void Engine::halt_inputs() {
  generator_->halt();
  if (tables_) tables_->request_stop();
  for (const auto& input : plan_.inputs) {
    try {
      input->stop_input();
    } catch (...) {
      logger().error("StreamingContext: an input failed to stop");
    }
  }
  std::lock_guard lock(mutex_);
  inputs_stopped_ = true;
  maybe_finish();
}

// ---------------------------------------------------------------- batch thread

void Engine::batch_loop() {
  RillThreadScope scope;
  const bool ticks_when_idle = generator_->batch_thread_ticks();
  GridTimer* const grid = grid_.load();
  for (;;) {
    PendingBatch batch;
    bool resume_tick = false;
    {
      std::unique_lock lock(mutex_);
      while (!halting_ && pending_.empty()) {
        if (!ticks_when_idle) {
          cv_.wait(lock);
          continue;
        }
        // Idle on the system clock: this thread seals the next batch itself when it is due, and
        // the grid timer does not wake the scheduler thread for it (GridTimer). The sleep is not
        // on cv_: a timed-out condition variable wait takes the mutex back as contended, and its
        // unlock would cost a futex wake that wakes nobody.
        const Time due = generator_->next_tick();
        const std::uint32_t ticket = grid->prepare();
        lock.unlock();
        const bool due_now = grid->sleep_until(ticket, due, *clock_);
        grid->finished();
        if (due_now) {
          try {
            // Does nothing when halting or when `due` was sealed already. A graceful stop's
            // progress is the scheduler thread's to check.
            if (generator_->tick(due) == JobGenerator::TickResult::sealed && draining_.load()) {
              post([this] { check_drained(); });
            }
          } catch (...) {
            fail(std::current_exception());
          }
        }
        lock.lock();
      }
      if (halting_) break;
      batch = std::move(pending_.front());
      pending_.pop_front();
      running_batch_ = true;
      // Back-pressure: a tick held while the queue was full goes on now that it has room.
      resume_tick = std::exchange(tick_held_, false);
    }
    if (resume_tick) post([this] { generator_->resume_held(); });
    BatchInfo info;
    const auto rate_started = rate_ ? rate_->now() : std::chrono::microseconds{0};
    const bool ok = runner_->run(batch, info);
    bool completed_here = false;  // without listeners: batch_completed below, not on the bus
    tables_->release(batch.context.time);
    if (ok) {
      // Back-pressure's new rates, before anyone hears the batch completed.
      if (rate_) {
        rate_->batch_completed(rate_->sealed_at(batch), info.held_back, rate_started, rate_->now(),
                               info.sources);
      }
      if (bus_.has_listeners()) {
        history_.add(BatchInfo(info));
        bus_.batch_completed(info, [this, t = batch.context.time] { mark_completed(t); });
      } else {
        // Nobody hears the batch (listeners are never removed): the history takes the record
        // itself, and the batch completes below, on this thread, under the lock taken anyway.
        history_.add(std::move(info));
        completed_here = true;
      }
    }
    {
      std::lock_guard lock(mutex_);
      if (completed_here) last_completed_ = batch.context.time;
      running_batch_ = false;
      watermark_advanced_ = plan_.watermarks != nullptr && plan_.watermarks->advanced();
    }
    if (completed_here) cv_.notify_all();  // await_batch()
    if (!ok) break;
    // Trigger::available_now: seal the next batch, or end the run once this was the last.
    if (available_now_) post([this] { continue_available_now(); });
    // Only a graceful stop waits for batches to complete: wake the scheduler thread then only.
    // (begin_drain() sets draining_ before it looks at running_batch_ under the mutex.)
    if (draining_.load()) post([this] { check_drained(); });
  }
  bus_.post([this] {
    std::lock_guard lock(mutex_);
    batches_done_ = true;
    maybe_finish();
  });
}

void Engine::mark_completed(Time t) {
  {
    std::lock_guard lock(mutex_);
    last_completed_ = t;
  }
  cv_.notify_all();
}

// ---------------------------------------------------------------- stopping

void Engine::fail(std::exception_ptr error) {
  {
    std::lock_guard lock(mutex_);
    if (!error_) error_ = std::move(error);
  }
  request_halt();
}

void Engine::request_halt() {
  {
    std::lock_guard lock(mutex_);
    if (halting_ || state_ != ContextState::active) return;
    halting_ = true;
    pending_.clear();
  }
  cv_.notify_all();
  if (GridTimer* grid = grid_.load()) grid->wake();
  asio::post(io_, [this] { halt_inputs(); });
}

void Engine::maybe_finish() {
  if (inputs_stopped_ && batches_done_ && state_ != ContextState::stopped) {
    state_ = ContextState::stopped;
    cv_.notify_all();
  }
}

bool Engine::wait_stopped(Duration timeout) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] { return state_ == ContextState::stopped; });
}

bool Engine::stop(const StopOptions& options) {
  {
    std::lock_guard lock(mutex_);
    if (state_ == ContextState::initialized) {
      state_ = ContextState::stopped;
      return true;
    }
  }
  if (on_rill_thread()) {
    if (options.graceful) {
      post([this] { begin_drain(); });
    } else {
      request_halt();
    }
    return true;
  }
  const Duration timeout = options.timeout.count() > 0 ? options.timeout : interval_ * 10;
  if (options.graceful) {
    post([this] { begin_drain(); });
    if (!wait_stopped(timeout)) {
      logger().warn(
          "StreamingContext::stop: the graceful stop did not finish within {} ms; stopping "
          "immediately",
          timeout.count());
    }
  }
  request_halt();
  if (!wait_stopped(timeout)) {
    logger().error(
        "StreamingContext::stop: a batch is still running after {} ms; leaving its threads",
        timeout.count());
    return false;
  }
  join_threads();
  return true;
}

void Engine::join_threads() {
  std::lock_guard join_lock(join_mutex_);
  if (joined_) return;
  joined_ = true;
  if (generator_) generator_->unlink_clock();
  if (tables_) tables_->join();  // waits for a reload in progress
  work_.reset();
  io_.stop();
  if (scheduler_thread_.joinable()) scheduler_thread_.join();
  if (batch_thread_.joinable()) batch_thread_.join();
  bus_.shutdown();
  if (pool_) pool_->join();
  checkpoints_.reset();  // releases the directory's lock: another context may use it now
}

// ---------------------------------------------------------------- lifecycle queries

void Engine::await_termination() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return state_ == ContextState::stopped; });
  if (error_) std::rethrow_exception(error_);
}

bool Engine::await_termination_for(Duration d) {
  std::unique_lock lock(mutex_);
  const bool stopped = cv_.wait_for(lock, d, [&] { return state_ == ContextState::stopped; });
  if (error_) std::rethrow_exception(error_);
  return stopped;
}

ContextState Engine::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

Time Engine::zero() const {
  std::lock_guard lock(mutex_);
  return zero_;
}

void Engine::await_batch(Time t) {
  std::unique_lock lock(mutex_);
  // After a failure, also wait for the stop to complete, so that state() reads `stopped`.
  cv_.wait(lock, [&] {
    return (last_completed_ && *last_completed_ >= t && !error_) || state_ == ContextState::stopped;
  });
  if (error_) std::rethrow_exception(error_);
  if (!last_completed_ || *last_completed_ < t) {
    throw IllegalState(fmt::format("the context stopped before batch {} completed", t));
  }
}

void Engine::records_stored(std::int64_t n) {
  stored_ += n;
  // Sequentially consistent with the waiter's increment and load: either it sees this store's
  // count, or this sees it waiting.
  if (stored_waiters_.load() == 0) return;
  std::lock_guard lock(stored_mutex_);
  stored_cv_.notify_all();
}

bool Engine::await_records_stored(std::int64_t n, SteadyClock::duration timeout) {
  std::unique_lock lock(stored_mutex_);
  ++stored_waiters_;
  const bool stored = stored_cv_.wait_for(lock, timeout, [&] { return stored_.load() >= n; });
  --stored_waiters_;
  return stored;
}

std::unique_ptr<BlockLog> Engine::open_block_log(std::string_view name) {
  if (!checkpoints_) return nullptr;  // no checkpoint directory
  return checkpoints_->open_block_log(name);
}

std::vector<SourceStats> Engine::source_stats() const {
  std::vector<SourceStats> out;
  for (const auto& input : plan_.inputs)
    out.push_back(input->source_stats());
  if (tables_) {
    for (auto& table : tables_->stats())
      out.push_back(std::move(table));
  }
  return out;
}

}  // namespace rill::detail
