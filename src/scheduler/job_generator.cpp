#include "scheduler/job_generator.hpp"

#include <chrono>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rill/core/listener.hpp"

namespace rill::detail {

namespace {
using SteadyClock = std::chrono::steady_clock;

/// A system-clock time as a std::chrono::system_clock time point.
std::chrono::system_clock::time_point system_time(Time t) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(Duration{t.milliseconds()}));
}
}  // namespace

/// Lets a manual clock wake the scheduler without outliving it.
struct JobGenerator::ClockLink {
  std::mutex mutex;
  JobGenerator* generator = nullptr;
};

JobGenerator::JobGenerator(Runtime& runtime, boost::asio::io_context& io,
                           std::unique_ptr<TriggerPolicy> trigger, std::vector<InputSource*> inputs,
                           BatchQueue& queue, ListenerBus& bus)
    : runtime_(runtime),
      clock_(runtime.clock()),
      io_(io),
      trigger_(std::move(trigger)),
      inputs_(std::move(inputs)),
      queue_(queue),
      bus_(bus),
      system_timer_(io) {}

JobGenerator::~JobGenerator() = default;

Time JobGenerator::first_batch() const {
  return trigger_->first_batch(clock_.now());
}

void JobGenerator::link_clock() {
  clock_link_ = std::make_shared<ClockLink>();
  clock_link_->generator = this;
  if (clock_.is_manual()) {
    clock_token_ = clock_.add_observer([link = clock_link_] {
      std::lock_guard lock(link->mutex);
      if (link->generator != nullptr) {
        link->generator->runtime_.post([g = link->generator] { g->process_due_timers(); });
      }
    });
  }
}

void JobGenerator::unlink_clock() {
  if (!clock_link_) return;
  {
    std::lock_guard lock(clock_link_->mutex);
    clock_link_->generator = nullptr;
  }
  clock_.remove_observer(clock_token_);
}

void JobGenerator::start(Time zero, Time first, CheckpointCoordinator* checkpoints,
                         std::map<std::int64_t, SealData> replay, TableRefresher* tables) {
  zero_ = zero;
  checkpoints_ = checkpoints;
  tables_ = tables;
  replay_ = std::move(replay);
  next_tick_.store(first);
  if (!clock_.is_manual() && paced()) {
    // Without it (not expected), the scheduler thread seals every batch, as under a manual
    // clock.
    // The paced grid is regular (ProcessingTimeTrigger: t + interval): one periodic timer.
    grid_ = GridTimer::open(io_, [this] { on_grid_timer(); });
    if (grid_) grid_->start(first, trigger_->next_batch(first) - first);
  }
}

void JobGenerator::schedule_first_tick(Time first) {
  // On the system clock, the idle batch thread seals the first batch when it is due; unpaced,
  // the engine seals batches back to back (tick_available()).
  if (!grid_ && paced()) {
    runtime_.post([this, first] { schedule_at(first, [this, first] { scheduler_tick(first); }); });
  }
}

void JobGenerator::schedule_at(Time t, std::function<void()> fn) {
  timers_.emplace(t, std::move(fn));
  process_due_timers();
}

void JobGenerator::process_due_timers() {
  const Time now = clock_.now();
  while (!timers_.empty() && timers_.begin()->first <= now) {
    auto fn = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
    fn();
  }
  rearm_timer();
}

void JobGenerator::rearm_timer() {
  if (clock_.is_manual() || timers_.empty()) return;
  system_timer_.expires_at(system_time(timers_.begin()->first));
  system_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) process_due_timers();
  });
}

void JobGenerator::on_grid_timer() {
  const Time due = next_tick_.load();
  if (clock_.now() >= due) scheduler_tick(due);
}

void JobGenerator::halt() {
  timers_.clear();
  system_timer_.cancel();
  if (grid_) grid_->cancel();
}

