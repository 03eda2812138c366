#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "rill/core/time.hpp"

namespace rill {

/// The source of time for a context: batch ticks, timeouts, rate sources and file ages all read it.
/// Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  /// The current reading, in milliseconds.
  [[nodiscard]] virtual Time now() const = 0;

  /// Internal: a manual clock moves only when told to; timers then watch it instead of sleeping.
  [[nodiscard]] virtual bool is_manual() const noexcept { return false; }
  /// Internal: registers `fn`, called (on the thread that moved the clock) after every change of a
  /// manual clock's reading. Returns a token for remove_observer(). No-op on the system clock.
  virtual std::uint64_t add_observer(std::function<void()> fn);
  virtual void remove_observer(std::uint64_t token);

 protected:
  Clock() = default;
};

/// Wall-clock time: milliseconds since the Unix epoch.
class SystemClock final : public Clock {
 public:
  static std::shared_ptr<SystemClock> create();
  [[nodiscard]] Time now() const override;

 private:
  SystemClock() = default;
};

/// A clock that moves only when advanced, for tests (Spark's ManualClock).
class ManualClock final : public Clock {
 public:
  static std::shared_ptr<ManualClock> create(Time start = Time{0});

  [[nodiscard]] Time now() const override;
  /// Moves the clock forward; `d` must not be negative (rill::InvalidArgument).
  void advance(Duration d);
  /// Sets the reading; it may move backwards, which only makes timers wait longer.
  void set_time(Time t);

  [[nodiscard]] bool is_manual() const noexcept override { return true; }
  std::uint64_t add_observer(std::function<void()> fn) override;
  void remove_observer(std::uint64_t token) override;

 private:
  explicit ManualClock(Time start) : now_(start) {}
  void notify();

  mutable std::mutex mutex_;
  Time now_;
  std::uint64_t next_token_ = 1;
  std::map<std::uint64_t, std::shared_ptr<std::function<void()>>> observers_;
};

}  // namespace rill
