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

/// One immutable version of a static table: a hash multimap from key to the values of its rows.
/// The index holds each key once, with the range of its values in one array where a key's
/// values are contiguous and in row order; a look-up is one hash probe (boost::hash, unseeded,
/// as the shuffles use) and no allocation. Built once, then only read: any number of threads may
/// call find() at once.
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
    // Count the rows of each key, then give each key its slice of values_, then fill the slices
    // in row order.
    index_.reserve(rows.size());
    for (const Row& row : rows)
      ++index_.try_emplace(row.first, Range{0, 0}).first->second.count;
    std::uint32_t next = 0;
    for (auto& [key, range] : index_) {
      range.begin = next;
      next += range.count;
      range.count = 0;
    }
    // source[slot] is the row whose value goes to values_[slot].
    std::vector<std::uint32_t> source(rows.size());
    for (std::uint32_t i = 0; i < rows.size(); ++i) {
      Range& range = index_.find(rows[i].first)->second;
      source[range.begin + range.count++] = i;
    }
    values_.reserve(rows.size());
    for (const std::uint32_t i : source)
      values_.push_back(std::move(rows[i].second));
  }

  /// The values of `key`'s rows, in row order; empty when it has none.
  [[nodiscard]] std::span<const W> find(const K& key) const noexcept {
    const auto it = index_.find(key);
    if (it == index_.end()) return {};
    return std::span<const W>(values_.data() + it->second.begin, it->second.count);
  }

  /// Rows in the table.
  [[nodiscard]] std::size_t size() const noexcept { return values_.size(); }
  /// Distinct keys in the table.
  [[nodiscard]] std::size_t keys() const noexcept { return index_.size(); }

 private:
  struct Range {
    std::uint32_t begin;
    std::uint32_t count;
  };
  boost::unordered_flat_map<K, Range, boost::hash<K>> index_;
  std::vector<W> values_;
};

}  // namespace rill::detail
