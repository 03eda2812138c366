#pragma once

#include <concepts>
#include <string>
#include <string_view>

#include "rill/core/errors.hpp"
#include "rill/formats/detail/csv_fields.hpp"

/// CSV records (RFC 4180; docs/formats.md), as Spark's CSV source and sink read and write rows
/// of a flat schema: one record per struct, one field per public field of a struct described
/// with BOOST_DESCRIBE_STRUCT, in declaration order.
///
/// Field types: bool (`true` / `false`, read case-insensitively), integers, floating point
/// (`NaN`, `Infinity`, `-Infinity` for the non-finite values), std::string, and std::optional
/// of those. An unquoted empty field is std::nullopt; `""` is an empty string. Nested structs
/// and vectors are not CSV fields (a compile error names rill::csv::Record).
///
/// Thread-safety: the functions keep no state; call them from any thread.
namespace rill::csv {

/// A described struct whose fields are all CSV scalars.
template <class T>
concept Record = formats::detail::CsvRecordType<T>;

/// Whether save_as_csv_files writes a header line at the top of every file.
enum class Header {
  omit,   ///< no header line (Spark's default, `header=false`)
  write,  ///< header<T>() as the first line of every file, also of an empty batch's
};

/// The header line of T, without a line break: its field names, comma-separated.
template <Record T>
std::string header() {
  return formats::detail::csv_header<T>();
}

/// Parses one record (quoted fields may hold commas, quotes and line breaks; one trailing line
/// break is dropped). Throws rill::ParseError saying why: "invalid UTF-8 at byte N",
/// "truncated: the quoted field opened at byte N is not closed", "invalid CSV at byte N: ...",
/// "expected 3 fields (id,name,price), got 2", "field 'price': expected a number, got 'abc'".
/// A header line is not special here: it fails to parse unless every field is a string (see
/// DStream::parse_csv, which skips it).
template <Record T>
requires std::default_initializable<T> T parse(std::string_view record) {
  T out{};
  formats::detail::CsvRecord scratch;
  std::string reason;
  if (!formats::detail::csv_parse_into(record, out, scratch, reason)) throw ParseError(reason);
  return out;
}

/// `value` as one record, without a line break; a field is quoted when it holds `,`, `"`, `\r`
/// or `\n` (its quotes doubled), or is an empty string.
template <Record T>
std::string format(const T& value) {
  std::string out;
  formats::detail::csv_write(out, value);
  return out;
}

}  // namespace rill::csv
