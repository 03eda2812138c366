#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "rill/core/clock.hpp"
#include "rill/core/time.hpp"

namespace rill::detail {

/// The batch grid's timer on the system clock, shared by the two threads that may seal a batch
/// (JobGenerator's class comment): one periodic timerfd (CLOCK_REALTIME) that expires at every
/// grid time, armed once by start() and never re-armed per batch, which wakes exactly one thread
/// per expiry:
/// - the batch thread, when it sleeps in sleep_until() (it has nothing to run): it seals the batch
///   itself, and the scheduler thread is not woken;
/// - else (it is running a batch) the scheduler thread, which calls `on_missed`.
/// How: the timerfd is in two epoll sets with EPOLLEXCLUSIVE (Linux 4.5), the batch thread's
/// (registered first) and an inner one the scheduler thread's io_context watches. The kernel
/// wakes exclusive waiters in registration order and moves on to the next only when the first
/// has no thread waiting in epoll_wait: an idle batch thread takes every expiry, a busy one
/// leaves it to the scheduler thread at the grid time itself.
///
/// Before (2026-12-01) each tick re-armed a one-shot backup timer 1 ms after the next grid time
/// and the batch thread slept on a futex: two timers and a timerfd_settime per batch, and the
/// scheduler thread woke whenever the batch thread was scheduled more than 1 ms late.
///
/// The sleep follows FutexSleeper's former protocol: the batch thread calls prepare() while it
/// checks (under its own lock) that it has nothing to do, releases its lock, calls sleep_until()
/// with prepare()'s ticket, then finished(). A thread that gives it something to do changes what
/// it checks, then calls wake(): either the check sees the change, or the sleep returns at once
/// (an eventfd in the batch thread's epoll set).
///
/// Thread-safety: open() and start() before the threads run; prepare(), sleep_until() and
/// finished() on the batch thread; wake() on any thread; cancel() on the io_context's thread.
/// `on_missed` runs on the io_context's thread; what it throws leaves io_context::run(). Destroy
/// the timer after both threads ended and before the io_context. Throws nothing of its own after
/// open(), but the logger on system-call failures (not expected).
class GridTimer {
 public:
  /// A disarmed timer whose scheduler side `io` watches; nullptr, with a warning in the log, when
  /// the system cannot create the timerfd, the epoll sets or the eventfd, or refuses
  /// EPOLLEXCLUSIVE (kernels before 4.5): the scheduler thread then seals every batch.
  [[nodiscard]] static std::unique_ptr<GridTimer> open(boost::asio::io_context& io,
                                                       std::function<void()> on_missed);
  GridTimer(const GridTimer&) = delete;
  GridTimer& operator=(const GridTimer&) = delete;
  ~GridTimer();

  /// Arms the timer: expiries at `first`, `first + period`, ... (system-clock ms; period > 0).
  void start(Time first, Duration period) noexcept;
  /// Stops watching on the scheduler side: `on_missed` is not called again. Throws
  /// boost::system::system_error when the descriptor cannot be cancelled.
  void cancel();

  /// Marks the batch thread as about to sleep; returns the ticket for sleep_until().
  [[nodiscard]] std::uint32_t prepare() noexcept {
    sleeping_.store(true);
    return word_.load();
  }
  /// Sleeps until the clock reads `due` (a grid time, or a past time: returns at once) unless
  /// wake() was called since prepare() returned `ticket`; true when `due` came, false when woken
  /// (or interrupted: the caller checks again).
  [[nodiscard]] bool sleep_until(std::uint32_t ticket, Time due, const Clock& clock) noexcept;
  /// Ends a prepare() / sleep_until(): wake() no longer makes a system call.
  void finished() noexcept { sleeping_.store(false); }
  /// Wakes the batch thread in sleep_until(), or makes its next sleep_until() return at once.
  void wake() noexcept;

 private:
  GridTimer(boost::asio::io_context& io, int timer, int batch_set, int wake_fd, int scheduler_set,
            std::function<void()> on_missed);
  void await();
  // Reads the timerfd's expiry count (0 when another thread read it first).
  std::uint64_t take_expiries() noexcept;

  int timer_;      // the periodic timerfd
  int batch_set_;  // the batch thread's epoll set: timer_ (exclusive) and wake_
  int wake_;       // eventfd written by wake() while the batch thread sleeps
  std::function<void()> on_missed_;
  // Sequentially consistent: either wake() sees sleeping_ and writes the eventfd, or prepare()'s
  // load sees wake()'s increment and sleep_until() returns at once.
  std::atomic<std::uint32_t> word_{0};
  std::atomic<bool> sleeping_{false};
  bool failed_ = false;  // batch thread only
  // The scheduler thread's epoll set (timer_, exclusive), watched by the io_context; owns its fd.
  boost::asio::posix::stream_descriptor scheduler_set_;
};

}  // namespace rill::detail
