#include <algorithm>
#include <cmath>
#include <iterator>

#include <fmt/format.h>
#include <boost/json/parser.hpp>

#include "rill/core/format.hpp"
#include "rill/formats/detail/json_document.hpp"
#include "rill/formats/detail/utf8.hpp"

namespace rill::formats::detail {

bool JsonDocument::parse(std::string_view text, std::string& reason) {
  if (std::all_of(text.begin(), text.end(),
                  [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; })) {
    reason = "empty input";
    return false;
  }
  unsigned char temp[1024];
  boost::json::parser parser(boost::json::storage_ptr(), boost::json::parse_options(), temp,
                             sizeof temp);
  parser.reset(boost::json::storage_ptr(&resource_));
  boost::json::error_code ec;
  const std::size_t used = parser.write(text.data(), text.size(), ec);
  if (!ec) {
    root_ = parser.release();
    return true;
  }
  if (ec == boost::json::error::incomplete) {
    reason =
        fmt::format("truncated: the input ends inside a JSON value (after {} bytes)", text.size());
  } else if (auto bad = first_invalid_utf8(text); bad && *bad <= used) {
    reason = fmt::format("invalid UTF-8 at byte {}", *bad);
  } else {
    reason = fmt::format("invalid JSON at byte {}: {}", used, ec.message());
  }
  return false;
}

std::string_view json_kind_name(const boost::json::value& v) noexcept {
  switch (v.kind()) {
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::bool_:
      return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
      return "an integer";
    case boost::json::kind::double_:
      return "a number";
    case boost::json::kind::string:
      return "a string";
    case boost::json::kind::array:
      return "an array";
    case boost::json::kind::object:
      return "an object";
  }
  return "a value";
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8_sequence_length(s, i);
      if (n == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

void append_json_floating(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  rill::detail::append_floating(out, v);
}

void append_json_value(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      out += "null";
      return;
    case boost::json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      return;
    case boost::json::kind::int64:
      fmt::format_to(std::back_inserter(out), "{}", v.get_int64());
      return;
    case boost::json::kind::uint64:
      fmt::format_to(std::back_inserter(out), "{}", v.get_uint64());
      return;
    case boost::json::kind::double_:
      append_json_floating(out, v.get_double());
      return;
    case boost::json::kind::string:
      append_json_string(out, std::string_view(v.get_string().data(), v.get_string().size()));
      return;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        append_json_value(out, e);
      }
      out += ']';
      return;
    }
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& m : v.get_object()) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, std::string_view(m.key().data(), m.key().size()));
        out += ':';
        append_json_value(out, m.value());
      }
      out += '}';
      return;
    }
  }
}

}  // namespace rill::formats::detail
