#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "rill/core/errors.hpp"
#include "rill/detail/graph.hpp"
#include "rill/dstream/detail/table_versions.hpp"

namespace rill {

/// Data at rest that a stream joins with, as Spark joins a stream with a static DataFrame
/// (enrichment, look-ups): an immutable, shared snapshot of rows `std::pair<K, W>`, where a key
/// may have several rows. `DStream<std::pair<K, V>>::join(table)` and `left_outer_join(table)`
/// look each record's key up in it in the same pass as the narrow operators around them (a
/// broadcast hash join: no shuffle).
///
/// Two kinds, one type:
/// - `StaticTable<K, W>::of(rows)`: fixed rows, usable by any context;
/// - `ctx.static_table<K, W>(loader, refresh)`: a handle whose contents follow the reloads of a
///   context's loader (see StreamingContext::static_table). Every batch uses the newest version
///   loaded when the batch was sealed, whichever thread reloads meanwhile.
///
/// A handle is cheap to copy (copies share the table). Thread-safety: name(std::string) before
/// start(), like the graph-building calls; the rest from any thread.
template <class K, class W>
class StaticTable {
 public:
  using key_type = K;
  using mapped_type = W;

  /// A table of fixed `rows` (moved in; a key may have several, kept in this order). Throws
  /// rill::InvalidArgument for 2^32 rows or more.
  static StaticTable of(std::vector<std::pair<K, W>> rows) {
    return StaticTable(nullptr, std::make_shared<detail::StaticTableCore<K, W>>(std::move(rows)));
  }

  /// Gives the table a name: its entry of StreamingContext::source_stats() and its log lines use
  /// it (default `static_table#<n>` in creation order; `static_table` for `of`). A context's
  /// table names are unique among its streams and tables: rill::InvalidArgument for a name in
  /// use or empty, rill::IllegalState after start().
  StaticTable name(std::string name) const {
    if (graph_) {
      graph_->rename_table(*core_, std::move(name));
    } else {
      if (name.empty()) throw InvalidArgument("StaticTable::name: the name must not be empty");
      core_->set_name(std::move(name));
    }
    return *this;
  }
  [[nodiscard]] const std::string& name() const noexcept { return core_->name(); }

  /// Rows in the newest version (0 for a context's table before start() loads it).
  [[nodiscard]] std::size_t size() const {
    return static_cast<std::size_t>(core_->stats().records);
  }

  /// Internal: the context whose table this is (null for `of`), and the table itself.
  [[nodiscard]] const std::shared_ptr<detail::Graph>& graph() const noexcept { return graph_; }
  [[nodiscard]] const std::shared_ptr<detail::StaticTableCore<K, W>>& core() const noexcept {
    return core_;
  }

  /// Internal: StreamingContext::static_table creates a context's table.
  StaticTable(std::shared_ptr<detail::Graph> graph,
              std::shared_ptr<detail::StaticTableCore<K, W>> core)
      : graph_(std::move(graph)), core_(std::move(core)) {}

 private:
  std::shared_ptr<detail::Graph> graph_;
  std::shared_ptr<detail::StaticTableCore<K, W>> core_;
};

}  // namespace rill
