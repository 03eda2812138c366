#include "kafka/claim_metadata.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <random>

namespace rill::kafka::detail {

namespace {

constexpr std::string_view kPrefix = "rill1";
constexpr std::size_t kTokenSize = 32;

std::string format_claim(const Claim& c) {
  return fmt::format("{}:{}:{}:{}", c.token, c.batch_ms, c.from, c.until);
}

bool parse_int(std::string_view text, std::int64_t& out) {
  if (text.empty()) return false;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc{} && ptr == end;
}

// "<token>:<batch_ms>:<from>:<until>"
std::optional<Claim> parse_claim(std::string_view text) {
  Claim c;
  std::array<std::string_view, 4> fields{};
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const auto colon = text.find(':');
    if ((colon == std::string_view::npos) != (i + 1 == fields.size())) return std::nullopt;
    fields[i] = text.substr(0, colon);
    if (colon != std::string_view::npos) text.remove_prefix(colon + 1);
  }
  if (!is_claim_token(fields[0])) return std::nullopt;
  c.token = std::string(fields[0]);
  if (!parse_int(fields[1], c.batch_ms) || !parse_int(fields[2], c.from) ||
      !parse_int(fields[3], c.until) || c.from < 0 || c.until < c.from)
    return std::nullopt;
  return c;
}

}  // namespace

std::string ClaimMetadata::format() const {
  std::string out(kPrefix);
  out += ' ';
  out += primary ? format_claim(*primary) : std::string{"-"};
  for (const auto& c : owed) {
    out += ' ';
    out += format_claim(c);
  }
  return out;
}

std::optional<ClaimMetadata> ClaimMetadata::parse(std::string_view text) {
  if (!text.starts_with(kPrefix) || text.size() <= kPrefix.size() || text[kPrefix.size()] != ' ')
    return std::nullopt;
  text.remove_prefix(kPrefix.size() + 1);
  ClaimMetadata out;
  bool first = true;
  while (!text.empty()) {
    const auto space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view{} : text.substr(space + 1);
    if (first) {
      first = false;
      if (word == "-") continue;
      auto c = parse_claim(word);
      if (!c) return std::nullopt;
      out.primary = std::move(*c);
      continue;
    }
    auto c = parse_claim(word);
    if (!c) return std::nullopt;
    out.owed.push_back(std::move(*c));
  }
  if (first) return std::nullopt;  // no primary field
  return out;
}

std::vector<Claim> ClaimMetadata::claims() const {
  std::vector<Claim> out = owed;
  if (primary) out.push_back(*primary);
  return out;
}

ClaimMetadata::Carried ClaimMetadata::carry(const ClaimMetadata& found, std::string_view token,
                                            std::int64_t sealed_through) {
  Carried out;
  for (auto& c : found.claims()) {
    if (c.token == token && c.batch_ms <= sealed_through) continue;  // sealed: nothing owed
    if (std::find(out.owed.begin(), out.owed.end(), c) != out.owed.end()) continue;
    out.owed.push_back(std::move(c));
  }
  if (out.owed.size() > kMaxOwed) {
    const auto extra = static_cast<std::ptrdiff_t>(out.owed.size() - kMaxOwed);
    out.dropped.assign(out.owed.begin(), out.owed.begin() + extra);
    out.owed.erase(out.owed.begin(), out.owed.begin() + extra);
  }
  return out;
}

std::string new_claim_token() {
  std::random_device random;
  std::string out;
  out.reserve(kTokenSize);
  for (int i = 0; i < 4; ++i)
    out += fmt::format("{:08x}", static_cast<std::uint32_t>(random()));
  return out;
}

bool is_claim_token(std::string_view token) noexcept {
  return token.size() == kTokenSize && std::all_of(token.begin(), token.end(), [](char ch) {
           return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
         });
}

}  // namespace rill::kafka::detail
