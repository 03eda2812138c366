#include "scheduler/engine.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <fmt/ranges.h>
#include <boost/asio/post.hpp>

#include "checkpoint/write_ahead_log.hpp"
#include "rill/core/detail/rill_thread.hpp"
#include "rill/core/errors.hpp"
#include "rill/core/logging.hpp"

namespace rill::detail {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

namespace {

Duration elapsed_ms(SteadyClock::time_point from, SteadyClock::time_point to) {
  return std::chrono::duration_cast<Duration>(to - from);
}

/// A system-clock time as a timespec (CLOCK_REALTIME), never zero.
timespec realtime_spec(Time t) {
  const std::int64_t ms = t.milliseconds();
  timespec spec{};
  spec.tv_sec = static_cast<time_t>(ms / 1000);
  spec.tv_nsec = static_cast<long>(ms % 1000) * 1'000'000;
  if (ms <= 0) spec.tv_nsec = 1;  // a zero it_value would disarm a timerfd
  return spec;
}

std::uint32_t* futex_word(std::atomic<std::uint32_t>& word) {
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                std::atomic<std::uint32_t>::is_always_lock_free);
  return reinterpret_cast<std::uint32_t*>(&word);
}

/// A system-clock time as a std::chrono::system_clock time point.
std::chrono::system_clock::time_point system_time(Time t) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(Duration{t.milliseconds()}));
}

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

/// Lets a manual clock wake the scheduler without outliving it.
struct Engine::ClockLink {
  std::mutex mutex;
  Engine* engine = nullptr;
};

Engine::Engine(Config config)
    : config_(std::move(config)),
      clock_(config_.clock()),
      interval_(config_.batch_interval()),
      system_timer_(io_) {}

Engine::~Engine() {
  try {
    stop(StopOptions{.graceful = false, .timeout = Duration{0}});
  } catch (...) {
  }
}

void Engine::add_listener(std::shared_ptr<StreamingListener> listener) {
  if (!listener) throw InvalidArgument("StreamingContext::add_listener: the listener is null");
  std::lock_guard lock(mutex_);
  listeners_.push_back(std::move(listener));
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
  check_delivery();

  Time first = clock_->now().floor(interval_) + interval_;
  std::optional<std::vector<CheckpointData>> chain;  // restores the newest checkpoint
  const CheckpointData* restored = nullptr;
  if (!checkpoint_dir_.empty()) {
    checkpointer_ = std::make_unique<Checkpointer>(checkpoint_dir_, config_.checkpoints_retained());
    check_serializable();
    for (CheckpointedState* node : plan_.stateful)
      node->track_changes();
    if (recover_) {
      chain = checkpointer_->load_latest();
      if (chain) restored = &chain->back();
      if (!restored && checkpointer_->has_checkpoints() && !start_fresh_) {
        checkpointer_.reset();
        throw CheckpointError(fmt::format(
            "no valid checkpoint in '{}' (each was torn or corrupt; see the log); move the "
            "directory away, or ask get_or_create to start fresh",
            checkpoint_dir_.string()));
      }
      if (restored) {
        for (const auto& data : *chain)
          check_compatible(data);
        first = Time{restored->batch_time} + interval_;
      }
    }
  }
  {
    std::lock_guard lock(mutex_);
    zero_ = restored ? Time{restored->zero} : first - interval_;
    state_ = ContextState::active;
  }
  pool_ = std::make_unique<WorkerPool>(config_.worker_threads());
  bus_ = std::make_unique<SerialExecutor>();
  work_.emplace(io_.get_executor());

  clock_link_ = std::make_shared<ClockLink>();
  clock_link_->engine = this;
  if (clock_->is_manual()) {
    clock_token_ = clock_->add_observer([link = clock_link_] {
      std::lock_guard lock(link->mutex);
      if (link->engine != nullptr)
        link->engine->post([e = link->engine] { e->process_due_timers(); });
    });
  }
  for (const auto& input : plan_.inputs)
    input->start_input(*this, zero_);
  if (checkpointer_ && !restored) {
    // A first checkpoint at the zero time: a restart before the first batch's checkpoint still
    // finds the zero time and every input's starting position, and replays the sealed batches.
    write_checkpoint(zero_);
  }
  if (restored) {
    try {
      restore(*chain);
    } catch (...) {
      // Nothing runs yet: stop the receivers and leave the context stopped.
      for (const auto& input : plan_.inputs)
        input->stop_input();
      std::lock_guard lock(mutex_);
      state_ = ContextState::stopped;
      throw;
    }
  }
  next_tick_.store(first);
  if (!clock_->is_manual()) {
    // Without it (not expected), the scheduler thread seals every batch, as under a manual
    // clock.
    const int fd = ::timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) {
      logger().warn(
          "StreamingContext: timerfd_create failed ({}); the scheduler thread seals "
          "every batch",
          std::strerror(errno));
    } else {
      try {
        backup_timer_.emplace(io_, fd);
        await_backup_timer();
        set_backup_timer(first + kBackupGrace);
      } catch (const std::exception& e) {
        if (!backup_timer_) ::close(fd);
        backup_timer_.reset();
        logger().warn(
            "StreamingContext: cannot watch the backup timer ({}); the scheduler "
            "thread seals every batch",
            e.what());
      }
    }
  }
  batch_thread_ = std::thread([this] { batch_loop(); });
  scheduler_thread_ = std::thread([this] {
    RillThreadScope scope;
    io_.run();
  });
  // On the system clock, the idle batch thread seals the first batch when it is due.
  if (!backup_timer_) post([this, first] { schedule_at(first, [this, first] { tick(first); }); });
  logger().debug("StreamingContext started: interval {} ms, zero time {}", interval_.count(),
                 zero_);
}

