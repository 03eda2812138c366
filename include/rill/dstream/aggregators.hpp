#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "rill/core/errors.hpp"
#include "rill/core/serialization.hpp"

/// Aggregators for `aggregate_by_window`: how the rows of one (window, key) fold into a value.
/// An aggregator is Spark's `Aggregator[IN, BUF, OUT]` and Flink's `AggregateFunction<IN, ACC,
/// OUT>`: an accumulator created empty (`zero`), rows added one at a time (`add`), accumulators of
/// disjoint parts merged (`merge`, which must be associative and must keep `zero` neutral:
/// aggregating a split input in two accumulators and merging them gives what aggregating all of
/// it gives), and a result read from the accumulator (`result`). Accumulators are checkpointed,
/// through cereal (see rill/core/serialization.hpp): they serialize when their parts do.
///
/// A user's aggregator for rows of type T is any copyable type with
///
///   using accumulator = A;
///   A zero() const;
///   void add(A&, const T&) const;
///   void merge(A&, const A&) const;
///   R result(const A&) const;
///
/// (the concept `rill::Aggregator<Agg, T>`). The built-ins in `rill::agg` do not know T when they
/// are created (`rill::agg::sum(&Reading::celsius)`); the operator binds them to its row type
/// with `rill::detail::bind_aggregator<T>(agg)`, which gives an aggregator with the five members
/// and passes a user's aggregator through unchanged. The members are called directly (no virtual
/// call, no std::function): add() inlines into the operator's loop. The aggregators are
/// immutable: one object may be used from several threads at once, each with its own
/// accumulators, provided the user's callables may.
namespace rill {

/// A type with the five members of an aggregator for rows of type T (see the file comment).
template <class Agg, class T>
concept Aggregator = std::copy_constructible<Agg> && requires {
  typename Agg::accumulator;
} && std::copyable<typename Agg::accumulator> &&
    requires(const Agg& agg, typename Agg::accumulator& acc, const typename Agg::accumulator& other,
             const T& row) {
  { agg.zero() } -> std::convertible_to<typename Agg::accumulator>;
  agg.add(acc, row);
  agg.merge(acc, other);
  agg.result(other);
  requires !std::is_void_v<decltype(agg.result(other))>;
};

namespace detail {

/// A built-in aggregator of rill::agg, which binds to a row type T (`agg.template bind<T>()`).
template <class Agg, class T>
concept BindableBuiltin = requires(const Agg& agg) {
  { agg.template bind<T>() } -> Aggregator<T>;
};

/// Agg bound to rows of type T: a user's aggregator as it is, a built-in bound to T.
template <class T, class Agg>
requires Aggregator<std::remove_cvref_t<Agg>, T> || BindableBuiltin<std::remove_cvref_t<Agg>, T>
auto bind_aggregator(Agg&& agg) {
  if constexpr (Aggregator<std::remove_cvref_t<Agg>, T>) {
    return std::remove_cvref_t<Agg>(std::forward<Agg>(agg));
  } else {
    return agg.template bind<T>();
  }
}

}  // namespace detail

/// An aggregator for rows of type T, or a built-in of rill::agg that binds to T:
/// what aggregate_by_window accepts.
template <class Agg, class T>
concept AggregatorFor =
    Aggregator<std::remove_cvref_t<Agg>, T> || detail::BindableBuiltin<std::remove_cvref_t<Agg>, T>;

namespace detail {
/// The aggregator `bind_aggregator<T>(Agg)` returns.
template <class Agg, class T>
requires AggregatorFor<Agg, T>
using bound_aggregator_t = decltype(bind_aggregator<T>(std::declval<const Agg&>()));
}  // namespace detail

/// The accumulator of Agg for rows of type T (what is kept per (window, key) and checkpointed).
template <class Agg, class T>
requires AggregatorFor<Agg, T>
using aggregator_accumulator_t = typename detail::bound_aggregator_t<Agg, T>::accumulator;

/// The result of Agg for rows of type T (the `value` of each `Windowed`).
template <class Agg, class T>
requires AggregatorFor<Agg, T>
using aggregator_result_t =
    std::remove_cvref_t<decltype(std::declval<const detail::bound_aggregator_t<Agg, T>&>().result(
        std::declval<const aggregator_accumulator_t<Agg, T>&>()))>;

/// The built-in aggregators, Spark's `count`, `sum`, `avg`, `min`, `max`, `collect_list` and a
/// general `reduce`, plus `all` to compute several at once. `f` is any callable or member pointer
/// on the row type, called through std::invoke (`&Reading::celsius`, a lambda).
namespace agg {

namespace detail {

/// f's result on a row of type T, without reference or const.
template <class F, class T>
using value_t = std::remove_cvref_t<std::invoke_result_t<const F&, const T&>>;

/// sum's accumulator and result: integers of fewer than 64 bits widen to std::int64_t.
template <class V>
using sum_t = std::conditional_t<std::is_integral_v<V> && (sizeof(V) < sizeof(std::int64_t)),
                                 std::int64_t, V>;

/// The accumulator of mean: the sum and the number of rows.
struct MeanAccumulator {
  double sum = 0.0;
  std::int64_t count = 0;

