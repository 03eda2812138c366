#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "rill/core/clock.hpp"
#include "rill/core/listener.hpp"
#include "rill/core/time.hpp"
#include "rill/dstream/detail/table_versions.hpp"
#include "sources/log_limiter.hpp"

namespace rill::detail {

/// Loads, pins and reloads a context's static tables (StreamingContext::static_table), off the
/// batch path:
/// - load_all() runs every loader once, at start(), before any input starts;
/// - seal(t), in the tick that seals batch t, pins each table's newest version for batch t (the
///   join steps of batch t read it); under a manual clock it first runs, on the ticking thread,
///   the reloads due at or before t, so that a reload due at R is the version of batch R;
/// - under the system clock, a thread of its own runs each reload when it is due, never holding
///   up a tick or a batch (a slow loader delays only the other tables' reloads);
/// - release(t), once batch t is done, forgets the pins up to t.
/// A table with refresh r reloads at zero + n * r (n >= 1) on the context's clock; a reload
/// that comes late (a slow loader, a clock that jumped) runs once, and the next is the first due
/// time after it. A failing reload is logged (at most one line per table per 10 s) and counted
/// (TableVersions::failed); the previous version stays.
///
/// Thread-safety: construct, load_all() and start() before the engine's threads run; seal() on
/// the ticking thread (one tick at a time); release() on the batch thread; request_stop() on any
/// thread; join() off the refresh thread; stats() on any thread.
class TableRefresher {
 public:
  TableRefresher(Clock& clock, std::vector<TableVersions*> tables);
  ~TableRefresher();
  TableRefresher(const TableRefresher&) = delete;
  TableRefresher& operator=(const TableRefresher&) = delete;

  /// Runs every table's loader. Throws the first failure: a rill::Error as it is, any other
  /// exception as a rill::IoError naming the table, with the loader's exception nested.
  void load_all();
  /// Sets the reloads going for a context with zero time `zero`: the first of each table is its
  /// first due time after the clock's reading now. Under the system clock, starts the thread
  /// when a table reloads.
  void start(Time zero);
  /// Batch t is being sealed (see the class comment).
  void seal(Time t);
  /// Batches up to t are done.
  void release(Time t);
  /// No reload starts any more (a running one finishes); does not wait.
  void request_stop() noexcept;
  /// request_stop(), then waits for the thread.
  void join();
  /// Each table's entry of source_stats(), in creation order.
  [[nodiscard]] std::vector<SourceStats> stats() const;

 private:
  struct Entry {
    TableVersions* table;
    Time next_due;
    LogLimiter log;
  };
  /// Reloads `entry` at `now`; schedules its next reload after `now`. Never throws.
  void reload(Entry& entry, Time now);
  [[nodiscard]] Time due_after(Duration refresh, Time now) const noexcept;
  void run();

  Clock& clock_;
  std::vector<Entry> entries_;  // reloading ones: the ticking thread or the refresh thread only
  Time zero_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;  // under mutex_
  std::thread thread_;
};

}  // namespace rill::detail