// ---------------------------------------------------------------- checkpoints

void Engine::set_checkpoint(std::filesystem::path dir, bool recover, bool start_fresh) {
  checkpoint_dir_ = std::move(dir);
  recover_ = recover;
  start_fresh_ = start_fresh;
}

void Engine::check_delivery() const {
  if (config_.delivery() != Delivery::exactly_once) return;
  std::vector<std::string> problems;
  if (checkpoint_dir_.empty())
    problems.emplace_back("no checkpoint directory (call checkpoint(dir))");
  for (const auto& input : plan_.inputs) {
    if (input->source_properties().delivery != Delivery::exactly_once) {
      problems.push_back(fmt::format("source '{}' cannot replay its input", input->source_name()));
    }
  }
  for (const auto& op : plan_.outputs) {
    const SinkProperties sink = op->properties();
    if (sink.delivery == Delivery::exactly_once) continue;
    if (sink.console) {
      logger().warn("output '{}' may print a batch again after a crash (at least once)",
                    op->name());
      continue;
    }
    problems.push_back(
        fmt::format("output '{}' is at least once (use save_as_text_files, or foreach_batch(f, "
                    "rill::idempotent) when f is idempotent per batch time)",
                    op->name()));
  }
  if (!problems.empty()) {
    throw InvalidArgument(fmt::format("Config::delivery(exactly_once) cannot be kept: {}",
                                      fmt::join(problems, "; ")));
  }
}

void Engine::check_serializable() const {
  for (const CheckpointedState* node : plan_.stateful) {
    const auto d = node->state_descriptor();
    if (!d->serializable) {
      throw CheckpointError(fmt::format(
          "operator '{}' ({}) keeps a type cereal cannot serialize, so it cannot be "
          "checkpointed; give the type a serialize(Archive&) member (see docs/serialization.md) "
          "or run without checkpoint()",
          d->name, d->kind));
    }
  }
}

