#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "rill/core/time.hpp"

namespace rill {

/// A histogram of batch delays (ms) over fixed buckets, cumulative since start(): what a
/// Prometheus histogram needs (rill::ops serves it on /metrics), kept by the context so that no
/// batch is missed however rarely it is read. Flink's and Spark's metric systems keep such
/// histograms beside the job too.
struct DelayHistogram {
  /// The buckets' upper bounds, inclusive, in ms (the last bucket, +Inf, is implicit).
  static constexpr std::array<std::int64_t, 14> kBoundsMs = {
      1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000};
  /// counts[i]: batches whose delay was at most kBoundsMs[i] and above kBoundsMs[i - 1] (not
  /// cumulative); counts[kBoundsMs.size()]: those above the last bound.
  std::array<std::int64_t, kBoundsMs.size() + 1> counts{};
  /// Sum of the delays observed, in ms.
  std::int64_t sum_ms = 0;
  /// Delays observed (batches).
  std::int64_t count = 0;

  /// Counts one delay.
  void observe(Duration delay) noexcept {
    const std::int64_t ms = delay.count();
    std::size_t i = 0;
    while (i < kBoundsMs.size() && ms > kBoundsMs[i])
      ++i;
    ++counts[i];
    sum_ms += ms;
    ++count;
  }
};

/// Late input rows an event-time operator dropped, over every completed batch.
struct OperatorLateTotal {
  std::string name;
  std::int64_t late_records = 0;
};

/// Totals over every batch completed since start() (StreamingContext::progress_totals()): the
/// counters and histograms behind monitoring (Prometheus counters never go back), where
/// recent_progress() holds only the last 100 batches. Updated once per batch on the batch
/// thread, with the progress record; nothing per record.
struct ProgressTotals {
  /// Completed batches.
  std::int64_t batches = 0;
  /// Input records of the completed batches (all sources).
  std::int64_t records = 0;
  /// Batches for which back-pressure held input back (BatchInfo::back_pressure).
  std::int64_t back_pressured_batches = 0;
  /// Checkpoints written, and their bytes in total.
  std::int64_t checkpoints = 0;
  std::int64_t checkpoint_bytes = 0;
  DelayHistogram scheduling_delay;
  DelayHistogram processing_delay;
  DelayHistogram total_delay;
  /// Per stateful operator (in BatchInfo::state's order): late rows dropped.
  std::vector<OperatorLateTotal> late_records;
};

}  // namespace rill
