#pragma once

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "rill/core/time.hpp"
#include "rill/dstream/time_window.hpp"

/// Which event-time windows a row belongs to: tumbling and sliding windows (`rill::tumbling`,
/// `rill::sliding`, Spark's `window(col, size, slide, startTime)`, Flink's
/// `TumblingEventTimeWindows` / `SlidingEventTimeWindows`), and session windows (`rill::session`,
/// Spark's `session_window(col, gap)`, Flink's `EventTimeSessionWindows`). The specs are small
/// immutable values: copy them, and call them from any number of threads at once.
namespace rill {

namespace detail {
/// `a mod m` rounded towards negative infinity, in [0, m), for m > 0 (Python's `%`).
constexpr std::int64_t floor_mod(std::int64_t a, std::int64_t m) noexcept {
  const std::int64_t r = a % m;
  return r < 0 ? r + m : r;
}
}  // namespace detail

class TimeWindows;

/// Tumbling windows of `size` (ms), fixed-size, non-overlapping and gap-free: the windows
/// `[s, s + size)` with `s ≡ offset (mod size)` (Spark's `window(col, size)`, Flink's
/// `TumblingEventTimeWindows.of(size, offset)`). `tumbling(5s, 1s)`: [1000,6000), [6000,11000)...
/// Throws rill::InvalidArgument unless `size > 0` and `|offset| < size`.
TimeWindows tumbling(Duration size, Duration offset = Duration{0});

/// Sliding windows of `size` (ms) starting every `slide` (ms): the windows `[s, s + size)` with
/// `s ≡ offset (mod slide)` (Spark's `window(col, size, slide, startTime)`, Flink's
/// `SlidingEventTimeWindows.of(size, slide, offset)`). `sliding(5s, 2s, 1s)`: [-3000,2000),
/// [-1000,4000), [1000,6000)... Throws rill::InvalidArgument unless `size > 0`,
/// `0 < slide <= size` and `|offset| < slide`.
TimeWindows sliding(Duration size, Duration slide, Duration offset = Duration{0});

/// Tumbling or sliding event-time windows: the windows `[s, s + size)` whose start s satisfies
/// `s ≡ offset (mod slide)`, the modulus taken towards negative infinity, so negative event times
/// and negative offsets work. A row at event time t belongs to every such window that contains t
/// (`s <= t < s + size`): one window when tumbling (`slide == size`), `size / slide` windows when
/// the slide divides the size, and otherwise `ceil(size / slide)` or one fewer depending on t.
/// Spark's `window()` with `startTime` as the offset assigns the same windows; Flink's
/// `SlidingEventTimeWindows.of(size, slide, offset)` too.
///
/// Created by `rill::tumbling` and `rill::sliding`, which validate the durations; all durations
/// are milliseconds. Efficient aggregators pre-aggregate panes: the pane length `pane()` is
/// `gcd(size, slide)`, every window start and end lies on the pane grid (`pane_start`), so all
/// event times of one pane belong to exactly the same windows.
class TimeWindows {
 public:
  /// The window length (ms), > 0.
  [[nodiscard]] Duration size() const noexcept { return size_; }
  /// The distance between consecutive window starts (ms); equals size() when tumbling.
  [[nodiscard]] Duration slide() const noexcept { return slide_; }
  /// The offset as given (ms), with |offset| < slide: window starts are ≡ offset (mod slide).
  [[nodiscard]] Duration offset() const noexcept { return offset_; }
  /// True when `slide == size`: every row is in exactly one window.
  [[nodiscard]] bool is_tumbling() const noexcept { return slide_ == size_; }
  /// The most windows one row can belong to: `ceil(size / slide)`.
  [[nodiscard]] std::int64_t max_windows_per_row() const noexcept {
    return (size_.count() + slide_.count() - 1) / slide_.count();
  }

  /// The start of the last (latest-starting) window containing t: t floored to the grid of
  /// window starts.
  [[nodiscard]] Time last_window_start(Time t) const noexcept {
    return t - Duration{detail::floor_mod(t.milliseconds() - offset_.count(), slide_.count())};
  }
  /// The last window containing t; its end is the largest end of t's windows, so a row
  /// contributes to no window exactly when `last_window(t).end <= watermark`.
  [[nodiscard]] TimeWindow last_window(Time t) const noexcept {
    const Time s = last_window_start(t);
    return TimeWindow{s, s + size_};
  }
  /// The first (earliest-starting) window containing t: the first to close.
  [[nodiscard]] TimeWindow first_window(Time t) const noexcept {
    const Time s = last_window_start(t) - slide_ * (window_count(t) - 1);
    return TimeWindow{s, s + size_};
  }
  /// How many windows contain t (between 1 and max_windows_per_row()).
  [[nodiscard]] std::int64_t window_count(Time t) const noexcept {
    const std::int64_t into_last = (t - last_window_start(t)).count();
    return (size_.count() - into_last + slide_.count() - 1) / slide_.count();
  }

