#pragma once

#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "rill/core/time.hpp"

namespace rill::detail {

/// A one-shot timer on the system clock (a timerfd on CLOCK_REALTIME; absolute times in ms since
/// the Unix epoch) that an io_context watches. set() re-arms it without waking the thread that
/// runs the io_context; when the time comes, that thread calls `on_fire`. A timer set again
/// before its expiry was read does not fire for the earlier time.
///
/// Thread-safety: open() before the io_context runs; set() on any thread (callers serialize
/// their sets: the last one wins); cancel() on the io_context's thread. `on_fire` runs on the
/// io_context's thread, and what it throws leaves io_context::run(). Destroy the timer before
/// the io_context.
class BackupTimer {
 public:
  /// A disarmed timer watched by `io`; nullptr, with a warning in the log, when the system cannot
  /// create or watch a timerfd (not expected). Throws nothing of its own.
  [[nodiscard]] static std::unique_ptr<BackupTimer> open(boost::asio::io_context& io,
                                                         std::function<void()> on_fire);
  BackupTimer(const BackupTimer&) = delete;
  BackupTimer& operator=(const BackupTimer&) = delete;

  /// Arms the timer for `at`, replacing the time it had. Throws nothing: a failure (not
  /// expected) is logged.
  void set(Time at) noexcept;
  /// Stops watching the timer: `on_fire` is not called again. Throws boost::system::system_error
  /// when the descriptor cannot be cancelled.
  void cancel();

 private:
  BackupTimer(boost::asio::io_context& io, int fd, std::function<void()> on_fire);
  void await();

  std::function<void()> on_fire_;
  boost::asio::posix::stream_descriptor timer_;  // constructed last: it owns the fd
};

}  // namespace rill::detail
