#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/unordered/unordered_flat_set.hpp>

#include "rill/core/serialization.hpp"
#include "rill/dstream/detail/shuffle.hpp"

/// Incremental checkpoints of keyed state (docs/checkpoint-format.md): the keys a stateful
/// operator changed since its last checkpoint, per partition, and the delta that writes them.
namespace rill::detail {

/// Keys changed since the last checkpoint, one set per partition (each written only by its
/// partition's task). Off, and free, unless the context checkpoints.
template <class K>
class KeyChanges {
 public:
  void enable(std::size_t partitions) {
    on_ = true;
    keys_.resize(partitions);
  }
  [[nodiscard]] bool on() const noexcept { return on_; }
  void mark(std::size_t q, const K& key) {
    if (on_) keys_[q].insert(key);
  }
  /// Every key changed (the next checkpoint must hold the whole state).
  void mark_all() noexcept { all_ = on_; }
  void clear() {
    for (auto& keys : keys_)
      keys.clear();
    all_ = false;
  }

  /// The delta of per-partition tables `tables` (K -> entry): every changed key with
  /// `project(entry)`, or without a value when it was removed. nullopt after mark_all().
  template <class V, class Table, class Project>
  [[nodiscard]] std::optional<std::string> save(const std::vector<Table>& tables,
                                                Project project) const {
    if (all_ || !on_) return std::nullopt;
    std::vector<std::pair<K, std::optional<V>>> delta;
    for (std::size_t q = 0; q < keys_.size(); ++q) {
      for (const K& key : keys_[q]) {
        auto it = tables[q].find(key);
        if (it == tables[q].end()) {
          delta.emplace_back(key, std::nullopt);
        } else {
          delta.emplace_back(key, project(it->second));
        }
      }
    }
    return to_bytes(delta);
  }

  /// Applies a save() to the tables: sets each key's entry to `make(value)`, or erases it.
  template <class V, class Table, class Make>
  static void load(std::string_view bytes, std::vector<Table>& tables, Make make) {
    std::vector<std::pair<K, std::optional<V>>> delta;
    from_bytes(bytes, delta);
    for (auto& [key, value] : delta) {
      auto& table = tables[partition_of(key, tables.size())];
      if (value) {
        table.insert_or_assign(key, make(std::move(*value)));
      } else {
        table.erase(key);
      }
    }
  }

 private:
  std::vector<boost::unordered_flat_set<K, boost::hash<K>>> keys_;
  bool on_ = false;
  bool all_ = false;
};

}  // namespace rill::detail
