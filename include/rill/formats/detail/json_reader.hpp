#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <fmt/format.h>
#include <boost/json/value.hpp>
#include <boost/json/value_to.hpp>
#include <boost/mp11/algorithm.hpp>

#include "rill/formats/detail/json_document.hpp"
#include "rill/formats/detail/traits.hpp"

/// Reading a boost::json::value into a C++ value, with messages that name the field.
namespace rill::formats::detail {

/// Why a value did not read: the path of the field (`address.city`, `items[2].sku`; empty for
/// the top level) and what was wrong with it.
struct JsonReadError {
  std::string path;
  std::string what;
  bool missing = false;

  void prefix_field(std::string_view name) {
    if (path.empty() || path.front() == '[') {
      path.insert(0, name);
    } else {
      path.insert(0, fmt::format("{}.", name));
    }
  }
  void prefix_index(std::size_t i) {
    if (path.empty() || path.front() == '[') {
      path.insert(0, fmt::format("[{}]", i));
    } else {
      path.insert(0, fmt::format("[{}].", i));
    }
  }
  [[nodiscard]] std::string message() const {
    if (missing) return fmt::format("missing field '{}'", path);
    if (path.empty()) return what;
    return fmt::format("field '{}': {}", path, what);
  }
};

template <class T>
concept JsonReadable = std::is_same_v<T, bool> || std::is_arithmetic_v<T> ||
    std::is_same_v<T, std::string> || is_optional<T>::value || is_vector<T>::value ||
    is_string_map<T>::value || Described<T> || boost::json::has_value_to<T>::value;

inline bool json_mismatch(const boost::json::value& v, std::string_view expected,
                          JsonReadError& err) {
  err.what = fmt::format("expected {}, got {}", expected, json_kind_name(v));
  return false;
}

/// Reads `v` into `out`; on a mismatch returns false and fills `err`. Numbers: an integer field
/// takes a JSON integer in its range (not 1.0); a floating field takes any number. A field of a
/// described struct that is absent is std::nullopt when it is an optional, an error otherwise;
/// unknown members are ignored; `null` only fits an optional.
template <class T>
bool json_read(const boost::json::value& v, T& out, JsonReadError& err) {
  if constexpr (is_optional<T>::value) {
    if (v.is_null()) {
      out.reset();
      return true;
    }
    typename T::value_type inner{};
    if (!json_read(v, inner, err)) return false;
    out = std::move(inner);
    return true;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_bool()) return json_mismatch(v, "true or false", err);
    out = v.get_bool();
    return true;
  } else if constexpr (Integer<T>) {
    if (v.is_int64()) {
      const std::int64_t x = v.get_int64();
      if (!std::in_range<T>(x)) {
        err.what = fmt::format("{} is out of range", x);
        return false;
      }
      out = static_cast<T>(x);
      return true;
    }
    if (v.is_uint64()) {
      const std::uint64_t x = v.get_uint64();
      if (!std::in_range<T>(x)) {
        err.what = fmt::format("{} is out of range", x);
        return false;
      }
      out = static_cast<T>(x);
      return true;
    }
    return json_mismatch(v, "an integer", err);
  } else if constexpr (std::is_floating_point_v<T>) {
    if (v.is_double()) {
      out = static_cast<T>(v.get_double());
    } else if (v.is_int64()) {
      out = static_cast<T>(v.get_int64());
    } else if (v.is_uint64()) {
      out = static_cast<T>(v.get_uint64());
    } else {
      return json_mismatch(v, "a number", err);
    }
    return true;
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!v.is_string()) return json_mismatch(v, "a string", err);
    out.assign(v.get_string().data(), v.get_string().size());
    return true;
  } else if constexpr (is_vector<T>::value) {
    if (!v.is_array()) return json_mismatch(v, "an array", err);
    const auto& a = v.get_array();
    out.clear();
    out.reserve(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      typename T::value_type x{};
      if (!json_read(a[i], x, err)) {
        err.prefix_index(i);
        return false;
      }
      out.push_back(std::move(x));
    }
    return true;
  } else if constexpr (is_string_map<T>::value) {
    if (!v.is_object()) return json_mismatch(v, "an object", err);
    out.clear();
    for (const auto& member : v.get_object()) {
      typename T::mapped_type x{};
      if (!json_read(member.value(), x, err)) {
        err.prefix_field(std::string_view(member.key().data(), member.key().size()));
        return false;
      }
      out.insert_or_assign(std::string(member.key()), std::move(x));
    }
    return true;
  } else if constexpr (Described<T>) {
    if (!v.is_object()) return json_mismatch(v, "an object", err);
    const auto& object = v.get_object();
    bool ok = true;
    boost::mp11::mp_for_each<fields_of<T>>([&](auto d) {
      if (!ok) return;
      auto& field = out.*d.pointer;
      using F = std::remove_cvref_t<decltype(field)>;
      const auto* found = object.if_contains(d.name);
      if (found == nullptr) {
        if constexpr (is_optional<F>::value) {
          field.reset();
        } else {
          err.path = d.name;
          err.missing = true;
          ok = false;
        }
        return;
      }
      if (!json_read(*found, field, err)) {
        err.prefix_field(d.name);
        ok = false;
      }
    });
    return ok;
  } else if constexpr (boost::json::has_value_to<T>::value) {
    try {
      out = boost::json::value_to<T>(v);
      return true;
    } catch (const std::exception& e) {
      err.what = e.what();
      return false;
    }
  } else {
    static_assert(JsonReadable<T>,
                  "rill::json: T is neither described (BOOST_DESCRIBE_STRUCT) nor convertible "
                  "by Boost.JSON (value_to)");
    return false;
  }
}

/// Parses `text` into `out`; false with `reason` set when it is not JSON or does not fit T.
template <class T>
bool json_parse_into(std::string_view text, T& out, std::string& reason) {
  JsonDocument doc;
  if (!doc.parse(text, reason)) return false;
  JsonReadError err;
  if (json_read(doc.root(), out, err)) return true;
  reason = err.message();
  return false;
}

}  // namespace rill::formats::detail
