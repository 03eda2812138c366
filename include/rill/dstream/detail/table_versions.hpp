#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "rill/core/listener.hpp"
#include "rill/core/time.hpp"
#include "rill/dstream/detail/table_snapshot.hpp"

namespace rill::detail {

/// A static table as the engine drives it, type-independent (internal): the newest version of
/// its rows, and the version each sealed batch uses. The engine loads it at start(), pins the
/// newest version for every batch when the batch is sealed (pin), lets a join step read the
/// version of the batch it computes (pinned), forgets the pins of completed batches (release),
/// and reloads it when its refresh is due (load). A reload that fails is counted (failed) and
/// leaves the newest version as it was.
///
/// Versions are held as std::shared_ptr<const void>; StaticTableCore<K, W> gives them their type.
/// Thread-safety: every member may be called from any thread, except set_name() (before start()).
class TableVersions {
 public:
  /// `refresh` in ms (0: never reloaded); `reloads`: whether load() can make a new version (a
  /// table of StaticTable::of cannot).
  TableVersions(std::string name, Duration refresh, bool reloads);
  TableVersions(const TableVersions&) = delete;
  TableVersions& operator=(const TableVersions&) = delete;
  virtual ~TableVersions();

  /// The table's name in source_stats() and in the log: `static_table#<n>` or the user's.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  [[nodiscard]] Duration refresh() const noexcept { return refresh_; }
  [[nodiscard]] bool reloads() const noexcept { return reloads_; }

  /// Runs the loader and makes its rows the newest version. The loader runs outside the lock
  /// (it may be slow) and never twice at once for one table (the engine calls load() from one
  /// thread at a time). Throws what the loader throws; the newest version stays then.
  void load();
  /// Batch t uses the newest version (called when batch t is sealed).
  void pin(Time t);
  /// Batches up to t are done: their pins are dropped.
  void release(Time t);
  /// The version batch t uses: the one pinned for it, else the newest (a table that is not
  /// registered with a running context, as StaticTable::of's).
  [[nodiscard]] std::shared_ptr<const void> pinned(Time t) const;
  /// A reload failed: counted in stats().errors.
  void failed();
  /// The table's entry of source_stats(): `records` is the row count of the newest version,
  /// `errors` the failed reloads.
  [[nodiscard]] SourceStats stats() const;

 protected:
  /// Runs the loader and builds a version of its rows; returns it with its row count.
  virtual std::pair<std::shared_ptr<const void>, std::int64_t> build() = 0;
  /// Makes `version` (of `rows` rows) the newest.
  void install(std::shared_ptr<const void> version, std::int64_t rows);

 private:
  std::string name_;
  Duration refresh_;
  bool reloads_;
  mutable std::mutex mutex_;
  std::shared_ptr<const void> newest_;                // under mutex_
  std::int64_t rows_ = 0;                             // under mutex_
  std::int64_t errors_ = 0;                           // under mutex_
  std::map<Time, std::shared_ptr<const void>> pins_;  // under mutex_
};

/// The typed table behind rill::StaticTable<K, W>: its loader, and its versions as
/// TableSnapshot<K, W>. The loader is a std::function, called once per load, never per record.
template <class K, class W>
class StaticTableCore final : public TableVersions {
 public:
  using Snapshot = TableSnapshot<K, W>;
  using Loader = std::function<std::vector<std::pair<K, W>>()>;

  /// A table of a context, loaded by `loader` at start() and every `refresh` (ms; 0: never).
  StaticTableCore(Loader loader, Duration refresh)
      : TableVersions("static_table", refresh, true), loader_(std::move(loader)) {}
  /// A table of fixed rows (StaticTable::of).
  explicit StaticTableCore(std::vector<std::pair<K, W>> rows)
      : TableVersions("static_table", Duration{0}, false) {
    auto snapshot = std::make_shared<const Snapshot>(std::move(rows));
    const auto n = static_cast<std::int64_t>(snapshot->size());
    install(std::move(snapshot), n);
  }

  /// The version batch t uses (null before a context table's first load).
  [[nodiscard]] std::shared_ptr<const Snapshot> version_for(Time t) const {
    return std::static_pointer_cast<const Snapshot>(pinned(t));
  }

 protected:
  std::pair<std::shared_ptr<const void>, std::int64_t> build() override {
    auto snapshot = std::make_shared<const Snapshot>(loader_());
    const auto n = static_cast<std::int64_t>(snapshot->size());
    return {std::move(snapshot), n};
  }

 private:
  Loader loader_;
};

}  // namespace rill::detail
