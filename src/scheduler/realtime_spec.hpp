#pragma once

#include <cstdint>
#include <ctime>

#include "rill/core/time.hpp"

namespace rill::detail {

/// A system-clock time (ms since the Unix epoch) as a CLOCK_REALTIME timespec, for absolute
/// futex and timerfd deadlines. Never zero: a zero it_value would disarm a timerfd. Pure, so
/// thread-safe; throws nothing.
[[nodiscard]] inline timespec realtime_spec(Time t) noexcept {
  const std::int64_t ms = t.milliseconds();
  timespec spec{};
  spec.tv_sec = static_cast<time_t>(ms / 1000);
  spec.tv_nsec = static_cast<long>(ms % 1000) * 1'000'000;
  if (ms <= 0) spec.tv_nsec = 1;  // a zero it_value would disarm a timerfd
  return spec;
}

}  // namespace rill::detail
