#include "scheduler/pid_rate_estimator.hpp"

#include <algorithm>
#include <cmath>

#include "rill/core/errors.hpp"

namespace rill::detail {

namespace {
void require(bool ok, const char* what, double value) {
  if (!ok) throw InvalidArgument(fmt::format("PidRateEstimator: {}, got {}", what, value));
}
}  // namespace

PidRateEstimator::PidRateEstimator(Duration interval, PidRateOptions options)
    : interval_us_(static_cast<double>(interval.count()) * 1000.0), options_(options) {
  require(interval.count() > 0, "the batch interval must be positive (ms)",
          static_cast<double>(interval.count()));
  require(std::isfinite(options.proportional) && options.proportional >= 0,
          "the proportional gain must be >= 0", options.proportional);
  require(std::isfinite(options.integral) && options.integral >= 0,
          "the integral gain must be >= 0", options.integral);
  require(std::isfinite(options.derived) && options.derived >= 0, "the derived gain must be >= 0",
          options.derived);
  require(std::isfinite(options.min_rate) && options.min_rate > 0,
          "the minimum rate must be > 0 records/s", options.min_rate);
}

std::optional<double> PidRateEstimator::compute(std::chrono::microseconds time,
                                                std::int64_t records,
                                                std::chrono::microseconds processing_delay,
                                                std::chrono::microseconds scheduling_delay) {
  if (time <= latest_time_ || records <= 0 || processing_delay.count() <= 0) return std::nullopt;
  // Seconds since the last estimate (about one batch interval).
  const double since_update = static_cast<double>((time - latest_time_).count()) / 1e6;
  // records/s; written as a product over a quotient so that whole values stay exact.
  const double processing_rate =
      static_cast<double>(records) * 1e6 / static_cast<double>(processing_delay.count());
  // The rate asked for last time, minus the rate the batch was processed at.
  const double error = latest_rate_ - processing_rate;
  // A scheduling delay s stands for s * processing_rate records that earlier batches could not
  // process; over one interval that is the rate by which the last rates were too high.
  const double historical_error =
      static_cast<double>(scheduling_delay.count()) * processing_rate / interval_us_;
  // records/s per second.
  const double d_error = (error - latest_error_) / since_update;
  const double new_rate =
      std::max(latest_rate_ - options_.proportional * error - options_.integral * historical_error -
                   options_.derived * d_error,
               options_.min_rate);
  latest_time_ = time;
  if (first_run_) {
    latest_rate_ = processing_rate;
    latest_error_ = 0;
    first_run_ = false;
    return std::nullopt;
  }
  latest_rate_ = new_rate;
  latest_error_ = error;
  return new_rate;
}

}  // namespace rill::detail
