#pragma once

#include <concepts>
#include <type_traits>
#include <utility>

namespace rill {

namespace detail {
template <class T>
struct is_pair : std::false_type {};
template <class K, class V>
struct is_pair<std::pair<K, V>> : std::true_type {};
}  // namespace detail

/// A stream element that keyed operators accept: `std::pair<K, V>` with K and V neither const nor
/// references. Keyed operators (reduce_by_key, join...) are constrained by it.
template <class T>
concept KeyValue =
    detail::is_pair<T>::value && !std::is_const_v<typename T::first_type> &&
    !std::is_reference_v<typename T::first_type> && !std::is_const_v<typename T::second_type> &&
    !std::is_reference_v<typename T::second_type>;

/// Types a stream can carry: values the engine can copy, move and destroy on any thread.
template <class T>
concept Element =
    std::is_object_v<T> && std::movable<T> && std::copy_constructible<T> && !std::is_const_v<T>;

}  // namespace rill
