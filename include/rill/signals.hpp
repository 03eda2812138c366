#pragma once

#include <initializer_list>
#include <memory>

#include "rill/core/config.hpp"

namespace rill {

class StreamingContext;

namespace detail {
class SignalWatch;
}

/// What stop_on_signals() returns: while it lives, the signals stop the context; when it dies
/// (or is reset()), the signals' previous handlers are back. Move-only.
///
/// Destroy it before the context it watches (declare it after the context). Its destructor waits
/// for a stop a signal began to return (bounded by the StopOptions timeout) and never throws.
class SignalStopGuard {
 public:
  SignalStopGuard() noexcept;
  explicit SignalStopGuard(std::unique_ptr<detail::SignalWatch> watch) noexcept;
  SignalStopGuard(SignalStopGuard&& other) noexcept;
  SignalStopGuard& operator=(SignalStopGuard&& other) noexcept;
  SignalStopGuard(const SignalStopGuard&) = delete;
  SignalStopGuard& operator=(const SignalStopGuard&) = delete;
  ~SignalStopGuard();

  /// Restores the previous handlers now (waiting for a stop in progress); does nothing when
  /// already done.
  void reset() noexcept;
  /// The signals received so far (0, 1, 2 ...); thread-safe.
  [[nodiscard]] int signals_received() const noexcept;

 private:
  std::unique_ptr<detail::SignalWatch> watch_;
};

/// Stops `ctx` on the `signals` (default SIGINT and SIGTERM: Ctrl-C, `kill`, a container's
/// stop), as a Spark Streaming driver does with spark.streaming.stopGracefullyOnShutdown: the
/// first signal stops the context with `options` (graceful by default: receivers stop, every
/// batch of what was already received runs and its outputs are written, then
/// await_termination() returns; the timeout bounds the draining as for stop()); a second signal
/// stops it at once (non-graceful: pending batches are dropped, the batch in flight finishes,
/// bounded by the same timeout). Once the stop a signal began has returned, the previous
/// handlers are restored, so a further signal acts as it did before (by default: terminates the
/// process). Otherwise they are restored when the returned guard dies.
///
/// Mechanism: the handler only write()s the signal's number to a non-blocking pipe
/// (async-signal-safe; errno preserved); a thread of the guard reads the pipe, logs the signal
/// (logger `rill`) and calls stop() from a thread of its own, so that a second signal is read
/// while a graceful stop drains. Call it from any thread, before or after start(); with the
/// context's main loop in await_termination().
///
/// Errors: rill::InvalidArgument for an empty list, a signal number out of range, or SIGKILL /
/// SIGSTOP (which cannot be caught); rill::IllegalState while another guard is alive (one at a
/// time per process); rill::IoError when the pipe or a handler cannot be set up (nothing is
/// left installed then).
[[nodiscard]] SignalStopGuard stop_on_signals(StreamingContext& ctx,
                                              std::initializer_list<int> signals,
                                              StopOptions options = {});
/// stop_on_signals(ctx, {SIGINT, SIGTERM}, options).
[[nodiscard]] SignalStopGuard stop_on_signals(StreamingContext& ctx, StopOptions options = {});

}  // namespace rill
