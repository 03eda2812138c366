// rill::TimeWindow and rill::Windowed: order, hashing, printing as print() prints, cereal.

#include <gtest/gtest.h>

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <boost/unordered/unordered_flat_map.hpp>

#include <rill/rill.hpp>

#include "support/time_windows.hpp"

namespace {

using rill::Time;
using rill::TimeWindow;
using rill::Windowed;

using rill_test::win;

template <class T>
std::string streamed(const T& v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

TEST(TimeWindow, HalfOpenAndOrdered) {
  const auto w = win(10000, 15000);
  EXPECT_TRUE(w.contains(Time{10000}));
  EXPECT_TRUE(w.contains(Time{14999}));
  EXPECT_FALSE(w.contains(Time{15000}));
  EXPECT_FALSE(w.contains(Time{9999}));
  EXPECT_EQ(w.length(), std::chrono::milliseconds(5000));

  std::vector<TimeWindow> v = {win(5, 10), win(0, 10), win(0, 5), win(-5, 0)};
  std::sort(v.begin(), v.end());
  EXPECT_EQ(v, (std::vector<TimeWindow>{win(-5, 0), win(0, 5), win(0, 10), win(5, 10)}));
  EXPECT_NE(win(0, 5), win(0, 6));
}

TEST(TimeWindow, Prints) {
  EXPECT_EQ(fmt::format("{}", win(10000, 15000)), "[10000,15000)");
  EXPECT_EQ(streamed(win(10000, 15000)), "[10000,15000)");
  EXPECT_EQ(rill::to_string(win(-5000, 0)), "[-5000,0)");
  EXPECT_EQ(rill::format_record(win(10000, 15000)), "[10000,15000)");
  EXPECT_EQ(rill::format_record(std::pair{win(0, 5), 2.0}), "([0,5),2.0)");
}

TEST(TimeWindow, KeysAHashMap) {
  EXPECT_EQ(boost::hash<TimeWindow>{}(win(0, 5)), boost::hash<TimeWindow>{}(win(0, 5)));
  EXPECT_NE(boost::hash<TimeWindow>{}(win(0, 5)), boost::hash<TimeWindow>{}(win(5, 0)));
  boost::unordered_flat_map<std::pair<TimeWindow, std::string>, int,
                            boost::hash<std::pair<TimeWindow, std::string>>>
      counts;
  ++counts[{win(0, 5), "a"}];
  ++counts[{win(0, 5), "a"}];
  ++counts[{win(0, 5), "b"}];
  ++counts[{win(5, 10), "a"}];
  EXPECT_EQ(counts.size(), 3u);
  EXPECT_EQ((counts[{win(0, 5), "a"}]), 2);
  // Keyless results are keyed by (window, std::monostate).
  boost::unordered_flat_map<std::pair<TimeWindow, std::monostate>, int,
                            boost::hash<std::pair<TimeWindow, std::monostate>>>
      keyless;
  ++keyless[{win(0, 5), {}}];
  ++keyless[{win(0, 5), {}}];
  EXPECT_EQ(keyless.size(), 1u);
}

TEST(Windowed, PrintsAsPrintDoes) {
  const auto w = win(10000, 15000);
  EXPECT_EQ(fmt::format("{}", Windowed<std::string, double>{w, "s1", 24.5}),
            "([10000,15000),s1,24.5)");
  EXPECT_EQ(fmt::format("{}", Windowed<std::string, double>{w, "s1", 2.0}),
            "([10000,15000),s1,2.0)");
  EXPECT_EQ(rill::format_record(Windowed<std::string, double>{w, "s1", 2.0}),
            "([10000,15000),s1,2.0)");
  EXPECT_EQ(streamed(Windowed<std::string, double>{w, "s1", 2.0}), "([10000,15000),s1,2.0)");
  // Without a key.
  EXPECT_EQ(fmt::format("{}", Windowed<std::monostate, std::int64_t>{w, {}, 3}),
            "([10000,15000),3)");
  EXPECT_EQ(streamed(Windowed<std::monostate, double>{w, {}, 2.0}), "([10000,15000),2.0)");
  // Nested values as print() writes them.
  EXPECT_EQ(
      rill::format_record(Windowed<std::pair<std::string, int>, std::tuple<std::int64_t, double>>{
          win(0, 5000), {"k", 1}, {3, 2.0}}),
      "([0,5000),(k,1),(3,2.0))");
  EXPECT_EQ(rill::format_record(
                Windowed<int, std::vector<std::optional<int>>>{win(0, 5), 7, {{1}, std::nullopt}}),
            "([0,5),7,[Some(1), None])");
  EXPECT_EQ(rill::format_record(std::vector<Windowed<std::monostate, int>>{{win(0, 5), {}, 1}}),
            "[([0,5),1)]");
}

struct NoOrder {
  int x;
};

TEST(Windowed, ComparesWhenKeyAndValueDo) {
  using W = Windowed<std::string, double>;
  std::vector<W> v = {{win(5, 10), "a", 1.0}, {win(0, 5), "b", 2.0}, {win(0, 5), "a", 3.0}};
  std::sort(v.begin(), v.end());
  EXPECT_EQ(v,
            (std::vector<W>{{win(0, 5), "a", 3.0}, {win(0, 5), "b", 2.0}, {win(5, 10), "a", 1.0}}));
  static_assert(std::equality_comparable<Windowed<std::monostate, std::int64_t>>);
  static_assert(std::three_way_comparable<Windowed<std::monostate, std::int64_t>>);
  static_assert(!std::equality_comparable<Windowed<std::string, NoOrder>>);
  static_assert(!std::three_way_comparable<Windowed<NoOrder, int>>);
}

TEST(Windowed, CerealRoundTrip) {
  const auto w = win(-3000, 2000);
  TimeWindow w2;
  rill::detail::from_bytes(rill::detail::to_bytes(w), w2);
  EXPECT_EQ(w2, w);

  const Windowed<std::string, std::vector<double>> x{w, "s1", {1.5, 2.0}};
  Windowed<std::string, std::vector<double>> y;
  rill::detail::from_bytes(rill::detail::to_bytes(x), y);
  EXPECT_EQ(y, x);
  static_assert(rill::is_serializable_v<TimeWindow>);
  static_assert(rill::is_serializable_v<Windowed<std::string, std::int64_t>>);
  static_assert(rill::is_serializable_v<Windowed<std::monostate, std::int64_t>>);
}

}  // namespace
