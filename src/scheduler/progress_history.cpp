#include "scheduler/progress_history.hpp"

#include <algorithm>
#include <utility>

namespace rill::detail {

void ProgressHistory::add(BatchInfo record) {
  std::lock_guard lock(mutex_);
  if (records_.size() < kCapacity) {
    if (records_.empty()) records_.reserve(kCapacity);
    records_.push_back(std::move(record));
    newest_ = records_.size() - 1;
  } else {
    // The oldest record's place; what it held is freed with `record`, outside the lock.
    newest_ = (newest_ + 1) % kCapacity;
    std::swap(records_[newest_], record);
  }
  const BatchInfo& info = records_[newest_];
  ++totals_.batches;
  totals_.records += info.num_records;
  if (info.back_pressure) ++totals_.back_pressured_batches;
  if (info.checkpoint) {
    ++totals_.checkpoints;
    totals_.checkpoint_bytes += info.checkpoint->bytes;
  }
  totals_.scheduling_delay.observe(info.scheduling_delay);
  totals_.processing_delay.observe(info.processing_delay);
  totals_.total_delay.observe(info.total_delay);
  // The stateful operators are fixed at start(), in the same order every batch: matched by
  // position, by name when the list differs (it allocates only then, and for a new name).
  for (std::size_t i = 0; i < info.state.size(); ++i) {
    const StateInfo& s = info.state[i];
    auto& late = totals_.late_records;
    if (i >= late.size() || late[i].name != s.name) {
      auto it = std::find_if(late.begin(), late.end(),
                             [&](const OperatorLateTotal& o) { return o.name == s.name; });
      if (it == late.end()) it = late.insert(late.end(), OperatorLateTotal{s.name, 0});
      it->late_records += s.late_records;
    } else {
      late[i].late_records += s.late_records;
    }
  }
}

ProgressTotals ProgressHistory::totals() const {
  std::lock_guard lock(mutex_);
  return totals_;
}

std::optional<BatchInfo> ProgressHistory::last() const {
  std::lock_guard lock(mutex_);
  if (records_.empty()) return std::nullopt;
  return records_[newest_];
}

std::vector<BatchInfo> ProgressHistory::recent() const {
  std::lock_guard lock(mutex_);
  std::vector<BatchInfo> out;
  out.reserve(records_.size());
  // Oldest first: before the ring is full, in order from the start; then from after newest_.
  const std::size_t oldest = records_.size() < kCapacity ? 0 : (newest_ + 1) % kCapacity;
  for (std::size_t i = 0; i < records_.size(); ++i)
    out.push_back(records_[(oldest + i) % records_.size()]);
  return out;
}

}  // namespace rill::detail
