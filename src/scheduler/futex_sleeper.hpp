#pragma once

#include <atomic>
#include <cstdint>

#include "rill/core/clock.hpp"
#include "rill/core/time.hpp"

namespace rill::detail {

/// One thread's sleep until a deadline on the system clock (ms since the Unix epoch), cut short
/// by wake(): a futex word waited on with an absolute CLOCK_REALTIME deadline. A sleep costs one
/// system call; a wake() costs an atomic increment, plus a system call only while the thread
/// sleeps. Unlike a condition variable's timed wait, waking takes no mutex back.
///
/// Protocol: the sleeping thread calls prepare() while it checks (under its own lock) that it
/// has nothing to do, releases its lock, calls sleep_until() with prepare()'s ticket, then
/// finished(). A thread that gives it something to do changes what it checks, then calls wake():
/// either the check sees the change, or the sleep returns at once.
///
/// Thread-safety: prepare(), sleep_until() and finished() on the one sleeping thread; wake() on
/// any thread. Nothing throws (but the logger, should the futex fail).
class FutexSleeper {
 public:
  /// `clock` is read only should the futex fail (not expected): the sleeper then polls it every
  /// millisecond. It must outlive the sleeper.
  explicit FutexSleeper(const Clock& clock) noexcept : clock_(clock) {}
  FutexSleeper(const FutexSleeper&) = delete;
  FutexSleeper& operator=(const FutexSleeper&) = delete;

  /// Marks the thread as about to sleep; returns the ticket for sleep_until().
  [[nodiscard]] std::uint32_t prepare() noexcept {
    sleeping_.store(true);
    return word_.load();
  }
  /// Sleeps until `due` unless wake() was called since prepare() returned `ticket`; true when
  /// `due` came, false when woken (or interrupted: the caller checks again).
  [[nodiscard]] bool sleep_until(std::uint32_t ticket, Time due);
  /// Ends a prepare() / sleep_until(): wake() no longer makes a system call.
  void finished() noexcept { sleeping_.store(false); }
  /// Wakes the thread in sleep_until(), or makes its next sleep_until() return at once.
  void wake() noexcept;

 private:
  // Sequentially consistent: either wake() sees sleeping_ and wakes the futex, or prepare()'s
  // load sees wake()'s increment and the futex wait returns at once.
  std::atomic<std::uint32_t> word_{0};
  std::atomic<bool> sleeping_{false};
  bool failed_ = false;  // sleeping thread only
  const Clock& clock_;
};

}  // namespace rill::detail
