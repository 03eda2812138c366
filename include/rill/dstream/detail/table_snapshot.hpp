#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <boost/container_hash/hash.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include "rill/core/errors.hpp"

namespace rill::detail {

/// One immutable version of a static table: a hash multimap from key to the values of its rows,
/// in two indexes. A key with one row (the common case of enrichment and look-ups) is in `one_`,
/// which maps it to its value: its look-up is one hash probe (boost::hash, unseeded, as the
/// shuffles use) into slots as small as a hand-written `unordered_flat_map<K, W>`'s, one cache
/// miss, no allocation. A key with several rows is in `several_`, which maps it to the range of
/// its values, contiguous and in row order, in `values_`; it is probed only for a key `one_` has
/// not, and only when `several_` is not empty. Built once, then only read: any number of threads
/// may look up at once.
template <class K, class W>
class TableSnapshot {
 public:
  using Row = std::pair<K, W>;

  /// Indexes `rows` (moved from). Throws rill::InvalidArgument when there are 2^32 rows or more.
  explicit TableSnapshot(std::vector<Row> rows) {
    if (rows.size() >= std::numeric_limits<std::uint32_t>::max()) {
      throw InvalidArgument(
          fmt::format("StaticTable: {} rows; a table holds fewer than 4294967295 rows (split it)",
                      rows.size()));
    }
    // Count the rows of each key; a key with several gets its slice of values_, filled in row
    // order; a key with one goes to one_.
    boost::unordered_flat_map<K, Slice, boost::hash<K>> counts;
    counts.reserve(rows.size());
    for (const Row& row : rows)
      ++counts.try_emplace(row.first, Slice{0, 0}).first->second.count;
    std::uint32_t next = 0;
    std::size_t several = 0;
    for (auto& [key, slice] : counts) {
      if (slice.count == 1) {
        slice.begin = kOne;
      } else {
        slice.begin = next;
        next += slice.count;
        slice.count = 0;
        ++several;
      }
    }
    one_.reserve(counts.size() - several);
    // source[slot] is the row whose value goes to values_[slot].
    std::vector<std::uint32_t> source(next);
    for (std::uint32_t i = 0; i < rows.size(); ++i) {
      Slice& slice = counts.find(rows[i].first)->second;
      if (slice.begin == kOne) {
        one_.emplace(std::move(rows[i].first), std::move(rows[i].second));
      } else {
        source[slice.begin + slice.count++] = i;
      }
    }
    values_.reserve(next);
    for (const std::uint32_t i : source)
      values_.push_back(std::move(rows[i].second));
    several_.reserve(several);
    for (const auto& [key, slice] : counts) {
      if (slice.begin != kOne) several_.emplace(key, slice);
    }
    rows_ = rows.size();
  }

  /// The value of `key`'s row when it has exactly one, else null.
  [[nodiscard]] const W* find_one(const K& key) const noexcept {
    const auto it = one_.find(key);
    return it == one_.end() ? nullptr : &it->second;
  }
  /// The values of `key`'s rows, in row order, when it has several; else empty.
  [[nodiscard]] std::span<const W> find_several(const K& key) const noexcept {
    if (several_.empty()) return {};
    const auto it = several_.find(key);
    if (it == several_.end()) return {};
    return std::span<const W>(values_.data() + it->second.begin, it->second.count);
  }

  /// Rows in the table.
  [[nodiscard]] std::size_t size() const noexcept { return rows_; }
  /// Distinct keys in the table.
  [[nodiscard]] std::size_t keys() const noexcept { return one_.size() + several_.size(); }

 private:
  struct Slice {
    std::uint32_t begin;
    std::uint32_t count;
  };
  /// Slice::begin of a key with one row while building.
  static constexpr std::uint32_t kOne = std::numeric_limits<std::uint32_t>::max();

  boost::unordered_flat_map<K, W, boost::hash<K>> one_;
  boost::unordered_flat_map<K, Slice, boost::hash<K>> several_;
  std::vector<W> values_;
  std::size_t rows_ = 0;
};

}  // namespace rill::detail
