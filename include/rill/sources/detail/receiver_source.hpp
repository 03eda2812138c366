#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rill/checkpoint/detail/block_log.hpp"
#include "rill/core/errors.hpp"
#include "rill/core/serialization.hpp"
#include "rill/sources/detail/block_queue.hpp"
#include "rill/sources/detail/rate_limiter.hpp"
#include "rill/sources/detail/receiver_supervisor.hpp"
#include "rill/sources/detail/runtime.hpp"
#include "rill/sources/receiver.hpp"
#include "rill/sources/source.hpp"

namespace rill::detail {

/// receiver_stream (and socket_text_stream): what the receiver stored since the last tick,
/// from its bounded queue. With a checkpoint directory, blocks a receiver stores
/// (store(std::vector<T>)) reach a write-ahead log before store() returns, and seal records
/// name them by sequence; records stored one by one are written into the seal record itself.
template <class T>
class ReceiverSource final : public Source<T> {
 public:
  /// `kind` names the stream; `properties` says what the receiver guarantees (a socket cannot
  /// acknowledge what it read: what the kernel held is lost, at most once). `bounds` limits the
  /// queue (Config::receiver_queue_capacity and receiver_queue_bytes).
  ReceiverSource(std::string kind, std::shared_ptr<Receiver<T>> receiver, QueueBounds bounds,
                 SourceProperties properties)
      : kind_(std::move(kind)),
        properties_(properties),
        receiver_(std::move(receiver)),
        queue_(bounds) {}

  ~ReceiverSource() override {
    if (supervisor_) supervisor_->stop();
  }

  [[nodiscard]] std::string kind() const override { return kind_; }
  /// What the caller declared, and rate_limited: store() honours a rate limit.
  [[nodiscard]] SourceProperties properties() const override {
    SourceProperties p = properties_;
    p.rate_limited = true;
    return p;
  }

  void start(SourceContext& ctx) override {
    name_ = ctx.name();
    checkpointing_ = ctx.checkpointing();
    // A damaged log throws CheckpointError here: start() fails, stopping what it started, and
    // the receiver never starts on it.
    if (checkpointing_) attach_log(ctx.runtime().open_block_log(ctx.name()));
    // The first limit: max_rate_per_source, and with back-pressure its initial rate.
    const Config& config = ctx.config();
    max_rate_ = config.max_rate_per_source();
    limiter_.use_clock(config.clock());
    limiter_.set_rate(capped(config.backpressure() ? config.backpressure_initial_rate() : 0));
    receiver_->attach_queue(&queue_, &limiter_);
    supervisor_ = std::make_unique<ReceiverSupervisor>(
        *receiver_, ctx.name(),
        [this](bool paused) {
          limiter_.pause(paused);
          queue_.pause(paused);
        },
        [this] {
          limiter_.close();
          queue_.close();
        });
    supervisor_->start(ctx.runtime());
  }

  /// Back-pressure's estimate, capped by Config::max_rate_per_source (Spark's
  /// RateLimiter.updateRate).
  void update_rate(double records_per_second) override {
    if (records_per_second > 0) limiter_.set_rate(capped(records_per_second));
  }
  [[nodiscard]] std::optional<double> rate_limit() const override { return limiter_.rate(); }

  Sealed<T> seal(Time t, bool take_buffered) override {
    if (!take_buffered) {
      std::lock_guard lock(log_mutex_);
      assigned_at_[t] = assigned_end_;
      return {};
    }
    recover_unassigned();
    auto [records, parts] = queue_.drain();
    {
      std::lock_guard lock(log_mutex_);
      for (const auto& [seq, n] : parts) {
        if (seq >= 0) assigned_end_ = std::max(assigned_end_, static_cast<std::uint64_t>(seq) + 1);
      }
      assigned_at_[t] = assigned_end_;
    }
    Sealed<T> sealed;
    if (checkpointing_) sealed.seal_record = seal_record(records, parts);
    sealed.records = std::move(records);
    return sealed;
  }

  [[nodiscard]] std::optional<QueueInfo> queue_info() const override {
    const DrainStats drained = queue_.last_drain();
    const QueueBounds bounds = queue_.bounds();
    return QueueInfo{static_cast<std::int64_t>(drained.records),
                     static_cast<std::int64_t>(drained.bytes),
                     static_cast<std::int64_t>(bounds.records),
                     static_cast<std::int64_t>(bounds.bytes), drained.blocked};
  }