  /// Calls `fn(TimeWindow)` for each window containing t, in ascending start order. Allocates
  /// nothing; the per-row path of window assignment.
  template <class Fn>
  void for_each_window(Time t, Fn&& fn) const {
    const std::int64_t n = window_count(t);
    Time s = last_window_start(t) - slide_ * (n - 1);
    for (std::int64_t i = 0; i < n; ++i, s += slide_)
      fn(TimeWindow{s, s + size_});
  }
  /// Calls `fn(TimeWindow)` for each window containing t that is still open under `watermark`
  /// (`end > watermark`; a row is dropped from a window whose `end <= watermark`, Spark's rule),
  /// in ascending start order, and returns how many it called fn for: 0 means the row is late
  /// for all its windows. Allocates nothing.
  template <class Fn>
  std::int64_t for_each_open_window(Time t, Time watermark, Fn&& fn) const {
    const std::int64_t n = window_count(t);
    const Time last = last_window_start(t);
    Time s = last - slide_ * (n - 1);
    std::int64_t i = 0;
    if (s + size_ <= watermark) {
      if (last + size_ <= watermark) return 0;
      // Skip the windows that ended: ends grow by one slide per window.
      i = ((watermark - (s + size_)).count()) / slide_.count() + 1;
      s += slide_ * i;
    }
    for (std::int64_t k = i; k < n; ++k, s += slide_)
      fn(TimeWindow{s, s + size_});
    return n - i;
  }
  /// The windows containing t, in ascending start order (for tests and diagnostics; the
  /// operators use for_each_window).
  [[nodiscard]] std::vector<TimeWindow> windows(Time t) const;

  /// The pane length, `gcd(size, slide)` (ms): window starts and ends all lie on the pane grid.
  [[nodiscard]] Duration pane() const noexcept { return pane_; }
  /// The start of t's pane: t floored to the grid of multiples of pane() shifted by the offset.
  /// For every t, `for_each_window(pane_start(t), fn)` yields exactly t's windows, so an
  /// aggregator may fold rows into their pane first and each pane into its windows later.
  [[nodiscard]] Time pane_start(Time t) const noexcept {
    return t - Duration{detail::floor_mod(t.milliseconds() - offset_.count(), pane_.count())};
  }

  bool operator==(const TimeWindows&) const = default;

 private:
  friend TimeWindows tumbling(Duration, Duration);
  friend TimeWindows sliding(Duration, Duration, Duration);
  TimeWindows(Duration size, Duration slide, Duration offset) noexcept;

  Duration size_;
  Duration slide_;
  Duration offset_;
  Duration pane_;
};

template <class Gap>
class SessionWindows;

/// Session windows with a fixed gap (Spark's `session_window(col, "10 seconds")`, Flink's
/// `EventTimeSessionWindows.withGap`): a row at event time t starts the session `[t, t + gap)`;
/// within a key, sessions that overlap or touch merge (merge_sessions). Created by
/// `rill::session(gap)`.
template <>
class SessionWindows<Duration> {
 public:
  /// False: every row's gap is gap().
  static constexpr bool dynamic_gap = false;

  /// The gap (ms), > 0.
  [[nodiscard]] Duration gap() const noexcept { return gap_; }
  /// The session a row at event time t starts, `[t, t + gap)`; never empty for a fixed gap.
  template <class T>
  [[nodiscard]] std::optional<TimeWindow> session_of(const T& /*row*/, Time t) const noexcept {
    return TimeWindow{t, t + gap_};
  }

  bool operator==(const SessionWindows&) const = default;

 private:
  friend SessionWindows session(Duration gap);
  explicit SessionWindows(Duration gap) noexcept : gap_(gap) {}

  Duration gap_;
};

/// Session windows whose gap each row gives (Spark's `session_window(col, gapExpr)`, Flink's
/// `EventTimeSessionWindows.withDynamicGap`): `gap_of(const T&) -> Duration` (any callable or
/// member pointer, called through std::invoke, returning a duration that converts to ms
/// exactly). A row at t starts `[t, t + gap_of(row))`; a row whose gap is <= 0 starts no session:
/// the operator drops it and counts it as late (as Spark drops rows whose gap is not positive).
/// Created by `rill::session(gap_of)`; gap_of must be callable from several threads at once.
template <class GapOf>
class SessionWindows {
 public:
  /// True: the gap comes from each row.
  static constexpr bool dynamic_gap = true;

  explicit SessionWindows(GapOf gap_of) : gap_of_(std::move(gap_of)) {}

