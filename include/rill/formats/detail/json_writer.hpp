#pragma once

#include <cmath>
#include <string>
#include <type_traits>

#include <fmt/format.h>
#include <boost/json/value_from.hpp>
#include <boost/mp11/algorithm.hpp>

#include "rill/core/format.hpp"
#include "rill/formats/detail/json_document.hpp"
#include "rill/formats/detail/traits.hpp"

/// Writing a C++ value as compact JSON, without building a boost::json::value for the types
/// rill knows.
namespace rill::formats::detail {

template <class T>
concept JsonWritable = std::is_same_v<T, bool> || std::is_arithmetic_v<T> ||
    std::is_convertible_v<const T&, std::string_view> || is_optional<T>::value ||
    is_vector<T>::value || is_string_map<T>::value || Described<T> ||
    boost::json::has_value_from<T>::value;

/// Appends `x` as JSON: described structs as objects with their fields in declaration order
/// (a field that is std::nullopt is left out, as Spark's to_json leaves out nulls), vectors as
/// arrays, maps with string keys as objects, std::nullopt at the top or in an array as null,
/// other types through Boost.JSON's value_from.
template <class T>
void json_write(std::string& out, const T& x) {
  if constexpr (is_optional<T>::value) {
    if (x) {
      json_write(out, *x);
    } else {
      out += "null";
    }
  } else if constexpr (std::is_same_v<T, bool>) {
    out += x ? "true" : "false";
  } else if constexpr (Integer<T>) {
    fmt::format_to(std::back_inserter(out), "{}", x);
  } else if constexpr (std::is_floating_point_v<T>) {
    if (std::isfinite(x)) {
      rill::detail::append_floating(out, x);  // float stays float: 0.1f is 0.1
    } else {
      out += "null";
    }
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    append_json_string(out, std::string_view(x));
  } else if constexpr (is_vector<T>::value) {
    out += '[';
    bool first = true;
    for (const auto& e : x) {
      if (!first) out += ',';
      first = false;
      json_write(out, e);
    }
    out += ']';
  } else if constexpr (is_string_map<T>::value) {
    out += '{';
    bool first = true;
    for (const auto& [k, e] : x) {
      if (!first) out += ',';
      first = false;
      append_json_string(out, k);
      out += ':';
      json_write(out, e);
    }
    out += '}';
  } else if constexpr (Described<T>) {
    out += '{';
    bool first = true;
    boost::mp11::mp_for_each<fields_of<T>>([&](auto d) {
      const auto& field = x.*d.pointer;
      using F = std::remove_cvref_t<decltype(field)>;
      if constexpr (is_optional<F>::value) {
        if (!field) return;
      }
      if (!first) out += ',';
      first = false;
      append_json_string(out, d.name);
      out += ':';
      json_write(out, field);
    });
    out += '}';
  } else if constexpr (boost::json::has_value_from<T>::value) {
    append_json_value(out, boost::json::value_from(x));
  } else {
    static_assert(JsonWritable<T>,
                  "rill::json: T is neither described (BOOST_DESCRIBE_STRUCT) nor convertible "
                  "by Boost.JSON (value_from)");
  }
}

/// One record as save_as_json_files writes it (a line of JSON Lines, without its `\n`).
struct JsonLine {
  template <class T>
  void operator()(std::string& out, const T& x) const {
    json_write(out, x);
  }
};

}  // namespace rill::formats::detail
