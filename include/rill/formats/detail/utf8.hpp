#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

/// UTF-8 validation for the record formats (RFC 3629: no overlong forms, no surrogates, nothing
/// above U+10FFFF).
namespace rill::formats::detail {

/// The length (1-4) of the valid UTF-8 sequence starting at `s[i]`, or 0 when the bytes there are
/// not one. `i < s.size()`.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept;

/// The offset of the first byte of `s` that is not valid UTF-8, or nullopt when all of `s` is.
/// Runs over ASCII a word at a time.
std::optional<std::size_t> first_invalid_utf8(std::string_view s) noexcept;

}  // namespace rill::formats::detail
