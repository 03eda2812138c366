#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "rill/core/errors.hpp"

namespace rill::detail {

/// A receiver's bounded buffer: store() blocks while it holds `capacity` records. Drained whole
/// at each tick. Closed at stop, paused during a restart: then store() throws rill::Stopped.
template <class T>
class BlockQueue {
 public:
  /// A stretch of drained records: a logged block (its write-ahead log sequence) or records
  /// stored one by one (seq -1), with its record count.
  using Part = std::pair<std::int64_t, std::size_t>;

  explicit BlockQueue(std::size_t capacity) : capacity_(capacity) {}

  /// With a write-ahead log: `log(block)` makes a block durable and returns its sequence.
  void set_log(std::function<std::int64_t(const std::vector<T>&, const std::string&)> log) {
    log_ = std::move(log);
  }

  void push(T item) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return count_ < capacity_ || !open_(); });
    if (!open_()) throw_stopped();
    open_block_.push_back(std::move(item));
    ++count_;
  }

  void push_block(std::vector<T> items, const std::string& position = {}) {
    if (items.empty()) return;
    std::lock_guard append(append_mutex_);  // blocks enter the log and the queue in one order
    {
      std::unique_lock lock(mutex_);
      // A block larger than the whole capacity is taken once the queue is empty.
      not_full_.wait(lock,
                     [&] { return count_ + items.size() <= capacity_ || count_ == 0 || !open_(); });
      if (!open_()) throw_stopped();
    }
    // Once logged the block is accepted, even if stopping begins meanwhile: it is durable.
    const std::int64_t seq = log_ ? log_(items, position) : -1;
    std::lock_guard lock(mutex_);
    flush_open_block();
    count_ += items.size();
    blocks_.push_back(Block{seq, std::move(items)});
  }

  /// Recovery: a logged block no batch took before a restart, queued ahead of new input.
  void push_recovered(std::int64_t seq, std::vector<T> items) {
    std::lock_guard lock(mutex_);
    count_ += items.size();
    blocks_.insert(blocks_.begin() + static_cast<std::ptrdiff_t>(recovered_++),
                   Block{seq, std::move(items)});
  }

  /// Everything buffered, in arrival order, and how it was stored.
  std::pair<std::vector<T>, std::vector<Part>> drain() {
    std::vector<T> out;
    std::vector<Part> parts;
    {
      std::lock_guard lock(mutex_);
      flush_open_block();
      out.reserve(count_);
      for (auto& b : blocks_) {
        parts.emplace_back(b.seq, b.records.size());
        if (out.empty()) {
          out = std::move(b.records);
        } else {
          out.insert(out.end(), std::make_move_iterator(b.records.begin()),
                     std::make_move_iterator(b.records.end()));
        }
      }
      blocks_.clear();
      count_ = 0;
      recovered_ = 0;
    }
    not_full_.notify_all();
    return {std::move(out), std::move(parts)};
  }

  [[nodiscard]] std::size_t size() const {
    std::lock_guard lock(mutex_);
    return count_;
  }
  void close() { set_flag(closed_, true); }
  void pause(bool paused) { set_flag(paused_, paused); }

 private:
  struct Block {
    std::int64_t seq = -1;
    std::vector<T> records;
  };

  [[nodiscard]] bool open_() const noexcept { return !closed_ && !paused_; }
  [[noreturn]] static void throw_stopped() {
    throw Stopped("Receiver::store: the receiver is stopping; stop storing and return");
  }
  void flush_open_block() {
    if (!open_block_.empty()) blocks_.push_back(Block{-1, std::exchange(open_block_, {})});
  }
  void set_flag(bool& flag, bool value) {
    {
      std::lock_guard lock(mutex_);
      flag = value;
    }
    not_full_.notify_all();
  }

  const std::size_t capacity_;
  std::function<std::int64_t(const std::vector<T>&, const std::string&)> log_;
  std::mutex append_mutex_;
  mutable std::mutex mutex_;
  std::condition_variable not_full_;
  std::vector<Block> blocks_;
  std::vector<T> open_block_;
  std::size_t count_ = 0;
  std::size_t recovered_ = 0;
  bool closed_ = false;
  bool paused_ = false;
};

}  // namespace rill::detail