  bool operator==(const MeanAccumulator&) const = default;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(sum, count);
  }
};

[[noreturn]] inline void throw_empty(const char* what) {
  throw IllegalState(std::string("rill::agg::") + what +
                     ": result() of an empty accumulator; a window has a value only once it "
                     "has a row");
}

/// count() bound to T.
template <class T>
struct BoundCount {
  using accumulator = std::int64_t;
  accumulator zero() const noexcept { return 0; }
  void add(accumulator& acc, const T& /*row*/) const noexcept { ++acc; }
  void merge(accumulator& acc, const accumulator& other) const noexcept { acc += other; }
  std::int64_t result(const accumulator& acc) const noexcept { return acc; }
};

/// sum(f) bound to T.
template <class T, class F>
struct BoundSum {
  using accumulator = sum_t<value_t<F, T>>;
  F f;
  accumulator zero() const { return accumulator{}; }
  void add(accumulator& acc, const T& row) const {
    acc += static_cast<accumulator>(std::invoke(f, row));
  }
  void merge(accumulator& acc, const accumulator& other) const { acc += other; }
  accumulator result(const accumulator& acc) const { return acc; }
};

/// mean(f) bound to T.
template <class T, class F>
struct BoundMean {
  using accumulator = MeanAccumulator;
  F f;
  accumulator zero() const noexcept { return {}; }
  void add(accumulator& acc, const T& row) const {
    acc.sum += static_cast<double>(std::invoke(f, row));
    ++acc.count;
  }
  void merge(accumulator& acc, const accumulator& other) const noexcept {
    acc.sum += other.sum;
    acc.count += other.count;
  }
  /// The mean; NaN for an empty accumulator (a window has a value only once it has a row).
  double result(const accumulator& acc) const noexcept {
    return acc.count == 0 ? std::numeric_limits<double>::quiet_NaN()
                          : acc.sum / static_cast<double>(acc.count);
  }
};

/// min(f) (Max false) or max(f) (Max true) bound to T, by `<`; keeps the first of equal
/// extremes.
template <class T, class F, bool Max>
struct BoundExtreme {
  using value = value_t<F, T>;
  using accumulator = std::optional<value>;
  F f;
  accumulator zero() const noexcept { return std::nullopt; }
  void add(accumulator& acc, const T& row) const { offer(acc, std::invoke(f, row)); }
  void merge(accumulator& acc, const accumulator& other) const {
    if (other) offer(acc, *other);
  }
  /// The extreme value; throws rill::IllegalState for an empty accumulator.
  value result(const accumulator& acc) const {
    if (!acc) throw_empty(Max ? "max" : "min");
    return *acc;
  }

