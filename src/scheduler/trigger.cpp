#include "scheduler/trigger.hpp"

#include <string>

#include <fmt/format.h>

#include "rill/core/errors.hpp"

namespace rill::detail {

Time ProcessingTimeTrigger::first_batch(Time now) const noexcept {
  return now.floor(interval_) + interval_;
}

Time ProcessingTimeTrigger::next_batch(Time t) const noexcept {
  return t + interval_;
}

std::unique_ptr<TriggerPolicy> make_trigger_policy(const Config& config) {
  if (config.trigger().is_available_now()) {
    return std::make_unique<AvailableNowTrigger>(config.batch_interval());
  }
  return std::make_unique<ProcessingTimeTrigger>(config.batch_interval());
}

void check_trigger_inputs(const Plan& plan, const Config& config) {
  if (!config.trigger().is_available_now()) return;
  std::string refused;
  for (const InputSource* input : plan.inputs) {
    if (input->source_properties().available_now) continue;
    if (!refused.empty()) refused += ", ";
    refused += input->source_name();
  }
  if (refused.empty()) return;
  throw InvalidArgument(fmt::format(
      "StreamingContext::start: Trigger::available_now needs sources that can say what they hold "
      "at start(); {} cannot (socket, rate and receiver streams never end). Use "
      "Trigger::processing_time, or read these inputs through a queue, file or Kafka source",
      refused));
}

}  // namespace rill::detail