  std::vector<T> replay(Time t, std::string_view record) override {
    std::vector<T> records;
    if constexpr (is_serializable_v<T>) {
      std::vector<std::pair<std::int64_t, std::vector<T>>> items;
      if (!record.empty()) decode(record, fmt::format("the seal record of batch {}", t), items);
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
        // A block this run logged under the number of a lost one is not the block the batch
        // took: the seal names only blocks logged before the restart.
        if (it == logged.end() || !log_ ||
            static_cast<std::uint64_t>(seq) >= logged_before_start_) {
          throw CheckpointError(
              fmt::format("receiver {}: block {} that batch {} took is missing from its "
                          "write-ahead log: {}; the batch cannot run again with its input",
                          name_, seq, t, why_lost(static_cast<std::uint64_t>(seq))));
        }
        std::string position;
        std::vector<T> block;
        decode(it->second, logged_block(static_cast<std::uint64_t>(seq)), position, block);
        records.insert(records.end(), std::make_move_iterator(block.begin()),
                       std::make_move_iterator(block.end()));
      }
      assigned_at_[t] = assigned_end_;
    }
    return records;
  }

  /// The write-ahead log's position: the first block no batch has taken.
  [[nodiscard]] std::optional<PositionType> position() const override { return position_type<T>(); }
  [[nodiscard]] std::string save_position(Time t) const override {
    std::lock_guard lock(log_mutex_);
    auto it = assigned_at_.find(t);
    return to_bytes(it == assigned_at_.end() ? assigned_end_ : it->second);
  }
  void load_position(std::string_view bytes) override {
    std::lock_guard lock(log_mutex_);
    from_bytes(bytes, assigned_end_);
    // The log keeps the newest block a batch took. Without it, where the source stands is
    // unknown, and a reliable receiver would be sent again what batches already counted.
    if (log_ && assigned_end_ > 0 &&
        (assigned_end_ > logged_before_start_ || log_->torn(assigned_end_ - 1))) {
      throw CheckpointError(fmt::format(
          "receiver {}: batches took its blocks up to {}, but its write-ahead log lost block {}: "
          "{}; a block a batch took was durable, so the log is damaged",
          name_, assigned_end_ - 1, assigned_end_ - 1, why_lost(assigned_end_ - 1)));
    }
    recovering_ = true;
  }
  void checkpoint_written(Time t, Time oldest_retained) override {
    if (!log_) return;
    std::uint64_t keep_from;
    {
      std::lock_guard lock(log_mutex_);
      if (auto it = assigned_at_.find(t); it != assigned_at_.end())
        checkpointed_at_[t] = it->second;
      checkpointed_at_.erase(checkpointed_at_.begin(),
                             checkpointed_at_.lower_bound(oldest_retained));
      // A restart may restore the oldest retained checkpoint and replay the batches after it:
      // keep the blocks after its position. A checkpoint of an earlier run (position unknown
      // here) keeps everything until this run's checkpoints are the oldest.
      if (checkpointed_at_.empty() || checkpointed_at_.begin()->first != oldest_retained) return;
      keep_from = checkpointed_at_.begin()->second;
    }
    log_->truncate_before(keep_from);
  }
  void release(Time t) override {
    std::lock_guard lock(log_mutex_);
    assigned_at_.erase(assigned_at_.begin(), assigned_at_.upper_bound(t));
  }

  void stop() override {
    if (supervisor_) supervisor_->stop();
  }
  /// The queue, and after a restart the logged blocks no batch took until the first seal
  /// queues them: a graceful stop before that seal still runs them.
  [[nodiscard]] bool has_buffered_input() const override {
    if (queue_.size() > 0) return true;
    std::lock_guard lock(log_mutex_);
    return recovering_ && log_ && assigned_end_ < logged_before_start_;
  }

  [[nodiscard]] SourceCounts counts() const override {
    if (!supervisor_) return {};
    return SourceCounts{supervisor_->skipped(), supervisor_->errors()};
  }