JobGenerator::TickResult JobGenerator::tick(Time t) {
  std::unique_lock tick_lock(tick_mutex_);
  // Already ticked: early, by a graceful stop under a manual clock, or by the other thread.
  if (t != next_tick_.load()) return TickResult::skipped;
  const BatchQueue::Room room = queue_.room();
  if (room == BatchQueue::Room::halting) return TickResult::skipped;
  if (room == BatchQueue::Room::full) {
    // Back-pressure: nothing is sealed or queued and next_tick() stays. The queue recorded the
    // hold and calls resume_held() once a batch leaves it.
    held_ = t;
    behind_ = true;
    return TickResult::held;
  }
  held_.reset();
  const Time next = trigger_->next_batch(t);
  next_tick_.store(next);
  Duration held_back{0};
  if (behind_) {
    const Time now = clock_.now();
    if (now > t) held_back = now - t;
    if (next > now) behind_ = false;  // caught up: the next grid time is not due yet
  }
  std::int64_t records = 0;
  bool replayed = false;
  // The progress record's part of the tick: per input, its records and queue; once per batch.
  const auto sealing_started = SteadyClock::now();
  std::vector<SourceProgress> sources;
  sources.reserve(inputs_.size());
  bool queue_blocked = false;
  try {
    // The tables' version of batch t (a replayed batch too: the version loaded since the
    // restart; tables are not checkpointed). Under a manual clock the reloads due by t run now.
    if (tables_) tables_->seal(t);
    if (auto seal = replay_.find(t.milliseconds()); seal != replay_.end()) {
      // A batch sealed before a restart: the same input again.
      replayed = true;
      for (InputSource* input : inputs_) {
        std::string_view record;
        for (const auto& [name, bytes] : seal->second.inputs) {
          if (name == input->source_name()) record = bytes;
        }
        const std::int64_t n = input->replay_seal(t, record);
        records += n;
        sources.push_back(
            SourceProgress{input->source_name(), n, 0, std::nullopt, input->rate_limit()});
      }
      replay_.erase(seal);
    } else {
      SealData sealed{t.milliseconds(), {}};
      for (InputSource* input : inputs_) {
        std::string record;
        const std::int64_t n = input->seal(t, record);
        records += n;
        if (checkpoints_) sealed.inputs.emplace_back(input->source_name(), std::move(record));
        auto queue = input->queue_info();
        if (queue && queue->blocked) queue_blocked = true;
        sources.push_back(
            SourceProgress{input->source_name(), n, 0, std::move(queue), input->rate_limit()});
      }
      // Written before the batch can run: a restart replays exactly this input.
      if (checkpoints_) checkpoints_->write_seal(sealed);
    }
  } catch (...) {
    runtime_.fail(std::current_exception());
    return TickResult::skipped;
  }
  const auto sealed_at = SteadyClock::now();
  // Records per second of batch time (Spark Streaming's input rate).
  const double per_second =
      1000.0 / static_cast<double>(runtime_.config().batch_interval().count());
  for (SourceProgress& source : sources)
    source.input_rate = static_cast<double>(source.num_records) * per_second;
  PendingBatch batch{
      BatchContext{t, zero_, replayed},
      records,
      held_back,
      sealed_at,
      std::move(sources),
      static_cast<double>(records) * per_second,
      std::chrono::duration_cast<std::chrono::microseconds>(sealed_at - sealing_started),
      held_back.count() > 0 || queue_blocked,
      clock_.now()};
  if (bus_.has_listeners()) {
    // Before the batch thread can start it. Without listeners the event is not built (it
    // copies the sources' progress: an allocation per batch for nobody).
    BatchInfo info;
    info.batch_time = t;
    info.num_records = records;
    info.held_back = held_back;
    info.sources = batch.sources;
    info.input_rate = batch.input_rate;
    info.sealing_duration = batch.sealing;
    info.back_pressure = batch.back_pressure;
    bus_.emit(&StreamingListener::on_batch_submitted, info);
  }
  if (!queue_.push(std::move(batch))) return TickResult::skipped;
  queue_.notify();
  // Catching up (a held tick, a late wake-up): the next grid time is due already and its expiry
  // has passed, so the scheduler thread ticks it now, while this batch runs.
  if (grid_ && next <= clock_.now()) runtime_.post([this, next] { scheduler_tick(next); });
  return TickResult::sealed;
}

void JobGenerator::scheduler_tick(Time t) {
  // The scheduler thread's ticks also check a graceful stop's progress; the batch thread's
  // (system clock, when idle) leave that to it. A held tick schedules nothing: resume_held()
  // ticks it again.
  if (tick(t) != TickResult::sealed) return;
  if (!grid_ && paced()) {
    const Time next = trigger_->next_batch(t);
    schedule_at(next, [this, next] { scheduler_tick(next); });
  }
  queue_.on_scheduler_tick();
}

bool JobGenerator::has_available_input() {
  {
    std::lock_guard tick_lock(tick_mutex_);
    if (replay_.lower_bound(next_tick_.load().milliseconds()) != replay_.end()) return true;
  }
  for (const InputSource* input : inputs_) {
    if (input->has_available_input()) return true;
  }
  return false;
}

void JobGenerator::tick_available() {
  while (has_available_input()) {
    if (tick(next_tick_.load()) != TickResult::sealed) return;
  }
}

void JobGenerator::resume_held() {
  Time t;
  {
    std::lock_guard tick_lock(tick_mutex_);
    if (!held_ || *held_ != next_tick_.load()) return;
    t = *held_;
  }
  scheduler_tick(t);
}

}  // namespace rill::detail
