#include "rill/dstream/window_spec.hpp"

#include <numeric>

#include <fmt/format.h>

#include "rill/core/errors.hpp"

namespace rill {

namespace {

void check_size(const char* what, Duration size) {
  if (size.count() <= 0) {
    throw InvalidArgument(
        fmt::format("rill::{}: the window size {} ms must be positive", what, size.count()));
  }
}

void check_offset(const char* what, const char* step_name, Duration offset, Duration step) {
  if (offset.count() <= -step.count() || offset.count() >= step.count()) {
    throw InvalidArgument(fmt::format(
        "rill::{}: offset {} ms must be less than the {} {} ms in absolute value; use an offset "
        "between {} and {} ms",
        what, offset.count(), step_name, step.count(), -(step.count() - 1), step.count() - 1));
  }
}

}  // namespace

TimeWindows::TimeWindows(Duration size, Duration slide, Duration offset) noexcept
    : size_(size), slide_(slide), offset_(offset), pane_(std::gcd(size.count(), slide.count())) {}

std::vector<TimeWindow> TimeWindows::windows(Time t) const {
  std::vector<TimeWindow> out;
  out.reserve(static_cast<std::size_t>(window_count(t)));
  for_each_window(t, [&out](const TimeWindow& w) { out.push_back(w); });
  return out;
}

TimeWindows tumbling(Duration size, Duration offset) {
  check_size("tumbling", size);
  check_offset("tumbling", "window size", offset, size);
  return TimeWindows(size, size, offset);
}

TimeWindows sliding(Duration size, Duration slide, Duration offset) {
  check_size("sliding", size);
  if (slide.count() <= 0) {
    throw InvalidArgument(
        fmt::format("rill::sliding: slide {} ms must be positive (window size {} ms)",
                    slide.count(), size.count()));
  }
  if (slide > size) {
    throw InvalidArgument(
        fmt::format("rill::sliding: slide {} ms must be at most the window size {} ms",
                    slide.count(), size.count()));
  }
  check_offset("sliding", "slide", offset, slide);
  return TimeWindows(size, slide, offset);
}

SessionWindows<Duration> session(Duration gap) {
  if (gap.count() <= 0) {
    throw InvalidArgument(fmt::format("rill::session: gap {} ms must be positive", gap.count()));
  }
  return SessionWindows<Duration>(gap);
}

void merge_sessions(std::vector<TimeWindow>& sessions) {
  merge_sessions(
      sessions, [](TimeWindow& w) -> TimeWindow& { return w; },
      [](TimeWindow& /*into*/, TimeWindow&& /*from*/) {});
}

}  // namespace rill