 private:
  void attach_log(std::unique_ptr<BlockLog> log) {
    if constexpr (is_serializable_v<T>) {
      log_ = std::move(log);
      if (!log_) return;
      queue_.set_log([this](const std::vector<T>& block, const std::string& position) {
        return static_cast<std::int64_t>(log_->append(to_bytes(position, block)));
      });
      // The last durable block tells a reliable receiver where its source stands.
      if (auto last = log_->last()) {
        std::string position;
        std::vector<T> block;
        decode(last->second, logged_block(last->first), position, block);
        receiver_->set_recovered_position(std::move(position));
      }
      logged_before_start_ = log_->next();
    }
  }

  /// Logged blocks by sequence, records stored one by one inline.
  std::string seal_record(const std::vector<T>& records,
                          const std::vector<typename BlockQueue<T>::Part>& parts) const {
    if constexpr (is_serializable_v<T>) {
      std::vector<std::pair<std::int64_t, std::vector<T>>> items;
      std::size_t pos = 0;
      for (const auto& [seq, n] : parts) {
        const auto from = records.begin() + static_cast<std::ptrdiff_t>(pos);
        if (seq >= 0 && log_) {
          items.emplace_back(seq, std::vector<T>{});
        } else {
          items.emplace_back(-1, std::vector<T>(from, from + static_cast<std::ptrdiff_t>(n)));
        }
        pos += n;
      }
      return to_bytes(items);
    } else {
      return {};
    }
  }

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
        decode(bytes, logged_block(static_cast<std::uint64_t>(seq)), position, block);
        queue_.push_recovered(static_cast<std::int64_t>(seq), std::move(block));
      }
    }
  }

  /// Decodes what the write-ahead log or a seal record holds for this receiver; malformed bytes
  /// are a rill::CheckpointError naming the receiver and `what` (the block and its log).
  template <class... Out>
  void decode(std::string_view bytes, const std::string& what, Out&... out) const {
    try {
      from_bytes(bytes, out...);
    } catch (const std::exception& e) {
      throw CheckpointError(
          fmt::format("receiver {}: {} cannot be decoded ({}); the checkpoint directory is "
                      "damaged or was written for another element type",
                      name_, what, e.what()));
    }
  }

  std::string logged_block(std::uint64_t seq) const {
    return fmt::format("block {} of its write-ahead log in '{}'", seq, log_->location());
  }

  /// Why block `seq`, which a batch took, is not in the log (or must not be read from it).
  std::string why_lost(std::uint64_t seq) const {
    if (!log_) return "the receiver has no write-ahead log";
    if (auto torn = log_->torn(seq)) return *torn;
    if (seq < logged_before_start_) {
      return fmt::format("the log in '{}' does not hold it (a segment was deleted)",
                         log_->location());
    }
    return fmt::format(
        "the log in '{}' {} when the context started (its newest segment was deleted)",
        log_->location(),
        logged_before_start_ == 0 ? std::string("held no block")
                                  : fmt::format("ended at block {}", logged_before_start_ - 1));
  }

  /// `rate` (records/s, 0: none) capped by max_rate_per_source (0: none); 0 when neither limits.
  [[nodiscard]] double capped(double rate) const noexcept {
    if (max_rate_ <= 0) return rate;
    if (rate <= 0) return max_rate_;
    return std::min(rate, max_rate_);
  }

  std::string kind_;
  SourceProperties properties_;
  std::shared_ptr<Receiver<T>> receiver_;
  RateLimiter limiter_;  // before the queue: store() waits on it first
  double max_rate_ = 0;  // Config::max_rate_per_source, records/s; 0: unlimited
  BlockQueue<T> queue_;
  std::string name_;  // the stream's, once started
  bool checkpointing_ = false;
  std::unique_ptr<ReceiverSupervisor> supervisor_;
  std::unique_ptr<BlockLog> log_;
  mutable std::mutex log_mutex_;
  std::uint64_t assigned_end_ = 0;         // 1 + the last logged block a batch took
  std::uint64_t logged_before_start_ = 0;  // blocks below were logged by an earlier run
  std::map<Time, std::uint64_t> assigned_at_;
  std::map<Time, std::uint64_t> checkpointed_at_;  // assigned_end_ of the retained checkpoints
  bool recovering_ = false;
};

}  // namespace rill::detail
