#include "rill/dstream/detail/watermark_tracker.hpp"

#include <algorithm>
#include <tuple>
#include <utility>

#include "rill/checkpoint/detail/saved_watermarks.hpp"

namespace rill::detail {

EventTimeProbe& WatermarkTracker::add_input(std::string name, Duration delay,
                                            Duration idle_timeout) {
  Input& in = inputs_.emplace_back();
  in.name = std::move(name);
  in.delay = delay;
  in.idle_timeout = idle_timeout;
  return *in.probe;
}

void WatermarkTracker::begin_batch(Time t) {
  if (!first_batch_) first_batch_ = t;
  late_bound_ = in_force_;
  in_force_ = global_;
}

void WatermarkTracker::end_batch(Time t) {
  for (Input& in : inputs_) {
    if (auto seen = in.probe->take()) {
      const Time candidate = *seen - in.delay;
      if (!in.watermark || candidate > *in.watermark) in.watermark = candidate;
      in.last_record_batch = t;
    }
    const Time since = in.last_record_batch.value_or(*first_batch_);
    in.idle = in.idle_timeout.count() > 0 && t - since >= in.idle_timeout;
  }
  std::optional<Time> candidate;
  bool blocked = false;  // policy min: an input that is not idle has no watermark yet
  bool any_active = false;
  for (const Input& in : inputs_) {
    if (in.idle) continue;
    any_active = true;
    if (!in.watermark) {
      blocked = true;
      continue;
    }
    if (!candidate) {
      candidate = in.watermark;
    } else if (policy_ == WatermarkPolicy::min) {
      candidate = std::min(*candidate, *in.watermark);
    } else {
      candidate = std::max(*candidate, *in.watermark);
    }
  }
  if (policy_ == WatermarkPolicy::min && (blocked || !any_active)) return;
  if (candidate && (!global_ || *candidate > *global_)) global_ = candidate;
}

std::optional<Time> WatermarkTracker::input_watermark(std::string_view name) const {
  for (const Input& in : inputs_) {
    if (in.name == name) return in.watermark;
  }
  return std::nullopt;
}

std::optional<StateDescriptor> WatermarkTracker::state_descriptor() const {
  if (inputs_.empty()) return std::nullopt;
  return StateDescriptor{std::string(kName), std::string(SavedWatermarks::kKind),
                         SavedWatermarks::fingerprint(), true};
}

std::string WatermarkTracker::save_state(Time /*t*/) const {
  SavedWatermarks saved{{}, first_batch_, global_, in_force_, late_bound_};
  saved.inputs.reserve(inputs_.size());
  for (const Input& in : inputs_)
    saved.inputs.emplace_back(in.name, in.watermark, in.last_record_batch, in.idle);
  return saved.encode();
}

void WatermarkTracker::load_state(std::string_view bytes) {
  SavedWatermarks saved = SavedWatermarks::decode(bytes);
  first_batch_ = saved.first_batch;
  global_ = saved.global;
  in_force_ = saved.in_force;
  late_bound_ = saved.late_bound;
  // Inputs are matched by their stream names: one the checkpoint does not know starts without a
  // watermark, as a new input does; one it knows that is gone is forgotten.
  for (Input& in : inputs_) {
    for (auto& [name, watermark, last, idle] : saved.inputs) {
      if (name != in.name) continue;
      in.watermark = watermark;
      in.last_record_batch = last;
      in.idle = idle;
    }
  }
}

}  // namespace rill::detail
