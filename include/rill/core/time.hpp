#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <iosfwd>
#include <string>

#include <fmt/format.h>

namespace rill {

/// A length of time. Every call taking a Duration accepts any std::chrono duration that
/// converts to milliseconds exactly (seconds, minutes...); lossy ones do not compile.
using Duration = std::chrono::milliseconds;

/// A batch time: milliseconds on the context's clock. Printed as `1000 ms`, like Spark's Time.
class Time {
 public:
  constexpr Time() = default;
  constexpr explicit Time(std::int64_t ms) : ms_(ms) {}

  [[nodiscard]] constexpr std::int64_t milliseconds() const noexcept { return ms_; }

  constexpr auto operator<=>(const Time&) const = default;

  constexpr Time& operator+=(Duration d) noexcept {
    ms_ += d.count();
    return *this;
  }
  constexpr Time& operator-=(Duration d) noexcept {
    ms_ -= d.count();
    return *this;
  }
  friend constexpr Time operator+(Time t, Duration d) noexcept { return t += d; }
  friend constexpr Time operator+(Duration d, Time t) noexcept { return t += d; }
  friend constexpr Time operator-(Time t, Duration d) noexcept { return t -= d; }
  friend constexpr Duration operator-(Time a, Time b) noexcept { return Duration{a.ms_ - b.ms_}; }

  /// True when this time lies on the grid of `d` (Spark's Time.isMultipleOf).
  [[nodiscard]] constexpr bool is_multiple_of(Duration d) const noexcept {
    return d.count() != 0 && ms_ % d.count() == 0;
  }
  /// cereal serialization (checkpoints).
  template <class Archive>
  void serialize(Archive& ar) {
    ar(ms_);
  }

  /// The largest multiple of `d` not after this time (Spark's Time.floor).
  [[nodiscard]] constexpr Time floor(Duration d) const noexcept {
    const auto q = ms_ / d.count() - ((ms_ % d.count()) < 0 ? 1 : 0);
    return Time{q * d.count()};
  }

 private:
  std::int64_t ms_ = 0;
};

std::ostream& operator<<(std::ostream& os, Time t);
std::string to_string(Time t);

}  // namespace rill

template <>
struct fmt::formatter<rill::Time> : fmt::formatter<std::int64_t> {
  template <typename FormatContext>
  auto format(rill::Time t, FormatContext& ctx) const -> decltype(ctx.out()) {
    return fmt::format_to(ctx.out(), "{} ms", t.milliseconds());
  }
};
