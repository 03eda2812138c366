#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "rill/core/listener.hpp"

namespace rill::detail {

/// The progress records of the last kCapacity completed batches (Spark's
/// StreamingQuery.recentProgress): StreamingContext::last_progress() and recent_progress().
///
/// Thread-safety: every member on any thread (one mutex, taken once per batch by add()).
class ProgressHistory {
 public:
  /// Records kept, as Spark keeps spark.sql.streaming.numRecentProgressUpdates (100).
  static constexpr std::size_t kCapacity = 100;

  /// Keeps `info` as the newest record, dropping the oldest beyond kCapacity.
  void add(const BatchInfo& info);
  /// The newest record; nullopt before the first batch completed.
  [[nodiscard]] std::optional<BatchInfo> last() const;
  /// The kept records, oldest first.
  [[nodiscard]] std::vector<BatchInfo> recent() const;

 private:
  mutable std::mutex mutex_;
  std::deque<BatchInfo> records_;
};

}  // namespace rill::detail
