#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace rill {

namespace detail {
/// Space, tab, newline, vertical tab, form feed, carriage return ('\t' to '\r' are 9 to 13).
constexpr bool is_word_space(char c) noexcept {
  return c == ' ' || static_cast<unsigned char>(c - '\t') <= '\r' - '\t';
}

/// The next word of `line` from `pos` on (empty when there is none); `pos` moves past it.
constexpr std::string_view next_word(std::string_view line, std::size_t& pos) noexcept {
  const std::size_t n = line.size();
  std::size_t i = pos;
  while (i < n && is_word_space(line[i]))
    ++i;
  const std::size_t start = i;
  while (i < n && !is_word_space(line[i]))
    ++i;
  pos = i;
  return line.substr(start, i - start);
}
}  // namespace detail

/// The type of rill::split_words.
struct SplitWords {
  /// The words of `line`, split on white space (space, tab, newline, carriage return, vertical
  /// tab, form feed); no empty words.
  std::vector<std::string> operator()(std::string_view line) const;

  /// Calls emit(std::string) for each word of `line`, in order: the same words operator()
  /// returns. flat_map(rill::split_words) uses it, so that no vector is built per line.
  template <class Emit>
  void each(std::string_view line, Emit&& emit) const {
    std::size_t pos = 0;
    for (auto word = detail::next_word(line, pos); !word.empty();
         word = detail::next_word(line, pos)) {
      emit(std::string(word));
    }
  }
};

/// Splits a line on white space: `rill::split_words(line)` returns a std::vector<std::string>.
/// A function object: `flat_map(rill::split_words)` emits each word as it is found.
inline constexpr SplitWords split_words{};

}  // namespace rill
