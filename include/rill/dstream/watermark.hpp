#pragma once

#include "rill/core/time.hpp"

namespace rill {

/// Options of one input's watermark (DStream::with_watermark), Spark's `withWatermark` plus
/// Flink's idleness (`WatermarkStrategy::withIdleness`).
struct WatermarkOptions {
  /// When positive, the input is *idle* in batch t when t minus the time of its last batch with
  /// a record (or of the first batch, if it never had one) is at least this long (ms of the
  /// context's clock), judged at the end of batch t. An idle input is left out of the global
  /// watermark until it receives a record again, so a quiet input does not hold the others'
  /// windows open. 0 (the default): never idle. Negative: rill::InvalidArgument.
  Duration idle_timeout{0};
};

}  // namespace rill
