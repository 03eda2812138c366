#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value.hpp>

/// One parsed JSON text, and the non-template parts of reading and writing JSON.
namespace rill::formats::detail {

/// A JSON text parsed into a boost::json::value that lives in a buffer of its own: a small
/// document allocates nothing on the heap. Not thread-safe; make one per parse (it is cheap).
class JsonDocument {
 public:
  JsonDocument() = default;
  JsonDocument(const JsonDocument&) = delete;
  JsonDocument& operator=(const JsonDocument&) = delete;

  /// Parses `text` (exactly one JSON value, white space around it allowed). On failure returns
  /// false and sets `reason`: "empty input", "truncated: ...", "invalid UTF-8 at byte N",
  /// "invalid JSON at byte N: ...".
  bool parse(std::string_view text, std::string& reason);
  [[nodiscard]] const boost::json::value& root() const noexcept { return root_; }

 private:
  alignas(std::max_align_t) unsigned char buffer_[2048];
  boost::json::monotonic_resource resource_{buffer_, sizeof buffer_};
  boost::json::value root_;
};

/// "a string", "a number", "null" ...: the kind of `v`, for error messages.
std::string_view json_kind_name(const boost::json::value& v) noexcept;

/// Appends `s` as a JSON string, quoted and escaped (`"`, `\`, control characters); bytes that
/// are not valid UTF-8 become U+FFFD, so the output is always valid JSON.
void append_json_string(std::string& out, std::string_view s);

/// Appends a floating value: shortest round-trip form, a whole number with `.0`; `null` for NaN
/// and infinities (JSON has no token for them).
void append_json_floating(std::string& out, double v);

/// Appends any boost::json::value (compact, no white space), through append_json_string and
/// append_json_floating.
void append_json_value(std::string& out, const boost::json::value& v);

}  // namespace rill::formats::detail
