#pragma once

#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#include <fmt/format.h>
#include <boost/mp11/algorithm.hpp>

#include "rill/core/format.hpp"
#include "rill/formats/detail/csv_codec.hpp"
#include "rill/formats/detail/traits.hpp"
#include "rill/formats/detail/utf8.hpp"

/// The fields of a CSV record as C++ scalars: reading one from its text, writing one.
namespace rill::formats::detail {

template <class F>
struct csv_scalar
    : std::bool_constant<std::is_same_v<F, bool> || Integer<F> || std::is_floating_point_v<F> ||
                         std::is_same_v<F, std::string>> {};
template <class F>
struct csv_scalar<std::optional<F>> : csv_scalar<F> {};

template <class M>
struct member_type;
template <class C, class F>
struct member_type<F C::*> {
  using type = F;
};

template <class D>
using csv_field_ok = csv_scalar<
    std::remove_cv_t<typename member_type<std::remove_cv_t<decltype(D::pointer)>>::type>>;

/// A described struct whose fields are all CSV scalars: bool, integers, floating point,
/// std::string, or std::optional of one of them.
template <class T>
concept CsvRecordType = Described<T> && boost::mp11::mp_all_of<fields_of<T>, csv_field_ok>::value;

inline bool csv_equal_ignoring_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

/// Reads one field's text into `out`; false with `what` set. An unquoted empty field is
/// std::nullopt for an optional, an error for a number or bool, "" for a string.
template <class F>
bool csv_read_field(std::string_view text, bool quoted, F& out, std::string& what) {
  if constexpr (is_optional<F>::value) {
    if (text.empty() && !quoted) {
      out.reset();
      return true;
    }
    typename F::value_type inner{};
    if (!csv_read_field(text, quoted, inner, what)) return false;
    out = std::move(inner);
    return true;
  } else if constexpr (std::is_same_v<F, std::string>) {
    out.assign(text);
    return true;
  } else if constexpr (std::is_same_v<F, bool>) {
    if (csv_equal_ignoring_case(text, "true")) {
      out = true;
    } else if (csv_equal_ignoring_case(text, "false")) {
      out = false;
    } else {
      what = fmt::format("expected true or false, got '{}'", text);
      return false;
    }
    return true;
  } else {
    static_assert(Integer<F> || std::is_floating_point_v<F>);
    const char* first = text.data();
    const char* last = text.data() + text.size();
    if (!text.empty() && text.front() == '+') ++first;  // from_chars takes no '+'
    std::from_chars_result r{};
    if constexpr (Integer<F>) {
      r = std::from_chars(first, last, out);
    } else {
      r = std::from_chars(first, last, out, std::chars_format::general);
    }
    if (r.ec == std::errc::result_out_of_range) {
      what = fmt::format("'{}' is out of range", text);
      return false;
    }
    if (r.ec != std::errc{} || r.ptr != last || text.empty()) {
      what = fmt::format("expected {}, got '{}'", Integer<F> ? "an integer" : "a number", text);
      return false;
    }
    return true;
  }
}

/// Appends one field: std::nullopt as an empty field, "" as `""`, a whole floating value with
/// `.0`, NaN and infinities as Spark writes them (`NaN`, `Infinity`, `-Infinity`).
template <class F>
void csv_write_field(std::string& out, const F& x) {
  if constexpr (is_optional<F>::value) {
    if (x) csv_write_field(out, *x);
  } else if constexpr (std::is_same_v<F, std::string>) {
    append_csv_field(out, x, true);
  } else if constexpr (std::is_same_v<F, bool>) {
    out += x ? "true" : "false";
  } else if constexpr (std::is_floating_point_v<F>) {
    if (std::isnan(x)) {
      out += "NaN";
    } else if (std::isinf(x)) {
      out += x > 0 ? "Infinity" : "-Infinity";
    } else {
      rill::detail::append_floating(out, x);
    }
  } else {
    fmt::format_to(std::back_inserter(out), "{}", x);
  }
}

/// The header line of T: its field names, comma-separated.
template <CsvRecordType T>
std::string csv_header() {
  std::string out;
  boost::mp11::mp_for_each<fields_of<T>>([&](auto d) {
    if (!out.empty()) out += ',';
    append_csv_field(out, d.name, false);
  });
  return out;
}

/// Parses one record into `out` with `record` as scratch; false with `reason` set.
template <CsvRecordType T>
bool csv_parse_into(std::string_view text, T& out, CsvRecord& record, std::string& reason) {
  if (const auto bad = first_invalid_utf8(text)) {
    reason = fmt::format("invalid UTF-8 at byte {}", *bad);
    return false;
  }
  if (!record.split(text, reason)) return false;
  constexpr std::size_t n = boost::mp11::mp_size<fields_of<T>>::value;
  if (record.size() != n) {
    reason = fmt::format("expected {} fields ({}), got {}", n, csv_header<T>(), record.size());
    return false;
  }
  std::size_t i = 0;
  bool ok = true;
  boost::mp11::mp_for_each<fields_of<T>>([&](auto d) {
    if (!ok) return;
    std::string what;
    if (!csv_read_field(record.field(i), record.quoted(i), out.*d.pointer, what)) {
      reason = fmt::format("field '{}': {}", d.name, what);
      ok = false;
    }
    ++i;
  });
  return ok;
}

/// Appends `x` as one record, without a line break.
template <CsvRecordType T>
void csv_write(std::string& out, const T& x) {
  bool first = true;
  boost::mp11::mp_for_each<fields_of<T>>([&](auto d) {
    if (!first) out += ',';
    first = false;
    csv_write_field(out, x.*d.pointer);
  });
}

/// One record as save_as_csv_files writes it (without its `\n`).
struct CsvLine {
  template <class T>
  void operator()(std::string& out, const T& x) const {
    csv_write(out, x);
  }
};

}  // namespace rill::formats::detail
