#pragma once

#include <string>
#include <string_view>

#include "rill/core/errors.hpp"
#include "rill/formats/detail/json_reader.hpp"
#include "rill/formats/detail/json_writer.hpp"

/// JSON records (docs/formats.md), as Spark's from_json / to_json read and write a struct
/// column: one JSON value per record.
///
/// Types: bool, integers, floating point, std::string, std::optional<T> (null or an absent
/// field is std::nullopt), std::vector<T> (an array), std::map / std::unordered_map with
/// std::string keys (an object), structs described with BOOST_DESCRIBE_STRUCT (an object, one
/// member per public field, nested to any depth), and any other type Boost.JSON converts
/// (value_to / value_from, e.g. through a tag_invoke overload).
///
/// Thread-safety: the functions keep no state; call them from any thread.
namespace rill::json {

/// Whether `T` can be read by parse<T>.
template <class T>
concept Readable = formats::detail::JsonReadable<T>;
/// Whether `T` can be written by format.
template <class T>
concept Writable = formats::detail::JsonWritable<T>;

/// Parses one JSON value (white space around it allowed, nothing else) into a T. Unknown object
/// members are ignored; an integer field takes only a JSON integer in its range; a floating
/// field takes any number. Throws rill::ParseError whose message says why: "empty input",
/// "truncated: ...", "invalid UTF-8 at byte N", "invalid JSON at byte N: ...",
/// "missing field 'a.b'", "field 'items[2].qty': expected an integer, got a string".
template <class T>
requires Readable<T> && std::default_initializable<T> T parse(std::string_view text) {
  T out{};
  std::string reason;
  if (!formats::detail::json_parse_into(text, out, reason)) throw ParseError(reason);
  return out;
}

/// `value` as compact JSON (no white space, no trailing newline): struct fields in declaration
/// order, a std::nullopt field left out (Spark's to_json), strings escaped (`"`, `\`, control
/// characters as \n, \t or \u00XX; other characters as UTF-8; invalid UTF-8 bytes as U+FFFD),
/// a whole floating value with `.0`, NaN and infinities as null. Never throws for valid input
/// (only std::bad_alloc, or what a user's value_from throws).
template <class T>
requires Writable<T> std::string format(const T& value) {
  std::string out;
  formats::detail::json_write(out, value);
  return out;
}

}  // namespace rill::json
