#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "rill/core/config.hpp"
#include "rill/core/time.hpp"

namespace rill::detail {

/// A proportional-integral-derivative controller of one source's intake rate (Spark's
/// PIDRateEstimator, behind `spark.streaming.backpressure.enabled`): after each batch it turns
/// the batch's record count, processing delay and scheduling delay into the rate, in records/s,
/// at which the source's records can be processed within the batch interval.
///
/// Per batch: `processing_rate = records / processing_delay`; `error = last_rate -
/// processing_rate`; `historical_error = scheduling_delay * processing_rate / interval` (the
/// records a scheduling delay stands for, spread over one interval: the integral term);
/// `d_error = (error - last_error) / seconds since the last estimate`; the new rate is
/// `last_rate - proportional * error - integral * historical_error - derived * d_error`, and
/// never below PidRateOptions::min_rate. The first batch with records only sets `last_rate` to its
/// processing rate and gives no estimate; a batch without records, without processing time or
/// not later than the last one counted gives none either, and changes nothing.
///
/// Pure (no clock, no I/O); not thread-safe: one owner calls compute().
class PidRateEstimator {
 public:
  /// `interval`: the batch interval (> 0); `options`: the gains and minimum rate (each >= 0,
  /// min_rate > 0). Throws rill::InvalidArgument naming a value out of range.
  PidRateEstimator(Duration interval, PidRateOptions options);

  /// The rate the source should take in after a batch that completed at `time` (any monotonic
  /// reading, in µs), with `records` records of the source, `processing_delay` from its start to
  /// its end and `scheduling_delay` from its sealing to its start; nullopt when no estimate is
  /// due (see above). In records/s, >= min_rate.
  std::optional<double> compute(std::chrono::microseconds time, std::int64_t records,
                                std::chrono::microseconds processing_delay,
                                std::chrono::microseconds scheduling_delay);

 private:
  double interval_us_;
  PidRateOptions options_;
  bool first_run_ = true;
  std::chrono::microseconds latest_time_{-1};
  double latest_rate_ = -1;
  double latest_error_ = -1;
};

}  // namespace rill::detail
