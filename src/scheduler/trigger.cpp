#include "scheduler/trigger.hpp"

namespace rill::detail {

Time ProcessingTimeTrigger::first_batch(Time now) const noexcept {
  return now.floor(interval_) + interval_;
}

Time ProcessingTimeTrigger::next_batch(Time t) const noexcept {
  return t + interval_;
}

}  // namespace rill::detail