void Engine::check_compatible(const CheckpointData& data) const {
  if (data.interval != interval_.count()) {
    throw CheckpointError(fmt::format(
        "the checkpoint in '{}' was written with a batch interval of {} ms, this context has {} "
        "ms; restore with the same interval",
        checkpoint_dir_.string(), data.interval, interval_.count()));
  }
  std::map<std::string, const NodeSnapshot*> saved;
  for (const auto& snapshot : data.nodes)
    saved.emplace(snapshot.name, &snapshot);
  for (const CheckpointedState* node : plan_.stateful) {
    const auto d = node->state_descriptor();
    auto it = saved.find(d->name);
    if (it == saved.end()) {
      throw CheckpointError(fmt::format(
          "operator '{}' ({}) has no state in the checkpoint in '{}': the pipeline changed "
          "(renamed or added a stateful operator); name stateful streams with .name() and keep "
          "the names",
          d->name, d->kind, checkpoint_dir_.string()));
    }
    if (it->second->fingerprint != d->fingerprint || it->second->kind != d->kind) {
      throw CheckpointError(fmt::format(
          "operator '{}' ({}) does not match its state in the checkpoint in '{}': its types or "
          "kind changed",
          d->name, d->kind, checkpoint_dir_.string()));
    }
    saved.erase(it);
  }
  if (!saved.empty()) {
    throw CheckpointError(fmt::format(
        "the checkpoint in '{}' holds state of operator '{}', which the pipeline no longer has "
        "(renamed or removed)",
        checkpoint_dir_.string(), saved.begin()->first));
  }
}

void Engine::restore(const std::vector<CheckpointData>& chain) {
  // The snapshot, then each delta in order: a node's entry is its whole state or its changes.
  for (const CheckpointData& data : chain) {
    std::map<std::string, const NodeSnapshot*> saved;
    for (const auto& snapshot : data.nodes)
      saved.emplace(snapshot.name, &snapshot);
    for (CheckpointedState* node : plan_.stateful) {
      std::string name;
      try {
        name = node->state_descriptor()->name;
        const NodeSnapshot& snapshot = *saved.at(name);
        if (snapshot.delta) {
          node->load_delta(snapshot.payload);
        } else {
          node->load_state(snapshot.payload);
        }
      } catch (const std::exception& e) {
        throw CheckpointError(
            fmt::format("the state of operator '{}' in the checkpoint of batch {} ms in '{}' "
                        "cannot be read: {}",
                        name, data.batch_time, checkpoint_dir_.string(), e.what()));
      }
    }
  }
  const CheckpointData& data = chain.back();
  replay_ = checkpointer_->load_seals_after(data.batch_time);
  {
    // The batches up to the checkpoint completed before the restart.
    std::lock_guard lock(mutex_);
    last_completed_ = Time{data.batch_time};
  }
  logger().info("restored batch {} ms from '{}'; {} sealed batch(es) to run again", data.batch_time,
                checkpoint_dir_.string(), replay_.size());
}

void Engine::write_checkpoint(Time t) {
  CheckpointData data;
  data.batch_time = t.milliseconds();
  data.zero = zero_.milliseconds();
  data.interval = interval_.count();
  const auto nodes = plan_.stateful;
  // A snapshot first in each run, then every snapshot_interval-th checkpoint, and whenever the
  // deltas since the last snapshot outweigh it (restoring them would cost more than it; below
  // kCompactBytes a chain is cheap to read whatever its length).
  constexpr std::size_t kCompactBytes = 64 * 1024;
  bool snapshot = !last_checkpoint_ ||
                  deltas_since_snapshot_ + 1 >= config_.checkpoint_snapshot_interval() ||
                  delta_bytes_since_snapshot_ > std::max(snapshot_bytes_, kCompactBytes);
  std::size_t whole_bytes = 0;  // of nodes that cannot write a delta this time
  for (const CheckpointedState* node : nodes) {
    const auto d = node->state_descriptor();
    NodeSnapshot entry{d->name, d->kind, d->fingerprint, false, {}};
    if (!snapshot) {
      if (auto delta = node->save_delta(t)) {
        entry.delta = true;
        entry.payload = std::move(*delta);
      }
    }
    if (!entry.delta) {
      entry.payload = node->save_state(t);
      whole_bytes += entry.payload.size();
    }
    data.nodes.push_back(std::move(entry));
  }
  if (!snapshot && whole_bytes > std::max(snapshot_bytes_ / 2, kCompactBytes)) {
    // Mostly whole states anyway (e.g. every key changed): make it a snapshot, which ends the
    // chain.
    snapshot = true;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (!data.nodes[i].delta) continue;
      data.nodes[i].delta = false;
      data.nodes[i].payload = nodes[i]->save_state(t);
    }
  }
  if (!snapshot) data.previous = last_checkpoint_->milliseconds();
  const std::size_t bytes = checkpointer_->write_checkpoint(data);
  if (snapshot) {
    deltas_since_snapshot_ = 0;
    delta_bytes_since_snapshot_ = 0;
    snapshot_bytes_ = bytes;
  } else {
    ++deltas_since_snapshot_;
    delta_bytes_since_snapshot_ += bytes;
  }
  last_checkpoint_ = t;
  for (CheckpointedState* node : nodes)
    node->state_saved(t);
}

