#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <vector>

#include "rill/core/listener.hpp"
#include "rill/core/progress_totals.hpp"

namespace rill::detail {

/// The progress records of the last kCapacity completed batches (Spark's
/// StreamingQuery.recentProgress): StreamingContext::last_progress() and recent_progress(); and
/// the totals over every completed batch (StreamingContext::progress_totals()).
///
/// Thread-safety: every member on any thread (one mutex, taken once per batch by add()).
class ProgressHistory {
 public:
  /// Records kept, as Spark keeps spark.sql.streaming.numRecentProgressUpdates (100).
  static constexpr std::size_t kCapacity = 100;

  /// Keeps `info` as the newest record, dropping the oldest beyond kCapacity, and adds it to the
  /// totals. Takes the record by value: a caller that needs it no more moves it in, and nothing
  /// is allocated (the records sit in a ring reserved once).
  void add(BatchInfo info);
  /// The newest record; nullopt before the first batch completed.
  [[nodiscard]] std::optional<BatchInfo> last() const;
  /// The kept records, oldest first.
  [[nodiscard]] std::vector<BatchInfo> recent() const;
  /// The totals over every record added.
  [[nodiscard]] ProgressTotals totals() const;

 private:
  mutable std::mutex mutex_;
  // A ring of up to kCapacity records (reserved by the first add()); once full, newest_ + 1
  // (mod kCapacity) is the oldest.
  std::vector<BatchInfo> records_;
  std::size_t newest_ = 0;
  ProgressTotals totals_;
};

}  // namespace rill::detail
