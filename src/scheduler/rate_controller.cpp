#include "scheduler/rate_controller.hpp"

#include <algorithm>
#include <utility>

#include "rill/core/logging.hpp"

namespace rill::detail {

namespace {
using std::chrono::microseconds;

microseconds steady_us(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<microseconds>(t.time_since_epoch());
}
}  // namespace

std::unique_ptr<RateController> RateController::create(const Config& config, Clock& clock,
                                                       const std::vector<InputSource*>& inputs) {
  if (!config.backpressure()) return nullptr;
  std::vector<Controlled> controlled;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i]->source_properties().rate_limited) continue;
    controlled.push_back(Controlled{
        i, inputs[i], PidRateEstimator(config.batch_interval(), config.backpressure_pid())});
  }
  if (controlled.empty()) return nullptr;
  return std::unique_ptr<RateController>(new RateController(clock, std::move(controlled)));
}

microseconds RateController::now() const {
  if (manual_) return std::chrono::duration_cast<microseconds>(clock_.now() - Time{0});
  return steady_us(std::chrono::steady_clock::now());
}

microseconds RateController::sealed_at(const PendingBatch& batch) const {
  if (manual_) return std::chrono::duration_cast<microseconds>(batch.sealed_clock - Time{0});
  return steady_us(batch.submitted);
}

void RateController::batch_completed(microseconds sealed, Duration held_back, microseconds started,
                                     microseconds completed,
                                     const std::vector<SourceProgress>& sources) {
  const microseconds processing = completed - started;
  const microseconds scheduling = std::max(started - sealed, microseconds{0}) +
                                  std::chrono::duration_cast<microseconds>(held_back);
  for (Controlled& c : controlled_) {
    if (c.index >= sources.size()) continue;
    const auto rate =
        c.estimator.compute(completed, sources[c.index].num_records, processing, scheduling);
    if (!rate) continue;
    logger().debug("back-pressure: stream {} may take in {:.1f} records/s", c.input->source_name(),
                   *rate);
    c.input->update_rate(*rate);
  }
}

}  // namespace rill::detail
