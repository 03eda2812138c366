#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rill {

/// Splits `line` on white space (space, tab, newline, carriage return, vertical tab, form feed);
/// no empty words.
std::vector<std::string> split_words(std::string_view line);

}  // namespace rill
