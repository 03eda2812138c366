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
  std::mutex sealed_mutex_;
  std::map<Time, std::vector<T>> sealed_;
};

/// queue_stream: one queued vector per batch, or all that are queued at once.
template <class T>
class QueueInputNode final : public SealedInputNode<T> {
 public:
  QueueInputNode(std::deque<std::vector<T>> queue, bool one_at_a_time, Duration interval,
                 std::size_t partitions)
      : SealedInputNode<T>("queue_stream", interval, partitions),
        queue_(std::move(queue)),
        one_at_a_time_(one_at_a_time) {}

  /// Its position in the queue (and, for replay, the records it still holds).
  [[nodiscard]] std::optional<StateDescriptor> state_descriptor() const override {
    return this->template describe_state<std::int64_t, T>();
  }

  std::int64_t seal(Time t, bool /*take_buffered*/) override {
    std::vector<T> records;
    {
      std::lock_guard lock(queue_mutex_);
      if (one_at_a_time_) {
        if (!queue_.empty()) {
          records = std::move(queue_.front());
          queue_.pop_front();
        }
      } else {
        for (auto& v : queue_) {
          records.insert(records.end(), std::make_move_iterator(v.begin()),
                         std::make_move_iterator(v.end()));
        }
        queue_.clear();
      }
    }
    return this->seal_records(t, std::move(records));
  }

 private:
  std::mutex queue_mutex_;
  std::deque<std::vector<T>> queue_;
  bool one_at_a_time_;
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
