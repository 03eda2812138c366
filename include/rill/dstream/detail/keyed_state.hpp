#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include "rill/checkpoint/detail/checkpointed_state.hpp"
#include "rill/checkpoint/detail/keyed_state_format.hpp"
#include "rill/core/listener.hpp"
#include "rill/core/serialization.hpp"
#include "rill/dstream/detail/shuffle.hpp"

/// Keyed state: the per-partition hash tables of a keyed stateful operator, the keys its batches
/// changed, and their snapshots and incremental-checkpoint deltas (docs/checkpoint-format.md).
namespace rill::detail {

/// A KeyedStateStore codec: how an entry is written in snapshots and deltas. This one writes
/// the entry as itself, one list per partition. A codec has `Saved` (what is written for a key),
/// `save(const Entry&) -> Saved` (or a reference to one), `load(Saved&&) -> Entry`, `layout`, and
/// `serializable`: whether the types inside Saved can be written. cereal's trait looks at the
/// outer type only (it calls any std::pair serializable), so the operator, which knows the
/// types, says: a store that is not serializable writes nothing and works without checkpoints.
template <class Entry, bool Serializable = is_serializable_v<Entry>>
struct SaveEntry {
  using Saved = Entry;
  static constexpr bool serializable = Serializable;
  static constexpr SnapshotLayout layout = SnapshotLayout::per_partition;
  static const Entry& save(const Entry& entry) noexcept { return entry; }
  static Entry&& load(Entry&& saved) noexcept { return std::move(saved); }
};

/// The state of a keyed stateful operator, with its checkpoints: one hash table K -> Entry per
/// output partition (a key lives in partition_of(key, partitions())), the keys changed since the
/// last checkpoint, a snapshot of the whole state and a delta of the changed keys.
///
/// The operator's per-record loop works on table(q) itself (a boost::unordered_flat_map with
/// boost::hash: no indirection per record) and calls mark(q, key) for every key it changes or
/// removes; mark() is one test of a flag unless track_changes() was called, which the context
/// does when it checkpoints. A table's iteration order is its own: the operator's output order
/// is whatever its loops make of it.
///
/// Bytes (cereal binary, Codec `C`): save() writes `Snapshot` (C::layout), save_delta()
/// `Delta`, one `(key, optional<Saved>)` per changed key, empty when the key was removed.
/// Loading puts every key in partition_of(key, partitions()), so bytes written with another
/// partition count load too. When `serializable` is false (K or C's types cannot be written),
/// save() is empty, save_delta() nullopt and load() / load_delta() do nothing.
///
/// Threads: partition q's table and change set are touched only by partition q's task (table(q),
/// mark(q, key)); everything else (assign, the snapshots and deltas, state_saved(), the sizes)
/// runs on the batch thread, between batches. Errors: load() and load_delta() throw
/// cereal::Exception on malformed bytes, leaving the tables unspecified (a restore reports it as
/// a rill::CheckpointError naming the operator, and start() fails).
template <class K, class Entry, class Codec = SaveEntry<Entry>>
class KeyedStateStore {
 public:
  using Table = boost::unordered_flat_map<K, Entry, boost::hash<K>>;
  using Saved = typename Codec::Saved;
  /// The bytes' types, shared with rill::CheckpointReader.
  using Format = KeyedStateFormat<K, Saved, Codec::layout>;
  using Row = typename Format::Row;
  using Snapshot = typename Format::Snapshot;
  using Delta = typename Format::Delta;
  static constexpr bool serializable = is_serializable_v<K> && Codec::serializable;
  /// What state_info() counts per key: the key and the entry, not what they own on the heap.
  static constexpr std::int64_t bytes_per_key = sizeof(K) + sizeof(Entry);

  explicit KeyedStateStore(std::size_t partitions) : tables_(partitions) {}

  [[nodiscard]] std::size_t partitions() const noexcept { return tables_.size(); }
  /// Partition q's table: its task's only.
  [[nodiscard]] Table& table(std::size_t q) noexcept { return tables_[q]; }
  [[nodiscard]] const Table& table(std::size_t q) const noexcept { return tables_[q]; }
  [[nodiscard]] const std::vector<Table>& tables() const noexcept { return tables_; }
  /// Sets key's entry in key's partition (an initial state; not marked as changed).
  template <class E>
  void assign(const K& key, E&& entry) {
    tables_[partition_of(key, tables_.size())].insert_or_assign(key, std::forward<E>(entry));
  }

  /// Keys in all partitions.
  [[nodiscard]] std::int64_t keys() const noexcept {
    std::size_t n = 0;
    for (const auto& table : tables_)
      n += table.size();
    return static_cast<std::int64_t>(n);
  }
  /// The operator's state_info().
  [[nodiscard]] StateInfo info(std::string name) const {
    const std::int64_t n = keys();
    return StateInfo{std::move(name), n, n * bytes_per_key};
  }

  // --- changed keys (incremental checkpoints) ---