 private:
  template <class V>
  static void offer(accumulator& acc, V&& v) {
    if (!acc || (Max ? *acc < v : v < *acc)) acc = std::forward<V>(v);
  }
};

/// collect(f) bound to T.
template <class T, class F>
struct BoundCollect {
  using accumulator = std::vector<value_t<F, T>>;
  F f;
  accumulator zero() const { return {}; }
  void add(accumulator& acc, const T& row) const { acc.push_back(std::invoke(f, row)); }
  void merge(accumulator& acc, const accumulator& other) const {
    acc.insert(acc.end(), other.begin(), other.end());
  }
  accumulator result(const accumulator& acc) const { return acc; }
};

/// reduce(f, combine) bound to T.
template <class T, class F, class C>
struct BoundReduce {
  using value = value_t<F, T>;
  using accumulator = std::optional<value>;
  F f;
  C combine;
  accumulator zero() const noexcept { return std::nullopt; }
  void add(accumulator& acc, const T& row) const { offer(acc, std::invoke(f, row)); }
  void merge(accumulator& acc, const accumulator& other) const {
    if (other) offer(acc, *other);
  }
  /// The reduced value; throws rill::IllegalState for an empty accumulator.
  value result(const accumulator& acc) const {
    if (!acc) throw_empty("reduce");
    return *acc;
  }

 private:
  template <class V>
  void offer(accumulator& acc, V&& v) const {
    if (acc) {
      acc = static_cast<value>(std::invoke(combine, std::move(*acc), std::forward<V>(v)));
    } else {
      acc = std::forward<V>(v);
    }
  }
};

/// all(a, b, ...) bound to T: each part bound to T, one accumulator each.
template <class T, class... Bound>
struct BoundAll {
  using accumulator = std::tuple<typename Bound::accumulator...>;
  std::tuple<Bound...> parts;
  accumulator zero() const {
    return std::apply([](const Bound&... p) { return accumulator(p.zero()...); }, parts);
  }
  void add(accumulator& acc, const T& row) const {
    add_parts(acc, row, std::index_sequence_for<Bound...>{});
  }
  void merge(accumulator& acc, const accumulator& other) const {
    merge_parts(acc, other, std::index_sequence_for<Bound...>{});
  }
  auto result(const accumulator& acc) const {
    return result_parts(acc, std::index_sequence_for<Bound...>{});
  }

