#pragma once

#include <concepts>
#include <optional>
#include <ranges>
#include <type_traits>
#include <utility>
#include <vector>

#include "rill/core/batch.hpp"
#include "rill/core/time.hpp"

/// Type helpers of the DStream API: what a callable returns, what a range yields, the steps of
/// the joins.
namespace rill {

namespace detail {
/// The return type of a non-generic callable (update_state_by_key deduces S from it).
template <class F>
struct callable_result : callable_result<decltype(&F::operator())> {};
template <class R, class... A>
struct callable_result<R (*)(A...)> {
  using type = R;
};
template <class R, class C, class... A>
struct callable_result<R (C::*)(A...)> {
  using type = R;
};
template <class R, class C, class... A>
struct callable_result<R (C::*)(A...) const> {
  using type = R;
};
template <class R, class C, class... A>
struct callable_result<R (C::*)(A...) noexcept> {
  using type = R;
};
template <class R, class C, class... A>
struct callable_result<R (C::*)(A...) const noexcept> {
  using type = R;
};

template <class O>
struct optional_value;
template <class S>
struct optional_value<std::optional<S>> {
  using type = S;
};

/// An inverse function, not a duration (tells the reduce_by_key_and_window overloads apart).
template <class F>
concept NotDuration = !std::convertible_to<F, Duration>;
/// f(const Batch<T>&, Time): transform's function.
template <class F, class T>
concept BatchFunction = std::invocable < F&,
        const Batch<T>
&, Time > ;
/// f(const Batch<T>&, const Batch<U>&, Time): transform_with's function.
template <class F, class T, class U>
concept BatchPairFunction = std::invocable < F&,
        const Batch<T>
&, const Batch<U>&, Time > ;

/// S of update_state_by_key: given, or deduced from fn's std::optional<S> return type.
template <class S, class F>
struct state_type {
  using type = S;
};
template <class F>
struct state_type<void, F> {
  using type =
      typename optional_value<std::remove_cvref_t<typename callable_result<F>::type>>::type;
};
template <class S, class F>
using state_type_of = typename state_type<S, F>::type;

/// The element type a range contributes to a stream: its value type (bool, not
/// vector<bool>'s proxy), with the const dropped from a map's pair<const K, V>.
template <class V>
struct stream_element {
  using type = V;
};
template <class K, class V>
struct stream_element<std::pair<const K, V>> {
  using type = std::pair<K, V>;
};
template <class R>
using range_element_t =
    typename stream_element<std::ranges::range_value_t<std::remove_cvref_t<R>>>::type;

template <class V>
struct vector_element;
template <class U, class A>
struct vector_element<std::vector<U, A>> {
  using type = U;
};

/// Emits the pairs of one cogrouped key for an inner or outer join.
template <class K, class V, class W, bool KeepLeft, bool KeepRight>
struct JoinStep {
  using Left = std::conditional_t<KeepRight, std::optional<V>, V>;
  using Right = std::conditional_t<KeepLeft, std::optional<W>, W>;
  using Out = std::pair<K, std::pair<Left, Right>>;

  template <class G, class E>
  void operator()(const G& group, E& emit) {
    const auto& [k, both] = group;
    const auto& [vs, ws] = both;
    if (!vs.empty() && !ws.empty()) {
      for (const auto& v : vs) {
        for (const auto& w : ws)
          emit(Out{k, {Left(v), Right(w)}});
      }
    } else if constexpr (KeepLeft) {
      if (ws.empty()) {
        for (const auto& v : vs)
          emit(Out{k, {Left(v), Right()}});
      }
      if constexpr (KeepRight) {
        if (vs.empty()) {
          for (const auto& w : ws)
            emit(Out{k, {Left(), Right(w)}});
        }
      }
    } else if constexpr (KeepRight) {
      if (vs.empty()) {
        for (const auto& w : ws)
          emit(Out{k, {Left(), Right(w)}});
      }
    }
  }
};
}  // namespace detail

}  // namespace rill
