#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rill/core/errors.hpp"
#include "rill/core/time.hpp"
#include "rill/scheduler/runtime.hpp"

namespace rill {

namespace detail {

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

class ReceiverSupervisor;

}  // namespace detail

/// The part of Receiver<T> that does not depend on T.
class ReceiverBase {
 public:
  ReceiverBase() = default;
  ReceiverBase(const ReceiverBase&) = delete;
  ReceiverBase& operator=(const ReceiverBase&) = delete;
  virtual ~ReceiverBase() = default;

  /// Starts receiving: must return promptly (start a thread or async work). Called on a rill
  /// thread at start() and after each restart.
  virtual void on_start() = 0;
  /// Stops receiving: release what on_start() started (join its threads). After it returns,
  /// store() is no longer called.
  virtual void on_stop() = 0;

  /// Logs and counts an error; the receiver goes on.
  void report_error(std::string message, std::exception_ptr error = {});
  /// Asks for on_stop(), then on_start() after `delay` on the context's clock (default 2 s, as in
  /// Spark). Returns at once; callable from any thread.
  void restart(std::string reason, std::optional<Duration> delay = {});
  /// With a checkpoint directory, after a restart: the position given with the last block that
  /// reached the write-ahead log before the process ended (store(items, position)); nullopt when
  /// there is none. Valid from on_start().
  [[nodiscard]] std::optional<std::string> recovered_position() const {
    std::lock_guard lock(position_mutex_);
    return recovered_position_;
  }
  /// Internal: set by the engine before on_start().
  void set_recovered_position(std::optional<std::string> position) {
    std::lock_guard lock(position_mutex_);
    recovered_position_ = std::move(position);
  }

  /// True once the receiver is stopping or restarting: loops in receiver threads should end.
  [[nodiscard]] bool is_stopped() const noexcept;

  /// Counts records the receiver had to drop (malformed, over-long); shown in source_stats().
  void count_skipped(std::int64_t n = 1);
  /// Counts errors without logging them (the receiver logs in its own words, or rate-limits).
  void count_error(std::int64_t n = 1);

  /// Internal: set by the engine before on_start().
  void attach(detail::ReceiverSupervisor* supervisor) noexcept { supervisor_ = supervisor; }

 protected:
  [[nodiscard]] detail::ReceiverSupervisor& supervisor() const;

 private:
  detail::ReceiverSupervisor* supervisor_ = nullptr;
  mutable std::mutex position_mutex_;
  std::optional<std::string> recovered_position_;
};

/// A user receiver: override on_start() and on_stop(), call store() from any thread.
template <class T>
class Receiver : public ReceiverBase {
 public:
  /// Buffers one record; blocks while rill's bounded queue is full; throws rill::Stopped once
  /// stopping has begun.
  void store(T item);
  /// Buffers a block of records at once (cheaper); the same blocking and stopping rules.
  void store(std::vector<T> items);
  /// Stores a block with the source position it ends at (an offset, say), logged with it: after
  /// a restart, recovered_position() returns the position of the last block that was durable,
  /// so a reliable receiver can skip what its source sends again.
  void store(std::vector<T> items, std::string position);

  /// Internal: the queue store() writes to.
  void attach_queue(detail::BlockQueue<T>* queue) noexcept { queue_ = queue; }

 private:
  detail::BlockQueue<T>* queue_ = nullptr;
};

namespace detail {

/// Runs one receiver: start, stop, restart with delay, error accounting (Spark's
/// ReceiverSupervisor). Thread-safe.
class ReceiverSupervisor {
 public:
  ReceiverSupervisor(ReceiverBase& receiver, std::string name,
                     std::function<void(bool)> pause_queue, std::function<void()> close_queue);
  ~ReceiverSupervisor();

  void start(Runtime& rt);
  /// Final stop: closes the queue (blocked store() calls throw rill::Stopped), then on_stop().
  void stop();
  void restart(std::string reason, std::optional<Duration> delay);
  void report_error(std::string message, std::exception_ptr error);
  [[nodiscard]] bool is_stopped() const noexcept { return !active_.load(); }
  [[nodiscard]] std::int64_t errors() const noexcept { return errors_.load(); }
  [[nodiscard]] std::int64_t skipped() const noexcept { return skipped_.load(); }
  void count_skipped(std::int64_t n) { skipped_ += n; }
  void count_error(std::int64_t n) { errors_ += n; }
  void count_stored(std::int64_t n);
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

 private:
  void call_on_start();
  void call_on_stop();

  ReceiverBase& receiver_;
  std::string name_;
  std::function<void(bool)> pause_queue_;
  std::function<void()> close_queue_;
  Runtime* rt_ = nullptr;
  std::mutex lifecycle_mutex_;  // serializes on_start / on_stop
  std::mutex state_mutex_;      // guards the flags below; never held around user code
  bool running_ = false;        // on_start called without its on_stop
  bool stopped_ = false;        // final stop
  bool restarting_ = false;
  std::atomic<bool> active_{false};
  std::atomic<std::int64_t> errors_{0};
  std::atomic<std::int64_t> skipped_{0};
};

}  // namespace detail

template <class T>
void Receiver<T>::store(T item) {
  auto& sup = supervisor();
  if (queue_ == nullptr) throw IllegalState("Receiver::store: the receiver has not been started");
  queue_->push(std::move(item));
  sup.count_stored(1);
}

template <class T>
void Receiver<T>::store(std::vector<T> items, std::string position) {
  auto& sup = supervisor();
  if (queue_ == nullptr) throw IllegalState("Receiver::store: the receiver has not been started");
  const auto n = static_cast<std::int64_t>(items.size());
  queue_->push_block(std::move(items), position);
  sup.count_stored(n);
}

template <class T>
void Receiver<T>::store(std::vector<T> items) {
  auto& sup = supervisor();
  if (queue_ == nullptr) throw IllegalState("Receiver::store: the receiver has not been started");
  const auto n = static_cast<std::int64_t>(items.size());
  queue_->push_block(std::move(items));
  sup.count_stored(n);
}

}  // namespace rill
