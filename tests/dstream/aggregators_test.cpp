// The aggregators of rill::agg and user aggregators: binding to a row type, results, merge
// associativity (a split input aggregated in parts and merged gives the whole), cereal.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <rill/rill.hpp>

namespace {

namespace agg = rill::agg;
using rill::detail::bind_aggregator;

struct Reading {
  std::string sensor;
  rill::Time time;
  double celsius = 0;
  int count = 0;
  std::int16_t small = 0;
  std::uint64_t big = 0;
  float ratio = 0;
};

const std::vector<Reading> kRows = {
    {"s2", rill::Time{1000}, 20.5, 3, 100, 10, 0.5f},
    {"s1", rill::Time{2000}, 22.0, std::numeric_limits<int>::max(), 30000, 20, 0.25f},
    {"s3", rill::Time{1500}, 19.25, std::numeric_limits<int>::max(), 30000, 30, 1.0f},
    {"s1", rill::Time{3000}, 26.0, -4, -7, 40, 2.0f},
};

/// A user's aggregator: the span of event times, as (earliest, latest).
struct TimeSpan {
  struct accumulator {
    std::int64_t lo = std::numeric_limits<std::int64_t>::max();
    std::int64_t hi = std::numeric_limits<std::int64_t>::min();
    bool operator==(const accumulator&) const = default;
    template <class Archive>
    void serialize(Archive& ar) {
      ar(lo, hi);
    }
  };
  accumulator zero() const { return {}; }
  void add(accumulator& a, const Reading& r) const {
    a.lo = std::min(a.lo, r.time.milliseconds());
    a.hi = std::max(a.hi, r.time.milliseconds());
  }
  void merge(accumulator& a, const accumulator& b) const {
    a.lo = std::min(a.lo, b.lo);
    a.hi = std::max(a.hi, b.hi);
  }
  std::pair<std::int64_t, std::int64_t> result(const accumulator& a) const { return {a.lo, a.hi}; }
};

template <class Bound, class It>
typename Bound::accumulator fold(const Bound& b, It first, It last) {
  auto acc = b.zero();
  for (; first != last; ++first)
    b.add(acc, *first);
  return acc;
}

template <class Agg>
auto aggregate(const Agg& a, const std::vector<Reading>& rows = kRows) {
  const auto b = bind_aggregator<Reading>(a);
  return b.result(fold(b, rows.begin(), rows.end()));
}

/// For every split of the rows in two and in three: the parts aggregated apart and merged, in
/// either grouping, give what aggregating all of them gives; zero is neutral on both sides.
template <class Agg, class Eq = std::equal_to<>>
void expect_merge_associative(const Agg& a, Eq eq = {}) {
  const auto b = bind_aggregator<Reading>(a);
  const auto whole = b.result(fold(b, kRows.begin(), kRows.end()));
  const auto n = kRows.size();
  for (std::size_t i = 0; i <= n; ++i) {
    for (std::size_t j = i; j <= n; ++j) {
      SCOPED_TRACE("split at " + std::to_string(i) + " and " + std::to_string(j));
      const auto first = kRows.begin();
      const auto pa = fold(b, first, first + static_cast<std::ptrdiff_t>(i));
      const auto pb =
          fold(b, first + static_cast<std::ptrdiff_t>(i), first + static_cast<std::ptrdiff_t>(j));
      const auto pc = fold(b, first + static_cast<std::ptrdiff_t>(j), kRows.end());
      auto left = pa;  // (a + b) + c
      b.merge(left, pb);
      b.merge(left, pc);
      auto right = pb;  // a + (b + c)
      b.merge(right, pc);
      auto outer = pa;
      b.merge(outer, right);
      EXPECT_TRUE(eq(b.result(left), whole));
      EXPECT_TRUE(eq(b.result(outer), whole));
      auto with_zero = b.zero();
      b.merge(with_zero, left);
      b.merge(with_zero, b.zero());
      EXPECT_TRUE(eq(b.result(with_zero), whole));
    }
  }
}

template <class Agg>
void expect_cereal_round_trip(const Agg& a) {
  const auto b = bind_aggregator<Reading>(a);
  using A = typename decltype(b)::accumulator;
  static_assert(rill::is_serializable_v<A>);
  const A full = fold(b, kRows.begin(), kRows.end());
  A back = b.zero();
  rill::detail::from_bytes(rill::detail::to_bytes(full), back);
  EXPECT_EQ(back, full);
  A empty = fold(b, kRows.begin(), kRows.begin());
  rill::detail::from_bytes(rill::detail::to_bytes(b.zero()), empty);
  EXPECT_EQ(empty, b.zero());
}

TEST(Aggregators, Count) {
  static_assert(std::is_same_v<rill::aggregator_result_t<agg::Count, Reading>, std::int64_t>);
  EXPECT_EQ(aggregate(agg::count()), 4);
  EXPECT_EQ(aggregate(agg::count(), {}), 0);
  expect_merge_associative(agg::count());
  expect_cereal_round_trip(agg::count());
}

TEST(Aggregators, SumWidensSmallIntegers) {
  using rill::aggregator_result_t;
  static_assert(
      std::is_same_v<aggregator_result_t<decltype(agg::sum(&Reading::celsius)), Reading>, double>);
  static_assert(
      std::is_same_v<aggregator_result_t<decltype(agg::sum(&Reading::ratio)), Reading>, float>);
  static_assert(std::is_same_v<aggregator_result_t<decltype(agg::sum(&Reading::count)), Reading>,
                               std::int64_t>);
  static_assert(std::is_same_v<aggregator_result_t<decltype(agg::sum(&Reading::small)), Reading>,
                               std::int64_t>);
  static_assert(std::is_same_v<aggregator_result_t<decltype(agg::sum(&Reading::big)), Reading>,
                               std::uint64_t>);
  const auto unsigned32 = agg::sum([](const Reading&) { return static_cast<std::uint32_t>(3); });
  static_assert(std::is_same_v<aggregator_result_t<decltype(unsigned32), Reading>, std::int64_t>);

  EXPECT_EQ(aggregate(agg::sum(&Reading::celsius)), 87.75);
  // Two INT_MAX rows: no 32-bit overflow.
  EXPECT_EQ(aggregate(agg::sum(&Reading::count)),
            std::int64_t{2} * std::numeric_limits<int>::max() - 1);
  EXPECT_EQ(aggregate(agg::sum(&Reading::small)), 60093);
  EXPECT_EQ(aggregate(agg::sum(&Reading::big)), 100u);
  EXPECT_EQ(aggregate(agg::sum(&Reading::ratio)), 3.75f);
  EXPECT_EQ(aggregate(unsigned32), 12);
  EXPECT_EQ(aggregate(agg::sum([](const Reading& r) { return r.time.milliseconds() / 500; })), 15);
  expect_merge_associative(agg::sum(&Reading::celsius));
  expect_merge_associative(agg::sum(&Reading::count));
  expect_cereal_round_trip(agg::sum(&Reading::count));
}

TEST(Aggregators, Mean) {
  static_assert(
      std::is_same_v<rill::aggregator_result_t<decltype(agg::mean(&Reading::count)), Reading>,
                     double>);
  EXPECT_EQ(aggregate(agg::mean(&Reading::celsius)), 87.75 / 4);
  EXPECT_EQ(aggregate(agg::mean([](const Reading& r) { return r.time.milliseconds(); })), 1875.0);
  EXPECT_TRUE(std::isnan(aggregate(agg::mean(&Reading::celsius), {})));
  expect_merge_associative(agg::mean(&Reading::celsius));
  expect_cereal_round_trip(agg::mean(&Reading::celsius));
}

TEST(Aggregators, MinMaxOfStrings) {
  static_assert(
      std::is_same_v<rill::aggregator_result_t<decltype(agg::min(&Reading::sensor)), Reading>,
                     std::string>);
  static_assert(
      std::is_same_v<rill::aggregator_result_t<decltype(agg::max(&Reading::celsius)), Reading>,
                     double>);
  EXPECT_EQ(aggregate(agg::min(&Reading::sensor)), "s1");
  EXPECT_EQ(aggregate(agg::max(&Reading::sensor)), "s3");
  EXPECT_EQ(aggregate(agg::min(&Reading::celsius)), 19.25);
  EXPECT_EQ(aggregate(agg::max(&Reading::celsius)), 26.0);
  EXPECT_EQ(aggregate(agg::min(&Reading::count)), -4);
  EXPECT_EQ(aggregate(agg::max(&Reading::count)), std::numeric_limits<int>::max());
  // A window has a value only once it has a row: result() of nothing is a usage error.
  EXPECT_THROW(aggregate(agg::min(&Reading::sensor), {}), rill::IllegalState);
  EXPECT_THROW(aggregate(agg::max(&Reading::sensor), {}), rill::IllegalState);
  expect_merge_associative(agg::min(&Reading::sensor));
  expect_merge_associative(agg::max(&Reading::sensor));
  expect_merge_associative(agg::max(&Reading::celsius));
  expect_cereal_round_trip(agg::min(&Reading::sensor));
}

TEST(Aggregators, CollectKeepsBatchThenArrivalOrder) {
  static_assert(
      std::is_same_v<rill::aggregator_result_t<decltype(agg::collect(&Reading::sensor)), Reading>,
                     std::vector<std::string>>);
  EXPECT_EQ(aggregate(agg::collect(&Reading::sensor)),
            (std::vector<std::string>{"s2", "s1", "s3", "s1"}));
  // An earlier batch's accumulator merged with a later one's: the earlier rows first.
  const auto b = bind_aggregator<Reading>(agg::collect(&Reading::celsius));
  auto earlier = b.zero();
  b.add(earlier, kRows[2]);
  b.add(earlier, kRows[0]);
  auto later = b.zero();
  b.add(later, kRows[3]);
  b.add(later, kRows[1]);
  b.merge(earlier, later);
  EXPECT_EQ(b.result(earlier), (std::vector<double>{19.25, 20.5, 26.0, 22.0}));
  expect_merge_associative(agg::collect(&Reading::sensor));
  expect_cereal_round_trip(agg::collect(&Reading::sensor));
}

TEST(Aggregators, Reduce) {
  const auto product = agg::reduce(
      [](const Reading& r) { return static_cast<std::int64_t>(r.big); }, std::multiplies<>{});
  static_assert(
      std::is_same_v<rill::aggregator_result_t<decltype(product), Reading>, std::int64_t>);
  EXPECT_EQ(aggregate(product), 10 * 20 * 30 * 40);
  const auto longest = agg::reduce(&Reading::sensor, [](std::string a, const std::string& b) {
    return b.size() > a.size() || (b.size() == a.size() && b > a) ? b : a;
  });
  EXPECT_EQ(aggregate(longest), "s3");
  EXPECT_THROW(aggregate(product, {}), rill::IllegalState);
  expect_merge_associative(product);
  expect_merge_associative(longest);
  expect_cereal_round_trip(product);
}

TEST(Aggregators, UserAggregatorPassesThrough) {
  static_assert(rill::Aggregator<TimeSpan, Reading>);
  static_assert(!rill::Aggregator<TimeSpan, std::string>);
  static_assert(std::is_same_v<rill::detail::bound_aggregator_t<TimeSpan, Reading>, TimeSpan>);
  static_assert(
      std::is_same_v<rill::aggregator_accumulator_t<TimeSpan, Reading>, TimeSpan::accumulator>);
  EXPECT_EQ(aggregate(TimeSpan{}), (std::pair<std::int64_t, std::int64_t>{1000, 3000}));
  expect_merge_associative(TimeSpan{});
  expect_cereal_round_trip(TimeSpan{});
}

TEST(Aggregators, AllWithAUserAggregatorInside) {
  const auto all = agg::all(agg::count(), agg::mean(&Reading::celsius), TimeSpan{},
                            agg::all(agg::min(&Reading::sensor), agg::collect(&Reading::count)));
  using R = rill::aggregator_result_t<decltype(all), Reading>;
  static_assert(
      std::is_same_v<R, std::tuple<std::int64_t, double, std::pair<std::int64_t, std::int64_t>,
                                   std::tuple<std::string, std::vector<int>>>>);
  const int big = std::numeric_limits<int>::max();
  EXPECT_EQ(aggregate(all),
            (R{4, 87.75 / 4, {1000, 3000}, {"s1", std::vector<int>{3, big, big, -4}}}));
  expect_merge_associative(all);
  expect_cereal_round_trip(all);
}

TEST(Aggregators, BindingChecksTheRowType) {
  struct Other {
    int x;
  };
  static_assert(rill::AggregatorFor<agg::Count, Reading>);
  static_assert(rill::AggregatorFor<decltype(agg::sum(&Reading::celsius)), Reading>);
  static_assert(!rill::AggregatorFor<decltype(agg::sum(&Other::x)), Reading>);
  static_assert(!rill::AggregatorFor<decltype(agg::mean(&Reading::sensor)), Reading>);
  static_assert(!rill::AggregatorFor<decltype(agg::all(agg::count(), TimeSpan{})), Other>);
  static_assert(!rill::AggregatorFor<int, Reading>);
  // A bound built-in is an aggregator itself, and binds to itself.
  using Bound = rill::detail::bound_aggregator_t<decltype(agg::max(&Reading::time)), Reading>;
  static_assert(rill::Aggregator<Bound, Reading>);
  static_assert(std::is_same_v<rill::detail::bound_aggregator_t<Bound, Reading>, Bound>);
  EXPECT_EQ(aggregate(agg::max(&Reading::time)), rill::Time{3000});
}

}  // namespace
