#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

/// RFC 4180 records: splitting one into its fields, and quoting a field. rill's own small codec
/// (Debian 12 packages no CSV library among rill's dependencies); tests/formats/csv_codec_test.cpp
/// holds its table test.
namespace rill::formats::detail {

/// One CSV record split into its fields, unquoted. Reused from record to record (its strings
/// keep their capacity: splitting a record of short fields allocates nothing once warm).
/// Not thread-safe; one per thread.
class CsvRecord {
 public:
  /// Splits `text`, one record: fields separated by `,`; a field that starts with `"` is quoted,
  /// runs to the next lone `"` and may hold `,`, line breaks and `""` (one quote); one trailing
  /// line break (`\n`, `\r\n` or `\r`) is dropped. Strict: a `"` inside an unquoted field, a
  /// character between a closing quote and the next comma, a line break in an unquoted field,
  /// or an unclosed quote return false with `reason` set, naming the byte offset.
  bool split(std::string_view text, std::string& reason);

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::string_view field(std::size_t i) const noexcept { return fields_[i]; }
  /// Whether field i was quoted (`""` is an empty string, an unquoted empty field is a null).
  [[nodiscard]] bool quoted(std::size_t i) const noexcept { return quoted_[i] != 0; }

 private:
  std::string& next_field(bool quoted);
  std::vector<std::string> fields_;
  std::vector<char> quoted_;
  std::size_t size_ = 0;
};

/// Appends `field` to `out`, quoted (and its quotes doubled) when it holds `,`, `"`, `\r` or
/// `\n`, or when it is empty and `quote_empty` (an empty string, told from a null field).
void append_csv_field(std::string& out, std::string_view field, bool quote_empty);

}  // namespace rill::formats::detail
