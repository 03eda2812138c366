#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "rill/dstream/node.hpp"
#include "rill/receivers/receiver.hpp"

/// Input nodes: each fixes the input of batch t when the tick seals it, before the batch runs,
/// so that the batch is a pure function of what was sealed.
namespace rill::detail {

/// An input whose sealed input is a list of records, cut into the context's parallelism in order.
template <class T>
class SealedInputNode : public Node<T> {
 public:
  SealedInputNode(std::string kind, Duration interval, std::size_t partitions)
      : Node<T>(std::move(kind), {}, interval, partitions) {}

  [[nodiscard]] bool is_input() const noexcept override { return true; }

  void release_input(Time t) override {
    std::lock_guard lock(sealed_mutex_);
    sealed_.erase(t);
  }

  [[nodiscard]] SourceStats source_stats() const override {
    return SourceStats{this->name(), records_.load(), skipped_.load(), errors_.load()};
  }

 protected:
  std::int64_t seal_records(Time t, std::vector<T> records) {
    const auto n = static_cast<std::int64_t>(records.size());
    records_ += n;
    std::lock_guard lock(sealed_mutex_);
    sealed_[t] = std::move(records);
    return n;
  }

  /// A copy of batch t's sealed records (for seal records).
  [[nodiscard]] std::vector<T> sealed_records(Time t) const {
    std::lock_guard lock(sealed_mutex_);
    auto it = sealed_.find(t);
    return it == sealed_.end() ? std::vector<T>{} : it->second;
  }

  std::shared_ptr<const Batch<T>> compute(Time t, Exec& /*ex*/) override {
    std::vector<T> records;
    {
      std::lock_guard lock(sealed_mutex_);
      if (auto it = sealed_.find(t); it != sealed_.end()) records = std::move(it->second);
    }
    return std::make_shared<const Batch<T>>(
        split_contiguous(std::move(records), this->num_partitions()));
  }

  std::atomic<std::int64_t> records_{0};
  std::atomic<std::int64_t> skipped_{0};
  std::atomic<std::int64_t> errors_{0};

 private:
  mutable std::mutex sealed_mutex_;
  std::map<Time, std::vector<T>> sealed_;
};

/// queue_stream: one queued vector per batch, or all that are queued at once. The queue is
/// fixed at creation and read by position, so a restarted context (whose factory builds the same
/// queue) replays a batch from the positions it recorded.
template <class T>
class QueueInputNode final : public SealedInputNode<T> {
 public:
  QueueInputNode(std::deque<std::vector<T>> queue, bool one_at_a_time, Duration interval,
                 std::size_t partitions)
      : SealedInputNode<T>("queue_stream", interval, partitions),
        queue_(std::move(queue)),
        one_at_a_time_(one_at_a_time) {}

  /// Its position in the queue.
  [[nodiscard]] std::optional<StateDescriptor> state_descriptor() const override {
    return this->template describe_state<std::uint64_t>();
  }

  std::int64_t seal(Time t, bool /*take_buffered*/) override {
    std::size_t from;
    {
      std::lock_guard lock(queue_mutex_);
      from = next_;
    }
    const std::size_t to = one_at_a_time_ ? std::min(from + 1, queue_.size()) : queue_.size();
    return take(t, from, to);
  }

  [[nodiscard]] std::string seal_record(Time t) const override {
    std::lock_guard lock(queue_mutex_);
    auto it = ranges_.find(t);
    return it == ranges_.end() ? std::string{} : to_bytes(it->second);
  }

  std::int64_t replay_seal(Time t, std::string_view record) override {
    std::pair<std::uint64_t, std::uint64_t> range{0, 0};
    if (!record.empty()) from_bytes(record, range);
    const auto to = std::min<std::size_t>(range.second, queue_.size());
    return take(t, std::min<std::size_t>(range.first, to), to);
  }

  [[nodiscard]] std::string save_state(Time t) const override {
    std::lock_guard lock(queue_mutex_);
    auto it = ranges_.find(t);
    const std::uint64_t position = it == ranges_.end() ? next_ : it->second.second;
    return to_bytes(position);
  }

