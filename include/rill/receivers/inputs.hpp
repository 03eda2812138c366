#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "rill/dstream/node.hpp"
#include "rill/receivers/block_log.hpp"
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
        Batch<T>::contiguous(std::move(records), this->num_partitions()));
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

  /// The write-ahead log's position (the first block no batch has taken).
  [[nodiscard]] std::optional<StateDescriptor> state_descriptor() const override {
    return this->template describe_state<T>();
  }

  [[nodiscard]] bool wants_block_log() const noexcept override { return true; }
  void attach_block_log(std::unique_ptr<BlockLog> log) override {
    if constexpr (is_serializable_v<T>) {
      log_ = std::move(log);
      queue_.set_log([this](const std::vector<T>& block, const std::string& position) {
        return static_cast<std::int64_t>(log_->append(to_bytes(position, block)));
      });
      // The last durable block tells a reliable receiver where its source stands.
      if (auto last = log_->last()) {
        std::string position;
        std::vector<T> block;
        from_bytes(last->second, position, block);
        receiver_->set_recovered_position(std::move(position));
        logged_before_start_ = last->first + 1;
      }
    }
  }

  std::int64_t seal(Time t, bool take_buffered) override {
    if (!take_buffered) {
      std::lock_guard lock(log_mutex_);
      assigned_at_[t] = assigned_end_;
    }
    if (!take_buffered) return this->seal_records(t, {});
    recover_unassigned();
    auto [records, parts] = queue_.drain();
    {
      std::lock_guard lock(log_mutex_);
      for (const auto& [seq, n] : parts) {
        if (seq >= 0) assigned_end_ = std::max(assigned_end_, static_cast<std::uint64_t>(seq) + 1);
      }
      parts_[t] = std::move(parts);
      assigned_at_[t] = assigned_end_;
    }
    return this->seal_records(t, std::move(records));
  }

  /// Logged blocks by sequence, records stored one by one inline.
  [[nodiscard]] std::string seal_record(Time t) const override {
    if constexpr (is_serializable_v<T>) {
      const auto records = this->sealed_records(t);
      std::vector<std::pair<std::int64_t, std::vector<T>>> items;
      std::lock_guard lock(log_mutex_);
      std::size_t pos = 0;
      if (auto it = parts_.find(t); it != parts_.end()) {
        for (const auto& [seq, n] : it->second) {
          const auto from = records.begin() + static_cast<std::ptrdiff_t>(pos);
          if (seq >= 0 && log_) {
            items.emplace_back(seq, std::vector<T>{});
          } else {
            items.emplace_back(-1, std::vector<T>(from, from + static_cast<std::ptrdiff_t>(n)));
          }
          pos += n;
        }
      }
      return to_bytes(items);
    } else {
      return {};
    }
  }

  std::int64_t replay_seal(Time t, std::string_view record) override {
    std::vector<T> records;
    if constexpr (is_serializable_v<T>) {
      std::vector<std::pair<std::int64_t, std::vector<T>>> items;
      if (!record.empty()) from_bytes(record, items);
      std::map<std::int64_t, std::string> logged;
      std::int64_t first = -1;
      for (const auto& [seq, inline_records] : items) {
        if (seq >= 0 && (first < 0 || seq < first)) first = seq;
      }
      if (first >= 0 && log_) {
        for (auto& [seq, bytes] : log_->read_from(static_cast<std::uint64_t>(first))) {
          logged.emplace(static_cast<std::int64_t>(seq), std::move(bytes));
        }
      }
      std::lock_guard lock(log_mutex_);
      for (auto& [seq, inline_records] : items) {
        if (seq < 0) {
          records.insert(records.end(), std::make_move_iterator(inline_records.begin()),
                         std::make_move_iterator(inline_records.end()));
          continue;
        }
        assigned_end_ = std::max(assigned_end_, static_cast<std::uint64_t>(seq) + 1);
        auto it = logged.find(seq);
        if (it == logged.end()) {
          throw CheckpointError(
              fmt::format("receiver {}: block {} of batch {} is missing from the write-ahead log",
                          this->name(), seq, t));
        }
        std::string position;
        std::vector<T> block;
        from_bytes(it->second, position, block);
        records.insert(records.end(), std::make_move_iterator(block.begin()),
                       std::make_move_iterator(block.end()));
      }
      assigned_at_[t] = assigned_end_;
    }
    return this->seal_records(t, std::move(records));
  }

  [[nodiscard]] std::string save_state(Time t) const override {
    std::lock_guard lock(log_mutex_);
    auto it = assigned_at_.find(t);
    return to_bytes(it == assigned_at_.end() ? assigned_end_ : it->second);
  }
  void load_state(std::string_view bytes) override {
    std::lock_guard lock(log_mutex_);
    from_bytes(bytes, assigned_end_);
    if (log_ && assigned_end_ > logged_before_start_) {
      // The log always keeps its newest block; without it, where the source stands is unknown,
      // and a reliable receiver would be sent again what batches already counted.
      throw CheckpointError(fmt::format(
          "receiver {}: batches took its blocks up to {}, but its write-ahead log ends at block "
          "{}: the log was damaged or removed",
          this->name(), assigned_end_, logged_before_start_));
    }
    recovering_ = true;
  }
  void checkpoint_written(Time t) override {
    if (!log_) return;
    std::uint64_t keep_from;
    {
      std::lock_guard lock(log_mutex_);
      auto it = assigned_at_.find(t);
      if (it == assigned_at_.end()) return;
      keep_from = it->second;
    }
    log_->truncate_before(keep_from);
  }
  void release_input(Time t) override {
    SealedInputNode<T>::release_input(t);
    std::lock_guard lock(log_mutex_);
    parts_.erase(parts_.begin(), parts_.upper_bound(t));
    assigned_at_.erase(assigned_at_.begin(), assigned_at_.upper_bound(t));
  }

  /// With a checkpoint directory, a receiver's blocks (store(std::vector<T>)) are logged before
  /// store() returns: a reliable receiver loses nothing. A socket cannot acknowledge what it
  /// read, so what the kernel held is lost: at most once.
  [[nodiscard]] Delivery input_delivery() const override {
    return this->kind() == "socket_text_stream" ? Delivery::at_most_once : Delivery::exactly_once;
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

 private:
  /// After a restart, the logged blocks no batch took go first into the next batch.
  void recover_unassigned() {
    std::uint64_t from;
    {
      std::lock_guard lock(log_mutex_);
      if (!recovering_ || !log_) return;
      recovering_ = false;
      from = assigned_end_;
    }
    if constexpr (is_serializable_v<T>) {
      for (auto& [seq, bytes] : log_->read_from(from)) {
        // Blocks this run logged are in the queue already.
        if (seq >= logged_before_start_) break;
        std::string position;
        std::vector<T> block;
        from_bytes(bytes, position, block);
        queue_.push_recovered(static_cast<std::int64_t>(seq), std::move(block));
      }
    }
  }

  std::shared_ptr<Receiver<T>> receiver_;
  BlockQueue<T> queue_;
  std::unique_ptr<ReceiverSupervisor> supervisor_;
  std::unique_ptr<BlockLog> log_;
  mutable std::mutex log_mutex_;
  std::uint64_t assigned_end_ = 0;         // 1 + the last logged block a batch took
  std::uint64_t logged_before_start_ = 0;  // blocks below were logged by an earlier run
  std::map<Time, std::vector<typename BlockQueue<T>::Part>> parts_;
  std::map<Time, std::uint64_t> assigned_at_;
  bool recovering_ = false;
};

}  // namespace rill::detail
