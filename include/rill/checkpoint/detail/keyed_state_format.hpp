#pragma once

#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "rill/core/serialization.hpp"

/// The bytes of a keyed stateful operator's state in checkpoints (docs/checkpoint-format.md):
/// written and read by the operators' KeyedStateStore (dstream/detail/keyed_state.hpp), read
/// offline by rill::CheckpointReader.
namespace rill::detail {

/// How a keyed state's snapshot lists its keys.
enum class SnapshotLayout {
  /// One list of (key, saved entry) per partition: `vector<vector<pair<K, Saved>>>`.
  per_partition,
  /// One list of (key, saved entry), partition after partition: `vector<pair<K, Saved>>`.
  flat,
};

/// The types cereal writes for keys K whose entries are saved as `Saved`: a snapshot (the whole
/// state, in `Layout`) and a delta (one `(key, optional<Saved>)` per changed key, empty when the
/// key was removed). An operator may write fields of its own after the snapshot.
template <class K, class Saved, SnapshotLayout Layout>
struct KeyedStateFormat {
  using Row = std::pair<K, Saved>;
  using Snapshot = std::conditional_t<Layout == SnapshotLayout::flat, std::vector<Row>,
                                      std::vector<std::vector<Row>>>;
  using Delta = std::vector<std::pair<K, std::optional<Saved>>>;

  /// Calls f(K&&, Saved&&) for every row of the snapshot, partition by partition.
  template <class F>
  static void for_each_row(Snapshot&& saved, F&& f) {
    if constexpr (Layout == SnapshotLayout::flat) {
      for (auto& [k, s] : saved)
        f(std::move(k), std::move(s));
    } else {
      for (auto& part : saved) {
        for (auto& [k, s] : part)
          f(std::move(k), std::move(s));
      }
    }
  }

  /// Reads a delta's bytes and applies it: put(K&&, Saved&&) for a key changed, erase(const K&)
  /// for a key removed, in the delta's order. Throws cereal::Exception on malformed bytes.
  template <class Put, class Erase>
  static void apply_delta(std::string_view bytes, Put&& put, Erase&& erase) {
    Delta delta;
    from_bytes(bytes, delta);
    for (auto& [key, value] : delta) {
      if (value) {
        put(std::move(key), std::move(*value));
      } else {
        erase(key);
      }
    }
  }
};

}  // namespace rill::detail