// ---------------------------------------------------------------- scheduler thread

void Engine::run_at(Time t, std::function<void()> fn) {
  post([this, t, fn = std::move(fn)]() mutable { schedule_at(t, std::move(fn)); });
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

void Engine::schedule_at(Time t, std::function<void()> fn) {
  timers_.emplace(t, std::move(fn));
  process_due_timers();
}

void Engine::process_due_timers() {
  const Time now = clock_->now();
  while (!timers_.empty() && timers_.begin()->first <= now) {
    auto fn = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
    fn();
  }
  rearm_timer();
}

void Engine::rearm_timer() {
  if (clock_->is_manual() || timers_.empty()) return;
  system_timer_.expires_at(system_time(timers_.begin()->first));
  system_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) process_due_timers();
  });
}

void Engine::set_backup_timer(Time at) noexcept {
  if (!backup_timer_) return;
  itimerspec spec{};
  spec.it_value = realtime_spec(at);
  if (::timerfd_settime(backup_timer_->native_handle(), TFD_TIMER_ABSTIME, &spec, nullptr) != 0) {
    // Not expected with these arguments; were it to happen, an idle batch thread still seals.
    logger().error("StreamingContext: timerfd_settime failed: {}", std::strerror(errno));
  }
}

void Engine::await_backup_timer() {
  backup_timer_->async_wait(
      asio::posix::descriptor_base::wait_read, [this](const boost::system::error_code& ec) {
        if (ec) return;  // cancelled: the context is halting
        std::uint64_t expirations = 0;
        // Nothing to read when the timer was set again since it fired (it no longer is due).
        if (::read(backup_timer_->native_handle(), &expirations, sizeof expirations) ==
                static_cast<ssize_t>(sizeof expirations) &&
            expirations > 0) {
          const Time due = next_tick_.load();
          if (clock_->now() >= due) tick(due);
        }
        await_backup_timer();
      });
}