  /// The callable that gives a row's gap.
  [[nodiscard]] const GapOf& gap_of() const noexcept { return gap_of_; }
  /// The session a row at event time t starts, `[t, t + gap_of(row))`, or std::nullopt when its
  /// gap is <= 0 (the row is dropped as late).
  template <class T>
  requires std::invocable<const GapOf&, const T&> &&
      std::convertible_to<std::invoke_result_t<const GapOf&, const T&>, Duration>
  [[nodiscard]] std::optional<TimeWindow> session_of(const T& row, Time t) const {
    const Duration gap = std::invoke(gap_of_, row);
    if (gap.count() <= 0) return std::nullopt;
    return TimeWindow{t, t + gap};
  }

 private:
  GapOf gap_of_;
};

namespace detail {
template <class T>
struct is_chrono_duration : std::false_type {};
template <class Rep, class Period>
struct is_chrono_duration<std::chrono::duration<Rep, Period>> : std::true_type {};

template <class S>
struct is_session_windows : std::false_type {};
template <class Gap>
struct is_session_windows<SessionWindows<Gap>> : std::true_type {};
}  // namespace detail

/// True for the specs of rill::session, false for those of rill::tumbling and rill::sliding.
template <class Spec>
inline constexpr bool is_session_windows_v =
    detail::is_session_windows<std::remove_cvref_t<Spec>>::value;

/// A window spec that can place rows of type T: TimeWindows, or SessionWindows whose gap
/// applies to T.
template <class Spec, class T>
concept WindowSpecFor = std::same_as<std::remove_cvref_t<Spec>, TimeWindows> ||
    (is_session_windows_v<Spec>&& requires(const std::remove_cvref_t<Spec>& s, const T& row) {
      { s.session_of(row, Time{}) } -> std::same_as<std::optional<TimeWindow>>;
    });

/// Session windows with the fixed `gap` (ms). Throws rill::InvalidArgument when `gap <= 0`.
SessionWindows<Duration> session(Duration gap);

/// Session windows with a per-row gap, `gap_of(const T&) -> Duration` (see SessionWindows).
template <class GapOf>
requires(!detail::is_chrono_duration<std::remove_cvref_t<GapOf>>::value &&
         !std::is_arithmetic_v<std::remove_cvref_t<GapOf>> &&
         std::copy_constructible<std::decay_t<GapOf>>)
    SessionWindows<std::decay_t<GapOf>> session(GapOf&& gap_of) {
  return SessionWindows<std::decay_t<GapOf>>(std::forward<GapOf>(gap_of));
}

/// Merges one key's sessions in place, Spark's and Flink's session merging: sessions that
/// overlap or touch (`next.start <= current.end` in start order) become one session from the
/// smallest start to the largest end, repeatedly, so a late row can bridge two stored sessions.
/// `sessions` may be in any order; the usual call puts the key's stored sessions (sorted by
/// start) first and then the batch's new ones in arrival order. `window_of(S&) -> TimeWindow&`
/// gives an element's window; `combine(S& into, S&& from)` folds one element into another (the
/// accumulators). In each merged group, the element with the lowest index receives the others,
/// in index order: stored sessions in start order, then new rows in arrival order. Afterwards
/// `sessions` holds the merged sessions, sorted by start, pairwise neither overlapping nor
/// touching. Allocates two vectors of the size of `sessions` when it holds more than one element.
template <class S, class WindowOf, class Combine>
void merge_sessions(std::vector<S>& sessions, WindowOf&& window_of, Combine&& combine) {
  const std::size_t n = sessions.size();
  if (n < 2) return;
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const Time sa = window_of(sessions[a]).start;
    const Time sb = window_of(sessions[b]).start;
    return sa < sb || (sa == sb && a < b);
  });
  std::vector<S> merged;
  merged.reserve(n);
  std::size_t first = 0;
  while (first < n) {
    // The group [first, last) of `order`: each starts at or before the running end.
    Time end = window_of(sessions[order[first]]).end;
    std::size_t last = first + 1;
    while (last < n && window_of(sessions[order[last]]).start <= end) {
      end = std::max(end, window_of(sessions[order[last]]).end);
      ++last;
    }
    const Time start = window_of(sessions[order[first]]).start;
    std::sort(order.begin() + static_cast<std::ptrdiff_t>(first),
              order.begin() + static_cast<std::ptrdiff_t>(last));
    S& into = sessions[order[first]];
    for (std::size_t j = first + 1; j < last; ++j)
      combine(into, std::move(sessions[order[j]]));
    window_of(into) = TimeWindow{start, end};
    merged.push_back(std::move(into));
    first = last;
  }
  sessions = std::move(merged);
}

/// merge_sessions for bare windows: `[0,5) [5,8) [20,25)` becomes `[0,8) [20,25)`.
void merge_sessions(std::vector<TimeWindow>& sessions);

}  // namespace rill
