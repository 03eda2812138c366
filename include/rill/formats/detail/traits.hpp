#pragma once

#include <map>
#include <string>
#include <type_traits>
#include <unordered_map>

#include <boost/describe/members.hpp>
#include <boost/describe/modifiers.hpp>

#include "rill/core/format.hpp"

/// What the record formats need to know of a type.
namespace rill::formats::detail {

/// A struct described with BOOST_DESCRIBE_STRUCT (its public members are the fields).
template <class T>
concept Described =
    std::is_class_v<T> && !std::is_union_v<T> && boost::describe::has_describe_members<T>::value;

/// The fields of a Described T: public data members, bases' first, in declaration order.
template <class T>
using fields_of = boost::describe::describe_members<T, boost::describe::mod_public |
                                                           boost::describe::mod_inherited>;

/// std::optional and std::vector, as the core's formatting knows them.
using rill::detail::is_optional;
using rill::detail::is_vector;

/// std::map / std::unordered_map with std::string keys (a JSON object).
template <class T>
struct is_string_map : std::false_type {};
template <class V, class C, class A>
struct is_string_map<std::map<std::string, V, C, A>> : std::true_type {};
template <class V, class H, class E, class A>
struct is_string_map<std::unordered_map<std::string, V, H, E, A>> : std::true_type {};

/// Integers that are numbers, not characters or bool.
template <class T>
concept Integer = std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char> &&
                  !std::is_same_v<T, wchar_t> && !std::is_same_v<T, char8_t> &&
                  !std::is_same_v<T, char16_t> && !std::is_same_v<T, char32_t>;

}  // namespace rill::formats::detail
