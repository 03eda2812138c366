#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "rill/core/clock.hpp"

namespace rill::detail {

/// A receiver's rate limit (Spark's receiver RateLimiter, `waitToPush`): a token bucket that
/// fills at `rate` records per second up to one second's worth (at least one record). store() of
/// n records takes n tokens, waiting while fewer than n are there; a block larger than the
/// bucket waits for a full bucket and leaves a debt that later stores wait out, so the average
/// stays at the rate. Time is the context's clock: under a manual clock the limiter reads it and
/// wakes when it moves (tests stay exact); under the system clock it reads the steady clock (the
/// same flow of time, monotonic, in µs) and sleeps on a condition variable.
///
/// Cost: unlimited (rate 0, the default), acquire() is one atomic load; limited, one mutex and
/// one clock reading per call (store() of a block pays once for the block); no allocation and
/// no virtual call (but ManualClock::now() under a manual clock). Blocking calls throw
/// rill::Stopped once close() or pause(true) was called, as the receiver's queue does.
/// Thread-safe.
class RateLimiter {
 public:
  RateLimiter();
  ~RateLimiter();
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  /// Reads time from `clock` when it is a manual clock (and wakes when it moves); any other
  /// clock leaves the steady clock in use. Call before the first acquire(), once.
  void use_clock(std::shared_ptr<Clock> clock);
  /// The limit in records/s; 0 (or less): unlimited. Waiting stores see the new rate at once.
  /// Tokens already earned are kept (up to the new bucket size).
  void set_rate(double records_per_second);
  /// The limit in records/s; nullopt when unlimited.
  [[nodiscard]] std::optional<double> rate() const;

  /// Takes n tokens, waiting while the rate does not allow them yet. Throws rill::Stopped once
  /// closed or paused (also while waiting).
  void acquire(std::size_t n) {
    if (!limited_.load(std::memory_order_acquire)) return;
    acquire_slow(n);
  }
  /// Takes n tokens if there are, without waiting: false when the rate does not allow them now.
  /// Throws rill::Stopped once closed or paused.
  bool try_acquire(std::size_t n);
  /// Returns n tokens taken by try_acquire() that were not used (the queue was full).
  void give_back(std::size_t n);

  /// Final stop: waiting and later calls throw rill::Stopped.
  void close();
  /// A restart: while paused, waiting and later calls throw rill::Stopped.
  void pause(bool paused);

 private:
  struct Shared;

  void acquire_slow(std::size_t n);
  /// Now, in µs: the manual clock's reading, or the steady clock's.
  [[nodiscard]] std::int64_t now_us() const;

  std::atomic<bool> limited_{false};
  std::shared_ptr<Shared> shared_;  // also held by the manual clock's observer
  std::shared_ptr<Clock> manual_clock_;
  std::uint64_t observer_ = 0;
};

}  // namespace rill::detail
