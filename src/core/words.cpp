#include "rill/core/words.hpp"

namespace rill {

namespace {
constexpr bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
}  // namespace

std::vector<std::string> split_words(std::string_view line) {
  const std::size_t n = line.size();
  // Counted first: one allocation of the vector, no string moved by its growth.
  std::size_t count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_space(line[i]) && (i == 0 || is_space(line[i - 1]))) ++count;
  }
  std::vector<std::string> words;
  words.reserve(count);
  std::size_t i = 0;
  while (i < n) {
    while (i < n && is_space(line[i]))
      ++i;
    const std::size_t start = i;
    while (i < n && !is_space(line[i]))
      ++i;
    if (i > start) words.emplace_back(line.substr(start, i - start));
  }
  return words;
}

}  // namespace rill