void Engine::tick(Time t, bool scheduler_thread) {
  std::unique_lock tick_lock(tick_mutex_);
  // Already ticked: early, by a graceful stop under a manual clock, or by the other thread.
  if (t != next_tick_.load()) return;
  next_tick_.store(t + interval_);
  bool take;
  {
    std::lock_guard lock(mutex_);
    if (halting_) return;
    take = pending_.size() < config_.max_pending_batches();
  }
  std::int64_t records = 0;
  bool replayed = false;
  try {
    if (auto seal = replay_.find(t.milliseconds()); seal != replay_.end()) {
      // A batch sealed before a restart: the same input again.
      replayed = true;
      for (const auto& input : plan_.inputs) {
        std::string_view record;
        for (const auto& [name, bytes] : seal->second.inputs) {
          if (name == input->source_name()) record = bytes;
        }
        records += input->replay_seal(t, record);
      }
      replay_.erase(seal);
    } else {
      SealData sealed{t.milliseconds(), {}};
      for (const auto& input : plan_.inputs) {
        std::string record;
        records += input->seal(t, take, record);
        if (checkpointer_) sealed.inputs.emplace_back(input->source_name(), std::move(record));
      }
      // Written before the batch can run: a restart replays exactly this input.
      if (checkpointer_) checkpointer_->write_seal(sealed);
    }
  } catch (...) {
    fail(std::current_exception());
    return;
  }
  BatchInfo info;
  info.batch_time = t;
  info.num_records = records;
  emit(&StreamingListener::on_batch_submitted, info);  // before the batch thread can start it
  const PendingBatch batch{t, records, SteadyClock::now(), replayed};
  {
    std::lock_guard lock(mutex_);
    if (halting_) return;
    pending_.push_back(batch);
  }
  // Should the batch thread still be busy then, the scheduler thread seals the next batch.
  set_backup_timer(t + interval_ + kBackupGrace);
  cv_.notify_all();
  wake_batch_thread();
  tick_lock.unlock();
  if (!scheduler_thread) {
    if (draining_.load()) post([this] { check_drained(); });
    return;
  }
  if (!backup_timer_) schedule_at(t + interval_, [this, next = t + interval_] { tick(next); });
  check_drained();
}

void Engine::begin_drain() {
  if (draining_) return;
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
    // The next ticks seal it. A manual clock may never move again while stop() waits, so
    // there the next batch is sealed now, once it can take input (when a batch completes,
    // this runs again).
    if (clock_->is_manual()) {
      bool room;
      {
        std::lock_guard lock(mutex_);
        room = pending_.size() < config_.max_pending_batches();
      }
      if (room) tick(next_tick_.load());
    }
    return;
  }
  {
    std::lock_guard lock(mutex_);
    if (!pending_.empty() || running_batch_) return;
  }
  request_halt();
}

void Engine::halt_inputs() {
  timers_.clear();
  system_timer_.cancel();
  if (backup_timer_) backup_timer_->cancel();
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
  for (;;) {
    PendingBatch batch;
    {
      std::unique_lock lock(mutex_);
      while (!halting_ && pending_.empty()) {
        if (!backup_timer_) {
          cv_.wait(lock);
          continue;
        }
        // Idle on the system clock: this thread seals the next batch itself when it is due,
        // and the scheduler thread is not woken for it (its backup timer is set later). The
        // sleep is on a futex, not cv_: a timed-out condition variable wait takes the mutex back
        // as contended, and its unlock would cost a futex wake that wakes nobody.
        const Time due = next_tick_.load();
        batch_sleeping_.store(true);
        const std::uint32_t seen = wake_word_.load();
        lock.unlock();
        const bool due_now = sleep_until(seen, due);
        batch_sleeping_.store(false);
        if (due_now) {
          try {
            tick(due, false);  // does nothing when halting or when `due` was sealed already
          } catch (...) {
            fail(std::current_exception());
          }
        }
        lock.lock();
      }
      if (halting_) break;
      batch = pending_.front();
      pending_.pop_front();
      running_batch_ = true;
    }
    const bool ok = run_batch(batch);
    {
      std::lock_guard lock(mutex_);
      running_batch_ = false;
    }
    if (!ok) break;
    // Only a graceful stop waits for batches to complete: wake the scheduler thread then only.
    // (begin_drain() sets draining_ before it looks at running_batch_ under the mutex.)
    if (draining_.load()) post([this] { check_drained(); });
  }
  bus_->post([this] {
    std::lock_guard lock(mutex_);
    batches_done_ = true;
    maybe_finish();
  });
}

bool Engine::sleep_until(std::uint32_t seen, Time due) {
  const timespec at = realtime_spec(due);
  if (::syscall(SYS_futex, futex_word(wake_word_), FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME,
                seen, &at, nullptr, FUTEX_BITSET_MATCH_ANY) == 0) {
    return false;  // woken
  }
  switch (errno) {
    case ETIMEDOUT:
      return true;
    case EAGAIN:  // woken before it slept
    case EINTR:
      return false;
    default: {
      // Not expected with these arguments. Were it to happen, poll the clock every millisecond.
      if (!futex_failed_) {
        futex_failed_ = true;
        logger().error("StreamingContext: futex wait failed ({}); the batch thread polls the clock",
                       std::strerror(errno));
      }
      if (clock_->now() >= due) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      return false;
    }
  }
}

