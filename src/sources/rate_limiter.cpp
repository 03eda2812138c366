#include "rill/sources/detail/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <utility>

#include "rill/core/errors.hpp"

namespace rill::detail {

/// The bucket, behind one mutex; shared with the manual clock's observer, which may still run
/// once after the limiter removed it.
struct RateLimiter::Shared {
  std::mutex mutex;
  std::condition_variable cv;
  double rate = 0;           // records/s; 0: unlimited
  double tokens = 0;         // may be negative: the debt of a block larger than the bucket
  std::int64_t last_us = 0;  // when tokens were last added
  bool started = false;      // last_us is set
  bool closed = false;
  bool paused = false;

  /// One second's worth of tokens, at least one record.
  [[nodiscard]] double capacity() const noexcept { return std::max(rate, 1.0); }
  /// Adds the tokens earned since last_us at the current rate.
  void refill(std::int64_t now_us) noexcept {
    if (started && rate > 0 && now_us > last_us) {
      tokens = std::min(capacity(), tokens + rate * static_cast<double>(now_us - last_us) / 1e6);
    }
    last_us = now_us;
    started = true;
  }
  void check_open() const {
    if (closed || paused) {
      throw Stopped("Receiver::store: the receiver is stopping; stop storing and return");
    }
  }
};

RateLimiter::RateLimiter() : shared_(std::make_shared<Shared>()) {}

RateLimiter::~RateLimiter() {
  if (manual_clock_) manual_clock_->remove_observer(observer_);
}

void RateLimiter::use_clock(std::shared_ptr<Clock> clock) {
  if (!clock || !clock->is_manual() || manual_clock_) return;
  manual_clock_ = std::move(clock);
  observer_ = manual_clock_->add_observer([shared = shared_] {
    // Taking the mutex orders this wake-up after a waiter's reading of the clock.
    { std::lock_guard lock(shared->mutex); }
    shared->cv.notify_all();
  });
}

std::int64_t RateLimiter::now_us() const {
  if (manual_clock_) return manual_clock_->now().milliseconds() * 1000;
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void RateLimiter::set_rate(double records_per_second) {
  const double rate =
      std::isfinite(records_per_second) && records_per_second > 0 ? records_per_second : 0.0;
  {
    std::lock_guard lock(shared_->mutex);
    Shared& s = *shared_;
    s.refill(now_us());  // what was earned at the old rate stays earned
    s.rate = rate;
    if (rate > 0) s.tokens = std::min(s.tokens, s.capacity());
    limited_.store(rate > 0, std::memory_order_release);
  }
  shared_->cv.notify_all();
}

std::optional<double> RateLimiter::rate() const {
  std::lock_guard lock(shared_->mutex);
  if (shared_->rate <= 0) return std::nullopt;
  return shared_->rate;
}

void RateLimiter::acquire_slow(std::size_t n) {
  std::unique_lock lock(shared_->mutex);
  Shared& s = *shared_;
  for (;;) {
    s.check_open();
    if (s.rate <= 0) return;  // unlimited since
    s.refill(now_us());
    // A block larger than the bucket waits for a full bucket and leaves a debt.
    const double need = std::min(static_cast<double>(n), s.capacity());
    if (s.tokens >= need) {
      s.tokens -= static_cast<double>(n);
      return;
    }
    if (manual_clock_) {
      s.cv.wait(lock);  // the clock moved, the rate changed, or stopping began
    } else {
      const double wait_us = std::ceil((need - s.tokens) / s.rate * 1e6);
      s.cv.wait_for(lock, std::chrono::microseconds(static_cast<std::int64_t>(wait_us)));
    }
  }
}

bool RateLimiter::try_acquire(std::size_t n) {
  std::lock_guard lock(shared_->mutex);
  Shared& s = *shared_;
  s.check_open();
  if (s.rate <= 0) return true;
  s.refill(now_us());
  if (s.tokens < std::min(static_cast<double>(n), s.capacity())) return false;
  s.tokens -= static_cast<double>(n);
  return true;
}

void RateLimiter::give_back(std::size_t n) {
  std::lock_guard lock(shared_->mutex);
  Shared& s = *shared_;
  if (s.rate > 0) s.tokens = std::min(s.capacity(), s.tokens + static_cast<double>(n));
}

void RateLimiter::close() {
  {
    std::lock_guard lock(shared_->mutex);
    shared_->closed = true;
  }
  shared_->cv.notify_all();
}

void RateLimiter::pause(bool paused) {
  {
    std::lock_guard lock(shared_->mutex);
    shared_->paused = paused;
  }
  shared_->cv.notify_all();
}

}  // namespace rill::detail
