#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rill/core/serialization.hpp"
#include "rill/sources/source.hpp"

namespace rill::detail {

/// queue_stream: one queued vector per batch, or all that are queued at once. The queue is
/// fixed at creation and read by position, so a restarted context (whose factory builds the same
/// queue) replays a batch from the positions it recorded. Exactly once: its position is
/// checkpointed and its seal records name the vectors a batch took.
template <class T>
class QueueSource final : public Source<T> {
 public:
  QueueSource(std::deque<std::vector<T>> queue, bool one_at_a_time)
      : queue_(std::move(queue)), one_at_a_time_(one_at_a_time) {}

  [[nodiscard]] std::string kind() const override { return "queue_stream"; }
  [[nodiscard]] SourceProperties properties() const override {
    return SourceProperties{
        .delivery = Delivery::exactly_once, .replayable = true, .available_now = true};
  }
  void start(SourceContext& ctx) override { checkpointing_ = ctx.checkpointing(); }

  Sealed<T> seal(Time t, bool /*take_buffered*/) override {
    std::size_t from;
    {
      std::lock_guard lock(queue_mutex_);
      from = next_;
    }
    const std::size_t to = one_at_a_time_ ? std::min(from + 1, queue_.size()) : queue_.size();
    Sealed<T> sealed{take(t, from, to), {}};
    if (checkpointing_) {
      sealed.seal_record = to_bytes(std::pair<std::uint64_t, std::uint64_t>{from, to});
    }
    return sealed;
  }

  std::vector<T> replay(Time t, std::string_view record) override {
    std::pair<std::uint64_t, std::uint64_t> range{0, 0};
    if (!record.empty()) from_bytes(record, range);
    const auto to = std::min<std::size_t>(range.second, queue_.size());
    return take(t, std::min<std::size_t>(range.first, to), to);
  }

  /// Under Trigger::available_now: the queued vectors not taken yet (the queue is fixed at
  /// creation, so all of it was there at start()).
  [[nodiscard]] bool has_available_input() const override {
    std::lock_guard lock(queue_mutex_);
    return next_ < queue_.size();
  }

  void release(Time t) override {
    std::lock_guard lock(queue_mutex_);
    ranges_.erase(ranges_.begin(), ranges_.upper_bound(t));
  }

  /// Its position in the queue.
  [[nodiscard]] std::optional<PositionType> position() const override {
    return position_type<std::uint64_t>();
  }
  [[nodiscard]] std::string save_position(Time t) const override {
    std::lock_guard lock(queue_mutex_);
    auto it = ranges_.find(t);
    const std::uint64_t position = it == ranges_.end() ? next_ : it->second;
    return to_bytes(position);
  }
  void load_position(std::string_view bytes) override {
    std::uint64_t position = 0;
    from_bytes(bytes, position);
    std::lock_guard lock(queue_mutex_);
    next_ = std::min<std::size_t>(position, queue_.size());
  }

 private:
  /// The queued vectors [from, to) as batch t's records. Each is taken once (moved out).
  std::vector<T> take(Time t, std::size_t from, std::size_t to) {
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
    std::lock_guard lock(queue_mutex_);
    next_ = std::max(next_, to);
    ranges_[t] = to;
    return records;
  }

  mutable std::mutex queue_mutex_;
  std::deque<std::vector<T>> queue_;  // read by the scheduler thread only
  bool one_at_a_time_;
  bool checkpointing_ = false;
  std::size_t next_ = 0;
  std::map<Time, std::uint64_t> ranges_;  // batch -> the queue position after it
};

}  // namespace rill::detail
