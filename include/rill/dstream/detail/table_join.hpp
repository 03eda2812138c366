#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>

#include "rill/core/time.hpp"
#include "rill/dstream/detail/narrow.hpp"
#include "rill/dstream/detail/table_versions.hpp"

/// The join of a stream of pairs with a static table (Spark's stream-static join, a broadcast
/// hash join): a per-record step, so it fuses with the narrow steps around it and never shuffles.
namespace rill::detail {

/// join(table) (Outer = false: `(k, (v, w))`, one output per matching row) and
/// left_outer_join(table) (Outer = true: `(k, (v, Some(w)))` per matching row, or one
/// `(k, (v, None))`). Outputs follow the input order, then the table's row order within a key.
/// StepNode calls bind_batch(t) on the batch thread before the partitions of batch t stream:
/// the step then reads the version pinned for t, and every partition task's copy of it shares
/// that version. Per record: no allocation, no virtual call, and one hash probe for a key with
/// one row (two for a key with several or none, when the table has keys with several).
template <class K, class V, class W, bool Outer>
struct TableJoinStep {
  using Matched = std::conditional_t<Outer, std::optional<W>, W>;
  using Out = std::pair<K, std::pair<V, Matched>>;
  using Snapshot = TableSnapshot<K, W>;

  std::shared_ptr<StaticTableCore<K, W>> table;
  std::shared_ptr<const Snapshot> snapshot;  // batch t's version, set by bind_batch(t)

  void bind_batch(Time t) {
    snapshot = table->version_for(t);
    if (!snapshot) snapshot = empty();  // not loaded (not expected: start() loads every table)
  }

  /// A record the step may move from: the last match (or the outer join's None) takes it.
  template <class P, class E>
  void operator()(P& kv, E& emit) {
    if (const W* w = snapshot->find_one(kv.first)) {
      emit_made(emit, [&] {
        return Out{std::move(kv.first), std::pair<V, Matched>{std::move(kv.second), *w}};
      });
      return;
    }
    const std::span<const W> matches = snapshot->find_several(kv.first);
    if (matches.empty()) {
      if constexpr (Outer) {
        emit_made(emit, [&] {
          return Out{std::move(kv.first),
                     std::pair<V, Matched>{std::move(kv.second), std::nullopt}};
        });
      }
      return;
    }
    const std::size_t last = matches.size() - 1;
    for (std::size_t i = 0; i < last; ++i) {
      emit_made(emit, [&] { return Out{kv.first, std::pair<V, Matched>{kv.second, matches[i]}}; });
    }
    emit_made(emit, [&] {
      return Out{std::move(kv.first), std::pair<V, Matched>{std::move(kv.second), matches[last]}};
    });
  }

  /// A read-only record.
  template <class P, class E>
  void operator()(const P& kv, E& emit) {
    if (const W* w = snapshot->find_one(kv.first)) {
      emit_made(emit, [&] { return Out{kv.first, std::pair<V, Matched>{kv.second, *w}}; });
      return;
    }
    const std::span<const W> matches = snapshot->find_several(kv.first);
    if constexpr (Outer) {
      if (matches.empty()) {
        emit_made(emit, [&] {
          return Out{kv.first, std::pair<V, Matched>{kv.second, std::nullopt}};
        });
        return;
      }
    }
    for (const W& w : matches)
      emit_made(emit, [&] { return Out{kv.first, std::pair<V, Matched>{kv.second, w}}; });
  }

 private:
  static std::shared_ptr<const Snapshot> empty() {
    static const auto none = std::make_shared<const Snapshot>(std::vector<std::pair<K, W>>{});
    return none;
  }
};

}  // namespace rill::detail
