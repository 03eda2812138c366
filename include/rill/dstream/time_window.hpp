#pragma once

#include <algorithm>
#include <compare>
#include <concepts>
#include <cstddef>
#include <iterator>
#include <ostream>
#include <string>
#include <type_traits>
#include <variant>

#include <fmt/format.h>
#include <boost/container_hash/hash.hpp>
#include <cereal/types/variant.hpp>

#include "rill/core/format.hpp"
#include "rill/core/time.hpp"

/// The values of event-time windows: the window itself and one (window, key, value) result of
/// `aggregate_by_window`. Plain values: copy, compare and share them freely across threads.
namespace rill {

/// An event-time window, half-open: it holds the event times t with `start <= t < end`, in
/// milliseconds since the epoch (Spark's `window` struct column of `start` and `end`; Flink's
/// `TimeWindow`, whose end is exclusive too). Ordered by start, then end. Printed `[10000,15000)`
/// by `fmt::format`, `operator<<` and `print()` alike.
struct TimeWindow {
  Time start;
  Time end;

  /// True when the event time `t` lies in the window: `start <= t < end`.
  [[nodiscard]] constexpr bool contains(Time t) const noexcept { return start <= t && t < end; }
  /// The window's length, `end - start`.
  [[nodiscard]] constexpr Duration length() const noexcept { return end - start; }

  constexpr bool operator==(const TimeWindow&) const = default;
  constexpr auto operator<=>(const TimeWindow&) const = default;

  /// cereal serialization (checkpoints): start, then end.
  template <class Archive>
  void serialize(Archive& ar) {
    ar(start, end);
  }
};

/// boost::hash support (found by argument-dependent lookup), so that a TimeWindow or a
/// `std::pair<TimeWindow, K>` keys a `boost::unordered_flat_map`. Stable across runs.
inline std::size_t hash_value(const TimeWindow& w) noexcept {
  std::size_t seed = 0;
  boost::hash_combine(seed, w.start.milliseconds());
  boost::hash_combine(seed, w.end.milliseconds());
  return seed;
}

/// Writes `[start,end)` in milliseconds: `[10000,15000)`.
std::ostream& operator<<(std::ostream& os, const TimeWindow& w);
/// `[start,end)` in milliseconds: `[10000,15000)`.
std::string to_string(const TimeWindow& w);

/// One result of `aggregate_by_window`: the window, the key and the aggregate's value (Spark's
/// row of `window`, the grouping columns and the aggregates). Without a key, K is
/// `std::monostate`. `==` and `<=>` exist when K's and R's do. Printed `([10000,15000),key,value)`,
/// or `([10000,15000),value)` when K is `std::monostate`, key and value formatted as print()
/// formats them (`2.0`, `(a,b)`, `Some(x)`, `[x, y]`).
template <class K, class R>
struct Windowed {
  TimeWindow window;
  K key;
  R value;

  bool operator==(
      const Windowed&) const requires std::equality_comparable<K> && std::equality_comparable<R>
  = default;
  auto operator<=>(
      const Windowed&) const requires std::three_way_comparable<K> && std::three_way_comparable<R>
  = default;

  /// cereal serialization: window, key, value (std::monostate writes nothing).
  template <class Archive>
  void serialize(Archive& ar) {
    ar(window, key, value);
  }
};

namespace detail {

inline void append_window(std::string& out, const TimeWindow& w) {
  fmt::format_to(std::back_inserter(out), "[{},{})", w.start.milliseconds(), w.end.milliseconds());
}

/// `([start,end),key,value)`, or `([start,end),value)` without a key.
template <class K, class R>
void append_windowed(std::string& out, const Windowed<K, R>& w) {
  out += '(';
  append_window(out, w.window);
  if constexpr (!std::is_same_v<K, std::monostate>) {
    out += ',';
    append_value(out, w.key);
  }
  out += ',';
  append_value(out, w.value);
  out += ')';
}

}  // namespace detail

/// Writes `([start,end),key,value)` (no key part when K is `std::monostate`).
template <class K, class R>
std::ostream& operator<<(std::ostream& os, const Windowed<K, R>& w) {
  std::string out;
  detail::append_windowed(out, w);
  return os << out;
}

}  // namespace rill

template <>
struct fmt::formatter<rill::TimeWindow> {
  constexpr auto parse(fmt::format_parse_context& ctx) -> decltype(ctx.begin()) {
    return ctx.begin();
  }
  template <typename FormatContext>
  auto format(const rill::TimeWindow& w, FormatContext& ctx) const -> decltype(ctx.out()) {
    return fmt::format_to(ctx.out(), "[{},{})", w.start.milliseconds(), w.end.milliseconds());
  }
};

template <class K, class R>
struct fmt::formatter<rill::Windowed<K, R>> {
  constexpr auto parse(fmt::format_parse_context& ctx) -> decltype(ctx.begin()) {
    return ctx.begin();
  }
  template <typename FormatContext>
  auto format(const rill::Windowed<K, R>& w, FormatContext& ctx) const -> decltype(ctx.out()) {
    std::string out;
    rill::detail::append_windowed(out, w);
    return std::copy(out.begin(), out.end(), ctx.out());
  }
};
