#include "rill/core/words.hpp"

#include <array>
#include <cstddef>

namespace rill {

namespace {
/// Space, tab, newline, vertical tab, form feed, carriage return ('\t' to '\r' are 9 to 13).
constexpr bool is_space(char c) noexcept {
  return c == ' ' || static_cast<unsigned char>(c - '\t') <= '\r' - '\t';
}
}  // namespace

std::vector<std::string> split_words(std::string_view line) {
  // The words are found first (up to kLocal of them on the stack), so that the vector is
  // allocated once and no string is moved by its growth.
  constexpr std::size_t kLocal = 64;
  std::array<std::string_view, kLocal> found;
  std::size_t k = 0;
  std::vector<std::string> words;
  std::size_t i = 0;
  const std::size_t n = line.size();
  while (i < n) {
    while (i < n && is_space(line[i]))
      ++i;
    const std::size_t start = i;
    while (i < n && !is_space(line[i]))
      ++i;
    if (i == start) continue;
    if (k < kLocal) {
      found[k++] = line.substr(start, i - start);
      continue;
    }
    if (words.empty()) {
      words.reserve(2 * kLocal);
      for (std::size_t j = 0; j < k; ++j)
        words.emplace_back(found[j]);
    }
    words.emplace_back(line.substr(start, i - start));
  }
  if (words.empty() && k > 0) {
    words.reserve(k);
    for (std::size_t j = 0; j < k; ++j)
      words.emplace_back(found[j]);
  }
  return words;
}

}  // namespace rill
