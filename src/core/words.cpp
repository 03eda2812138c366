#include "rill/core/words.hpp"

#include <array>
#include <cstddef>

namespace rill {

std::vector<std::string> SplitWords::operator()(std::string_view line) const {
  // The words are found first (up to kLocal of them on the stack), so that the vector is
  // allocated once and no string is moved by its growth.
  constexpr std::size_t kLocal = 64;
  std::array<std::string_view, kLocal> found;
  std::size_t k = 0;
  std::vector<std::string> words;
  std::size_t pos = 0;
  for (auto word = detail::next_word(line, pos); !word.empty();
       word = detail::next_word(line, pos)) {
    if (k < kLocal) {
      found[k++] = word;
      continue;
    }
    if (words.empty()) {
      words.reserve(2 * kLocal);
      for (std::size_t j = 0; j < k; ++j)
        words.emplace_back(found[j]);
    }
    words.emplace_back(word);
  }
  if (words.empty() && k > 0) {
    words.reserve(k);
    for (std::size_t j = 0; j < k; ++j)
      words.emplace_back(found[j]);
  }
  return words;
}

}  // namespace rill
