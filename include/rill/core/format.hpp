#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

/// How print() and save_as_text_files() write records, as Spark writes them: numbers as fmt
/// prints them, a whole floating value with `.0`; strings bare; pairs and tuples as `(a,b)`;
/// std::optional as `Some(x)` / `None`; vectors as `[x, y]`; other types through their
/// fmt::formatter.
namespace rill {

namespace detail {

template <class T>
struct is_tuple_like : std::false_type {};
template <class A, class B>
struct is_tuple_like<std::pair<A, B>> : std::true_type {};
template <class... Ts>
struct is_tuple_like<std::tuple<Ts...>> : std::true_type {};

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};

void append_floating(std::string& out, float v);
void append_floating(std::string& out, double v);
void append_floating(std::string& out, long double v);

template <class T>
void append_value(std::string& out, const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    out += v ? "true" : "false";
  } else if constexpr (std::is_same_v<T, char>) {
    out += v;
  } else if constexpr (std::is_floating_point_v<T>) {
    append_floating(out, v);
  } else if constexpr (std::is_arithmetic_v<T>) {
    fmt::format_to(std::back_inserter(out), "{}", v);
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    out += std::string_view(v);
  } else if constexpr (is_tuple_like<T>::value) {
    out += '(';
    std::apply(
        [&out](const auto&... xs) {
          bool first = true;
          ((out += first ? "" : ",", first = false, append_value(out, xs)), ...);
        },
        v);
    out += ')';
  } else if constexpr (is_optional<T>::value) {
    if (v) {
      out += "Some(";
      append_value(out, *v);
      out += ')';
    } else {
      out += "None";
    }
  } else if constexpr (is_vector<T>::value) {
    out += '[';
    bool first = true;
    for (const auto& x : v) {
      if (!first) out += ", ";
      first = false;
      append_value(out, x);
    }
    out += ']';
  } else {
    fmt::format_to(std::back_inserter(out), "{}", v);
  }
}

}  // namespace detail

/// One record as print() and save_as_text_files() write it.
template <class T>
std::string format_record(const T& value) {
  std::string out;
  detail::append_value(out, value);
  return out;
}

}  // namespace rill
