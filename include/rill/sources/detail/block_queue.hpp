#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "rill/core/errors.hpp"

namespace rill::detail {

template <class T>
struct is_contiguous_container : std::false_type {};
template <class C, class Tr, class A>
struct is_contiguous_container<std::basic_string<C, Tr, A>> : std::true_type {};
template <class U, class A>
struct is_contiguous_container<std::vector<U, A>> : std::true_type {};

/// The bytes a record is counted as in a receiver's queue (Config::receiver_queue_bytes):
/// sizeof(T), plus size() * sizeof(element) for a std::basic_string or std::vector (what its
/// heap buffer holds at least). Other types count sizeof(T) only: a record that owns heap memory
/// of another kind is undercounted, and Config::receiver_queue_capacity bounds it instead.
template <class T>
[[nodiscard]] std::size_t record_bytes(const T& record) noexcept {
  if constexpr (is_contiguous_container<T>::value) {
    return sizeof(T) + record.size() * sizeof(typename T::value_type);
  } else {
    (void)record;
    return sizeof(T);
  }
}

/// How much a receiver's queue may hold before store() blocks: whichever bound is reached first.
struct QueueBounds {
  std::size_t records = 0;  // Config::receiver_queue_capacity
  std::size_t bytes = 0;    // Config::receiver_queue_bytes, as record_bytes() counts them
};

/// What a drain() took (BatchInfo's QueueInfo): the queue's depth then, and whether a store()
/// had to wait for room since the drain before.
struct DrainStats {
  std::size_t records = 0;
  std::size_t bytes = 0;
  bool blocked = false;
};

/// A receiver's bounded buffer (Spark's BlockGenerator with spark.streaming.receiver.maxRate
/// replaced by a memory bound): store() blocks while it holds `bounds.records` records or
/// `bounds.bytes` bytes. A record or block larger than the whole bound is taken once the queue
/// is empty, so it cannot deadlock. Drained whole at each tick. Closed at stop, paused during a
/// restart: then store() throws rill::Stopped. Thread-safe.
template <class T>
class BlockQueue {
 public:
  /// A stretch of drained records: a logged block (its write-ahead log sequence) or records
  /// stored one by one (seq -1), with its record count.
  using Part = std::pair<std::int64_t, std::size_t>;

  explicit BlockQueue(QueueBounds bounds) : bounds_(bounds) {}

  /// With a write-ahead log: `log(block)` makes a block durable and returns its sequence.
  void set_log(std::function<std::int64_t(const std::vector<T>&, const std::string&)> log) {
    log_ = std::move(log);
  }

  void push(T item) {
    const std::size_t bytes = record_bytes(item);
    std::unique_lock lock(mutex_);
    wait_for_room(lock, 1, bytes);
    open_block_.push_back(std::move(item));
    ++count_;
    bytes_ += bytes;
  }

  /// push() without waiting: false, and `item` left as it was, when the queue is full.
  bool try_push(T& item) {
    const std::size_t bytes = record_bytes(item);
    std::lock_guard lock(mutex_);
    if (!open_()) throw_stopped();
    if (!fits(1, bytes)) return false;
    open_block_.push_back(std::move(item));
    ++count_;
    bytes_ += bytes;
    return true;
  }

  void push_block(std::vector<T> items, const std::string& position = {}) {
    if (items.empty()) return;
    std::size_t bytes = 0;
    for (const T& item : items)
      bytes += record_bytes(item);
    std::lock_guard append(append_mutex_);  // blocks enter the log and the queue in one order
    {
      std::unique_lock lock(mutex_);
      wait_for_room(lock, items.size(), bytes);
    }
    // Once logged the block is accepted, even if stopping begins meanwhile: it is durable.
    const std::int64_t seq = log_ ? log_(items, position) : -1;
    std::lock_guard lock(mutex_);
    flush_open_block();
    count_ += items.size();
    bytes_ += bytes;
    blocks_.push_back(Block{seq, std::move(items)});
  }

  /// Recovery: a logged block no batch took before a restart, queued ahead of new input.
  void push_recovered(std::int64_t seq, std::vector<T> items) {
    std::size_t bytes = 0;
    for (const T& item : items)
      bytes += record_bytes(item);
    std::lock_guard lock(mutex_);
    count_ += items.size();
    bytes_ += bytes;
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
      last_drain_ = DrainStats{count_, bytes_, std::exchange(blocked_, false)};
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
      bytes_ = 0;
      recovered_ = 0;
    }
    not_full_.notify_all();
    return {std::move(out), std::move(parts)};
  }

  [[nodiscard]] std::size_t size() const {
    std::lock_guard lock(mutex_);
    return count_;
  }
  /// What the last drain() took, and whether a store() waited for room before it. Read by the
  /// thread that drains.
  [[nodiscard]] DrainStats last_drain() const {
    std::lock_guard lock(mutex_);
    return last_drain_;
  }
  /// True once a store() waited for room since the last drain() (it may still wait).
  [[nodiscard]] bool blocked_since_drain() const {
    std::lock_guard lock(mutex_);
    return blocked_;
  }
  [[nodiscard]] QueueBounds bounds() const noexcept { return bounds_; }
  /// The bytes buffered, as record_bytes() counts them.
  [[nodiscard]] std::size_t bytes() const {
    std::lock_guard lock(mutex_);
    return bytes_;
  }
  void close() { set_flag(closed_, true); }
  void pause(bool paused) { set_flag(paused_, paused); }

 private:
  struct Block {
    std::int64_t seq = -1;
    std::vector<T> records;
  };

  [[nodiscard]] bool open_() const noexcept { return !closed_ && !paused_; }
  /// Whether n more records of `bytes` bytes may enter; anything enters an empty queue.
  [[nodiscard]] bool fits(std::size_t n, std::size_t bytes) const noexcept {
    return count_ == 0 || (count_ + n <= bounds_.records && bytes_ + bytes <= bounds_.bytes);
  }
  /// Waits (under `lock`) until n records of `bytes` fit; a wait is noted for the next drain's
  /// DrainStats (the slow path only: a store() that fits pays one test). Throws rill::Stopped
  /// once the queue is closed or paused.
  void wait_for_room(std::unique_lock<std::mutex>& lock, std::size_t n, std::size_t bytes) {
    if (!fits(n, bytes) && open_()) {
      blocked_ = true;
      not_full_.wait(lock, [&] { return fits(n, bytes) || !open_(); });
    }
    if (!open_()) throw_stopped();
  }
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

  const QueueBounds bounds_;
  std::function<std::int64_t(const std::vector<T>&, const std::string&)> log_;
  std::mutex append_mutex_;
  mutable std::mutex mutex_;
  std::condition_variable not_full_;
  std::vector<Block> blocks_;
  std::vector<T> open_block_;
  std::size_t count_ = 0;
  std::size_t bytes_ = 0;
  std::size_t recovered_ = 0;
  bool blocked_ = false;  // a store() waited for room since the last drain()
  DrainStats last_drain_;
  bool closed_ = false;
  bool paused_ = false;
};

}  // namespace rill::detail