  /// From now on mark() records keys (CheckpointedState::track_changes()).
  void track_changes() {
    tracking_ = true;
    changed_.resize(tables_.size());
  }
  [[nodiscard]] bool tracking() const noexcept { return tracking_; }
  /// Key changed or was removed in partition q (q's task).
  void mark(std::size_t q, const K& key) {
    if (tracking_) changed_[q].insert(key);
  }
  /// Every key changed: the next checkpoint writes the whole state (save_delta() is nullopt).
  void mark_all() noexcept { all_changed_ = tracking_; }
  /// The last checkpoint is durable: changes count from here.
  void state_saved() {
    for (auto& keys : changed_)
      keys.clear();
    all_changed_ = false;
  }

  // --- whole state ---

  /// Every key and its saved entry, per C::layout, partition by partition.
  [[nodiscard]] Snapshot snapshot() const {
    Snapshot saved;
    if constexpr (Codec::layout == SnapshotLayout::flat) {
      saved.reserve(static_cast<std::size_t>(keys()));
      for (const auto& table : tables_) {
        for (const auto& [k, e] : table)
          saved.emplace_back(k, Codec::save(e));
      }
    } else {
      saved.resize(tables_.size());
      for (std::size_t q = 0; q < tables_.size(); ++q) {
        saved[q].reserve(tables_[q].size());
        for (const auto& [k, e] : tables_[q])
          saved[q].emplace_back(k, Codec::save(e));
      }
    }
    return saved;
  }
  /// Replaces the state with a snapshot().
  void restore(Snapshot&& saved) {
    for (auto& table : tables_)
      table.clear();
    Format::for_each_row(std::move(saved),
                         [&](K&& k, Saved&& s) { put(std::move(k), std::move(s)); });
  }
  /// The snapshot's bytes, followed by those of `extra` (an operator's own fields):
  /// to_bytes(snapshot(), extra...).
  template <class... Extra>
  [[nodiscard]] std::string save(const Extra&... extra) const {
    if constexpr (serializable) {
      return to_bytes(snapshot(), extra...);
    } else {
      return {};
    }
  }
  /// Reads a save(extra...) back: restores the snapshot and sets `extra`.
  template <class... Extra>
  void load(std::string_view bytes, Extra&... extra) {
    if constexpr (serializable) {
      Snapshot saved;
      from_bytes(bytes, saved, extra...);
      restore(std::move(saved));
    }
  }

  // --- deltas ---

  /// The keys marked since state_saved(), with their saved entries; nullopt when not tracking
  /// or after mark_all().
  [[nodiscard]] std::optional<std::string> save_delta() const {
    if constexpr (serializable) {
      if (all_changed_ || !tracking_) return std::nullopt;
      Delta delta;
      for (std::size_t q = 0; q < changed_.size(); ++q) {
        for (const K& key : changed_[q]) {
          auto it = tables_[q].find(key);
          if (it == tables_[q].end()) {
            delta.emplace_back(key, std::nullopt);
          } else {
            delta.emplace_back(key, Codec::save(it->second));
          }
        }
      }
      return to_bytes(delta);
    } else {
      return std::nullopt;
    }
  }
  /// Applies a save_delta() on top of the state restored so far.
  void load_delta(std::string_view bytes) {
    if constexpr (serializable) {
      Format::apply_delta(
          bytes, [&](K&& key, Saved&& saved) { put(std::move(key), std::move(saved)); },
          [&](const K& key) { tables_[partition_of(key, tables_.size())].erase(key); });
    }
  }

 private:
  void put(K&& key, Saved&& saved) {
    auto& table = tables_[partition_of(key, tables_.size())];
    table.insert_or_assign(std::move(key), Codec::load(std::move(saved)));
  }

  std::vector<Table> tables_;
  std::vector<boost::unordered_flat_set<K, boost::hash<K>>> changed_;  // per partition
  bool tracking_ = false;
  bool all_changed_ = false;
};

/// An operator whose state is one KeyedStateStore, `store_` (sized to the node's partitions):
/// its CheckpointedState members and state_info() forward to the store. The operator declares
/// state_descriptor() and writes its computation on store_.table(q) and store_.mark(q, key); one
/// that keeps more than the store (a ledger, a flag) overrides the members it adds to. Base is
/// the operator's base, a Node and a CheckpointedState (StatefulNode, IncrementalWindowNode),
/// whose constructors it takes.
template <class Base, class Store>
class KeyedStatefulNode : public Base {
 public:
  using Base::Base;

  [[nodiscard]] std::optional<StateInfo> state_info() const override {
    return store_.info(this->name());
  }
  [[nodiscard]] std::string save_state(Time /*t*/) const override { return store_.save(); }
  void load_state(std::string_view bytes) override { store_.load(bytes); }
  void track_changes() override { store_.track_changes(); }
  [[nodiscard]] std::optional<std::string> save_delta(Time /*t*/) const override {
    return store_.save_delta();
  }
  void load_delta(std::string_view bytes) override { store_.load_delta(bytes); }
  void state_saved(Time /*t*/) override { store_.state_saved(); }
  [[nodiscard]] std::optional<std::int64_t> state_keys() const override { return store_.keys(); }

 protected:
  Store store_{this->num_partitions()};
};

}  // namespace rill::detail