 private:
  template <std::size_t... I>
  void add_parts(accumulator& acc, const T& row, std::index_sequence<I...>) const {
    (std::get<I>(parts).add(std::get<I>(acc), row), ...);
  }
  template <std::size_t... I>
  void merge_parts(accumulator& acc, const accumulator& other, std::index_sequence<I...>) const {
    (std::get<I>(parts).merge(std::get<I>(acc), std::get<I>(other)), ...);
  }
  template <std::size_t... I>
  auto result_parts(const accumulator& acc, std::index_sequence<I...>) const {
    return std::tuple<
        std::remove_cvref_t<decltype(std::get<I>(parts).result(std::get<I>(acc)))>...>(
        std::get<I>(parts).result(std::get<I>(acc))...);
  }
};

}  // namespace detail

/// The number of rows (`std::int64_t`), Spark's `count(*)`. Binds to any row type.
struct Count {
  template <class T>
  detail::BoundCount<T> bind() const noexcept {
    return {};
  }
};

/// The sum of f(row): f's result type, except that integers of fewer than 64 bits widen to
/// `std::int64_t` (Spark sums ints as longs); floating types stay. Overflow of a 64-bit integer
/// sum is the caller's (as in Spark's non-ANSI mode, it wraps for unsigned types and is undefined
/// for signed ones).
template <class F>
struct Sum {
  F f;
  template <class T>
  requires std::invocable<const F&, const T&> && requires(detail::sum_t<detail::value_t<F, T>> s) {
    s += static_cast<detail::sum_t<detail::value_t<F, T>>>(
        std::invoke(std::declval<const F&>(), std::declval<const T&>()));
  }
  detail::BoundSum<T, F> bind() const { return {f}; }
};

/// The arithmetic mean of f(row) as a `double` (Spark's `avg`): the sum as a double over the
/// count.
template <class F>
struct Mean {
  F f;
  template <class T>
  requires std::invocable<const F&, const T&> &&
      std::convertible_to < std::invoke_result_t<const F&, const T&>,
  double > detail::BoundMean<T, F> bind() const { return {f}; }
};

/// The smallest f(row) by `<` (f's result type, e.g. a std::string); the first of equal ones.
template <class F>
struct Min {
  F f;
  template <class T>
  requires std::invocable<const F&, const T&> && std::totally_ordered<detail::value_t<F, T>> &&
      std::copyable<detail::value_t<F, T>>
          detail::BoundExtreme<T, F, false> bind()
  const { return {f}; }
};

/// The largest f(row) by `<` (f's result type); the first of equal ones.
template <class F>
struct Max {
  F f;
  template <class T>
  requires std::invocable<const F&, const T&> && std::totally_ordered<detail::value_t<F, T>> &&
      std::copyable<detail::value_t<F, T>>
          detail::BoundExtreme<T, F, true> bind()
  const { return {f}; }
};

/// Every f(row), as a `std::vector` (Spark's `collect_list`): in batch order, then arrival order
/// within a batch (merge(a, b) appends b's values after a's).
template <class F>
struct Collect {
  F f;
  template <class T>
  requires std::invocable<const F&, const T&> && std::copyable<detail::value_t<F, T>>
      detail::BoundCollect<T, F> bind()
  const { return {f}; }
};

/// f(row) folded with `combine(R, R) -> R` (associative and commutative, as reduce_by_key's
/// function): R is f's result type.
template <class F, class C>
struct Reduce {
  F f;
  C combine;
  template <class T>
  requires std::invocable<const F&, const T&> && std::copyable<detail::value_t<F, T>> &&
      std::convertible_to < std::invoke_result_t < const C&,
      detail::value_t<F, T>,
  const detail::value_t<F, T>& >, detail::value_t < F,
      T >> detail::BoundReduce<T, F, C> bind() const {
    return {f, combine};
  }
};

/// Several aggregators at once: their results as a `std::tuple`, in order.
template <class... Aggs>
struct All {
  std::tuple<Aggs...> parts;
  template <class T>
  requires(AggregatorFor<Aggs, T>&&...)
      detail::BoundAll<T, rill::detail::bound_aggregator_t<Aggs, T>...> bind()
  const {
    return std::apply(
        [](const Aggs&... p) {
          return detail::BoundAll<T, rill::detail::bound_aggregator_t<Aggs, T>...>{
              std::tuple<rill::detail::bound_aggregator_t<Aggs, T>...>(
                  rill::detail::bind_aggregator<T>(p)...)};
        },
        parts);
  }
};

/// The number of rows, `std::int64_t`.
constexpr Count count() noexcept {
  return {};
}
/// The sum of f(row) (see Sum).
template <class F>
Sum<std::decay_t<F>> sum(F&& f) {
  return {std::forward<F>(f)};
}
/// The mean of f(row) as a double (see Mean).
template <class F>
Mean<std::decay_t<F>> mean(F&& f) {
  return {std::forward<F>(f)};
}
/// The smallest f(row) (see Min).
template <class F>
Min<std::decay_t<F>> min(F&& f) {
  return {std::forward<F>(f)};
}
/// The largest f(row) (see Max).
template <class F>
Max<std::decay_t<F>> max(F&& f) {
  return {std::forward<F>(f)};
}
/// Every f(row) in order (see Collect).
template <class F>
Collect<std::decay_t<F>> collect(F&& f) {
  return {std::forward<F>(f)};
}
/// f(row) folded with combine (see Reduce).
template <class F, class C>
Reduce<std::decay_t<F>, std::decay_t<C>> reduce(F&& f, C&& combine) {
  return {std::forward<F>(f), std::forward<C>(combine)};
}
/// Several aggregators, built-in or a user's, at once (see All).
template <class... Aggs>
requires(sizeof...(Aggs) > 0) All<std::decay_t<Aggs>...> all(Aggs&&... aggs) {
  return {std::tuple<std::decay_t<Aggs>...>(std::forward<Aggs>(aggs)...)};
}

}  // namespace agg

}  // namespace rill
