#pragma once

/// Small sequences the tests build their inputs and expectations from, shared so that test files
/// compiled together (a unity build of one test program) do not each define them.

#include <numeric>
#include <vector>

namespace rill_test {

/// The ints from `from` (inclusive) to `to` (exclusive), ascending; empty when to <= from.
inline std::vector<int> iota_vector(int from, int to) {
  std::vector<int> v(to > from ? static_cast<std::size_t>(to - from) : 0);
  std::iota(v.begin(), v.end(), from);
  return v;
}

/// The batches' records one after the other, in batch order.
template <class T>
std::vector<T> flatten(const std::vector<std::vector<T>>& batches) {
  std::vector<T> out;
  for (const auto& b : batches)
    out.insert(out.end(), b.begin(), b.end());
  return out;
}

}  // namespace rill_test
