#include "scheduler/progress_history.hpp"

namespace rill::detail {

void ProgressHistory::add(const BatchInfo& info) {
  BatchInfo copy = info;  // allocates outside the lock
  std::lock_guard lock(mutex_);
  if (records_.size() == kCapacity) records_.pop_front();
  records_.push_back(std::move(copy));
}

std::optional<BatchInfo> ProgressHistory::last() const {
  std::lock_guard lock(mutex_);
  if (records_.empty()) return std::nullopt;
  return records_.back();
}

std::vector<BatchInfo> ProgressHistory::recent() const {
  std::lock_guard lock(mutex_);
  return {records_.begin(), records_.end()};
}

}  // namespace rill::detail
