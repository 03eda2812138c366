#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

#include "rill/core/clock.hpp"
#include "rill/core/config.hpp"
#include "rill/core/listener.hpp"
#include "rill/sources/detail/input_source.hpp"
#include "scheduler/batch_queue.hpp"
#include "scheduler/pid_rate_estimator.hpp"

namespace rill::detail {

/// Back-pressure's rate control (Config::backpressure; Spark's RateController with
/// spark.streaming.backpressure.enabled): one PidRateEstimator per input that can be rate
/// limited (SourceProperties::rate_limited); after each completed batch it feeds each estimator
/// that input's records with the batch's processing and scheduling delays, and publishes a new
/// estimate to the input (InputSource::update_rate), which caps it by max_rate_per_source.
///
/// Time: the batches are timed on the context's clock when it is manual (tests simulate time
/// exactly), otherwise on the steady clock in µs (the system clock's flow of time, monotonic and
/// finer than its ms). Spark publishes asynchronously; here the estimate is a few operations, so
/// the batch thread makes it right after the batch, before its listeners hear of it, and the
/// next batch's intake already follows it.
///
/// Thread-safety: batch_completed() on the batch thread only; now() and sealed_at() anywhere.
class RateController {
 public:
  /// nullptr when back-pressure is off or no input can be rate limited. `clock` and `inputs`
  /// outlive the controller.
  static std::unique_ptr<RateController> create(const Config& config, Clock& clock,
                                                const std::vector<InputSource*>& inputs);

  /// A reading of the controller's time (see above), in µs.
  [[nodiscard]] std::chrono::microseconds now() const;
  /// When `batch` was sealed, in the controller's time.
  [[nodiscard]] std::chrono::microseconds sealed_at(const PendingBatch& batch) const;

  /// A batch sealed at `sealed`, `held_back` late (BatchInfo::held_back: rill holds a tick
  /// where Spark would queue a batch, so that lateness is scheduling delay too), processed from
  /// `started` to `completed` (the controller's time), whose inputs delivered `sources` (in the
  /// order of the inputs given to create()).
  void batch_completed(std::chrono::microseconds sealed, Duration held_back,
                       std::chrono::microseconds started, std::chrono::microseconds completed,
                       const std::vector<SourceProgress>& sources);

 private:
  struct Controlled {
    std::size_t index;  // in the inputs, and in BatchInfo::sources
    InputSource* input;
    PidRateEstimator estimator;
  };

  RateController(Clock& clock, std::vector<Controlled> controlled)
      : clock_(clock), manual_(clock.is_manual()), controlled_(std::move(controlled)) {}

  Clock& clock_;
  bool manual_;
  std::vector<Controlled> controlled_;
};

}  // namespace rill::detail
