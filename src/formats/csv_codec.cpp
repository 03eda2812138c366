#include "rill/formats/detail/csv_codec.hpp"

#include <fmt/format.h>

namespace rill::formats::detail {

std::string& CsvRecord::next_field(bool quoted) {
  if (size_ == fields_.size()) {
    fields_.emplace_back();
    quoted_.push_back(0);
  }
  quoted_[size_] = quoted ? 1 : 0;
  std::string& f = fields_[size_++];
  f.clear();
  return f;
}

bool CsvRecord::split(std::string_view text, std::string& reason) {
  size_ = 0;
  if (text.ends_with("\r\n")) {
    text.remove_suffix(2);
  } else if (text.ends_with('\n') || text.ends_with('\r')) {
    text.remove_suffix(1);
  }
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (true) {
    if (i < n && text[i] == '"') {
      const std::size_t open = i;
      std::string& f = next_field(true);
      ++i;
      while (true) {
        const std::size_t q = text.find('"', i);
        if (q == std::string_view::npos) {
          reason = fmt::format("truncated: the quoted field opened at byte {} is not closed", open);
          return false;
        }
        f.append(text.substr(i, q - i));
        if (q + 1 < n && text[q + 1] == '"') {
          f += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      if (i == n) return true;
      if (text[i] != ',') {
        reason = fmt::format(
            "invalid CSV at byte {}: a closing quote must be followed by a comma or the end of "
            "the record",
            i);
        return false;
      }
      ++i;
      continue;
    }
    std::size_t end = text.find(',', i);
    if (end == std::string_view::npos) end = n;
    const std::string_view raw = text.substr(i, end - i);
    if (const auto bad = raw.find_first_of("\"\r\n"); bad != std::string_view::npos) {
      if (raw[bad] == '"') {
        reason = fmt::format(
            "invalid CSV at byte {}: a quote inside an unquoted field (quote the whole field and "
            "double its quotes)",
            i + bad);
      } else {
        reason =
            fmt::format("invalid CSV at byte {}: a line break inside an unquoted field", i + bad);
      }
      return false;
    }
    next_field(false).assign(raw);
    if (end == n) return true;
    i = end + 1;
  }
}

void append_csv_field(std::string& out, std::string_view field, bool quote_empty) {
  const bool quote =
      (field.empty() && quote_empty) || field.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quote) {
    out += field;
    return;
  }
  out += '"';
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace rill::formats::detail
