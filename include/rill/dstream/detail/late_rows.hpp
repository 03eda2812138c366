#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "rill/core/batch.hpp"
#include "rill/core/time.hpp"
#include "rill/dstream/detail/node.hpp"

namespace rill::detail {

/// The rows an event-time operator dropped as late, per batch (its late_records() side output).
/// The operator puts a batch's late rows after computing it and forgets them once the batch is
/// done; LateRecordsNode reads them. Thread-safety: put/get/forget under a mutex (batch thread
/// in practice).
template <class T>
class LateRows {
 public:
  /// Batch t's late rows, by source partition, in arrival order.
  void put(Time t, typename Batch<T>::Partitions parts) {
    std::int64_t n = 0;
    for (const auto& p : parts)
      n += static_cast<std::int64_t>(p.size());
    std::lock_guard lock(mutex_);
    count_ = n;
    batches_[t] = std::make_shared<const Batch<T>>(std::move(parts));
  }
  /// Batch t's late rows (empty when none were put).
  [[nodiscard]] std::shared_ptr<const Batch<T>> get(Time t, std::size_t partitions) const {
    std::lock_guard lock(mutex_);
    if (auto it = batches_.find(t); it != batches_.end()) return it->second;
    return std::make_shared<const Batch<T>>(typename Batch<T>::Partitions(partitions));
  }
  /// Late rows of the last batch put (StateInfo::late_records).
  [[nodiscard]] std::int64_t last_count() const {
    std::lock_guard lock(mutex_);
    return count_;
  }
  /// Batches up to t are done.
  void forget(Time t) {
    std::lock_guard lock(mutex_);
    while (!batches_.empty() && batches_.begin()->first <= t)
      batches_.erase(batches_.begin());
  }

 private:
  mutable std::mutex mutex_;
  std::map<Time, std::shared_ptr<const Batch<T>>> batches_;
  std::int64_t count_ = 0;
};

/// An operator with a late_records() side output.
template <class T>
class HasLateRows {
 public:
  [[nodiscard]] const LateRows<T>& late_rows() const noexcept { return late_; }

 protected:
  ~HasLateRows() = default;
  LateRows<T> late_;
};

/// late_records(): the rows of each batch that the operator `Op` dropped as late, in the batch
/// that dropped them, partitioned as its input was.
template <class T, class Op>
class LateRecordsNode final : public Node<T> {
 public:
  explicit LateRecordsNode(std::shared_ptr<Op> op, std::size_t input_partitions)
      : Node<T>("late_records", {op}, op->slide(), input_partitions), op_(std::move(op)) {}

 protected:
  std::shared_ptr<const Batch<T>> compute(Time t, Exec& ex) override {
    (void)op_->get(t, ex);
    return op_->late_rows().get(t, this->num_partitions());
  }

 private:
  std::shared_ptr<Op> op_;
};

}  // namespace rill::detail