void Engine::wake_batch_thread() noexcept {
  wake_word_.fetch_add(1);
  if (batch_sleeping_.load()) {
    ::syscall(SYS_futex, futex_word(wake_word_), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
  }
}

bool Engine::run_batch(const PendingBatch& batch) {
  const Time t = batch.time;
  const auto started = SteadyClock::now();
  BatchInfo info;
  info.batch_time = t;
  info.num_records = batch.records;
  info.scheduling_delay = elapsed_ms(batch.submitted, started);
  emit(&StreamingListener::on_batch_started, info);

  BatchExec exec(*pool_, BatchContext{t, zero_, batch.replayed});
  bool ok = true;
  try {
    for (OperatorNode* node : plan_.live) {
      if (node->sees_every_batch()) node->on_batch(t, exec);
    }
    for (const auto& op : plan_.outputs) {
      if (op->parent().defined_at(t, zero_)) op->run(exec);
    }
  } catch (...) {
    ok = false;
    logger().error("batch {} failed; stopping the context", t);
    fail(std::current_exception());
  }
  if (ok && checkpointer_) {
    try {
      crash_point("commit");
      write_checkpoint(t);
      for (const auto& input : plan_.inputs)
        input->checkpoint_written(t);
    } catch (...) {
      ok = false;
      logger().error("the checkpoint of batch {} failed; stopping the context", t);
      fail(std::current_exception());
    }
  }
  for (OperatorNode* node : plan_.live)
    node->clear_done(t);
  for (const auto& input : plan_.inputs)
    input->release_input(t);
  if (!ok) return false;

  for (OperatorNode* node : plan_.live) {
    if (auto state = node->state_info()) info.state.push_back(std::move(*state));
  }
  const auto completed = SteadyClock::now();
  info.processing_delay = elapsed_ms(started, completed);
  info.total_delay = info.scheduling_delay + info.processing_delay;
  // With listeners, the batch counts as completed once they heard of it (on their bus, in
  // order); without, at once, sparing a thread wake-up per batch.
  auto mark_completed = [this, t] {
    {
      std::lock_guard lock(mutex_);
      last_completed_ = t;
    }
    cv_.notify_all();
  };
  if (emit(&StreamingListener::on_batch_completed, info)) {
    bus_->post(mark_completed);
  } else {
    mark_completed();
  }
  return true;
}

bool Engine::emit(void (StreamingListener::*event)(const BatchInfo&), const BatchInfo& info) {
  std::vector<std::shared_ptr<StreamingListener>> listeners;
  {
    std::lock_guard lock(mutex_);
    listeners = listeners_;
  }
  if (listeners.empty()) return false;
  bus_->post([listeners = std::move(listeners), event, info] {
    for (const auto& l : listeners)
      ((*l).*event)(info);
  });
  return true;
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
  wake_batch_thread();
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
  if (clock_link_) {
    {
      std::lock_guard lock(clock_link_->mutex);
      clock_link_->engine = nullptr;
    }
    clock_->remove_observer(clock_token_);
  }
  work_.reset();
  io_.stop();
  if (scheduler_thread_.joinable()) scheduler_thread_.join();
  if (batch_thread_.joinable()) batch_thread_.join();
  if (bus_) bus_->shutdown();
  if (pool_) pool_->join();
}

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
  if (checkpoint_dir_.empty()) return nullptr;
  return std::make_unique<WriteAheadLog>(checkpoint_dir_ / "wal" / std::string(name));
}

std::vector<SourceStats> Engine::source_stats() const {
  std::vector<SourceStats> out;
  for (const auto& input : plan_.inputs)
    out.push_back(input->source_stats());
  return out;
}

}  // namespace rill::detail
