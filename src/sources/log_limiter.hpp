#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace rill::detail {

/// Rate-limits one kind of log line (as Flink's and Spark's throttled warnings do): the first
/// event of a kind is logged; after it, at most one line per `interval` of real time, which
/// says how many events were not logged since the previous line. Events are counted elsewhere
/// (source_stats()); only the lines are limited. Not thread-safe: one per thread or per kind.
class LogLimiter {
 public:
  using SteadyClock = std::chrono::steady_clock;

  explicit LogLimiter(SteadyClock::duration interval = std::chrono::seconds(10))
      : interval_(interval) {}

  /// One event: the number of events suppressed since the last logged line when this one is to
  /// be logged now, nullopt when it is suppressed.
  [[nodiscard]] std::optional<std::int64_t> allow() { return allow(SteadyClock::now()); }
  /// The same at `now` (for tests).
  [[nodiscard]] std::optional<std::int64_t> allow(SteadyClock::time_point now) {
    if (last_ && now - *last_ < interval_) {
      ++suppressed_;
      return std::nullopt;
    }
    last_ = now;
    const std::int64_t dropped = suppressed_;
    suppressed_ = 0;
    return dropped;
  }

 private:
  SteadyClock::duration interval_;
  std::optional<SteadyClock::time_point> last_;
  std::int64_t suppressed_ = 0;
};

}  // namespace rill::detail