  void load_state(std::string_view bytes) override {
    std::uint64_t position = 0;
    from_bytes(bytes, position);
    std::lock_guard lock(queue_mutex_);
    next_ = std::min<std::size_t>(position, queue_.size());
  }

  void release_input(Time t) override {
    SealedInputNode<T>::release_input(t);
    std::lock_guard lock(queue_mutex_);
    ranges_.erase(ranges_.begin(), ranges_.upper_bound(t));
  }

 private:
  /// Seals the queued vectors [from, to) into batch t. Each is taken once (moved out).
  std::int64_t take(Time t, std::size_t from, std::size_t to) {
    std::vector<T> records;
    for (std::size_t i = from; i < to; ++i) {
      auto& v = queue_[i];
      if (records.empty()) {
        records = std::move(v);
      } else {
        records.insert(records.end(), std::make_move_iterator(v.begin()),
                       std::make_move_iterator(v.end()));
      }
      v = {};
    }
    {
      std::lock_guard lock(queue_mutex_);
      next_ = std::max(next_, to);
      ranges_[t] = {from, to};
    }
    return this->seal_records(t, std::move(records));
  }

  mutable std::mutex queue_mutex_;
  std::deque<std::vector<T>> queue_;  // read by the scheduler thread only
  bool one_at_a_time_;
  std::size_t next_ = 0;
  std::map<Time, std::pair<std::uint64_t, std::uint64_t>> ranges_;  // batch -> [from, to)
};

/// receiver_stream (and socket_text_stream): what the receiver stored since the last tick.
template <class T>
class ReceiverInputNode final : public SealedInputNode<T> {
 public:
  ReceiverInputNode(std::string kind, std::shared_ptr<Receiver<T>> receiver, Duration interval,
                    std::size_t partitions, std::size_t capacity)
      : SealedInputNode<T>(std::move(kind), interval, partitions),
        receiver_(std::move(receiver)),
        queue_(capacity) {}

  ~ReceiverInputNode() override {
    if (supervisor_) supervisor_->stop();
  }

  void start_input(Runtime& rt, Time /*zero*/) override {
    receiver_->attach_queue(&queue_);
    supervisor_ = std::make_unique<ReceiverSupervisor>(
        *receiver_, this->name(), [this](bool paused) { queue_.pause(paused); },
        [this] { queue_.close(); });
    supervisor_->start(rt);
  }

  /// The records of logged blocks (the write-ahead log replays them).
  [[nodiscard]] std::optional<StateDescriptor> state_descriptor() const override {
    return this->template describe_state<T>();
  }

  std::int64_t seal(Time t, bool take_buffered) override {
    return this->seal_records(t, take_buffered ? queue_.drain() : std::vector<T>{});
  }

  /// The sealed records themselves: a receiver cannot replay its source.
  [[nodiscard]] std::string seal_record(Time t) const override {
    if constexpr (is_serializable_v<T>) {
      return to_bytes(this->sealed_records(t));
    } else {
      return {};
    }
  }

  std::int64_t replay_seal(Time t, std::string_view record) override {
    std::vector<T> records;
    if constexpr (is_serializable_v<T>) {
      if (!record.empty()) from_bytes(record, records);
    }
    return this->seal_records(t, std::move(records));
  }

  /// Records stored but not yet sealed when the process dies are lost: at most once.
  [[nodiscard]] Delivery input_delivery() const override { return Delivery::at_most_once; }

  void stop_input() override {
    if (supervisor_) supervisor_->stop();
  }

  [[nodiscard]] bool has_buffered_input() const override { return queue_.size() > 0; }

  [[nodiscard]] SourceStats source_stats() const override {
    auto stats = SealedInputNode<T>::source_stats();
    if (supervisor_) {
      stats.errors += supervisor_->errors();
      stats.skipped += supervisor_->skipped();
    }
    return stats;
  }

  [[nodiscard]] std::size_t buffered() const { return queue_.size(); }
  [[nodiscard]] Receiver<T>& receiver() const noexcept { return *receiver_; }

 private:
  std::shared_ptr<Receiver<T>> receiver_;
  BlockQueue<T> queue_;
  std::unique_ptr<ReceiverSupervisor> supervisor_;
};

}  // namespace rill::detail
