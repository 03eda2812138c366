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
#include "rill/sources/detail/block_queue.hpp"
#include "rill/sources/detail/rate_limiter.hpp"
#include "rill/sources/detail/receiver_supervisor.hpp"

namespace rill {

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
///
/// Rate control (Config::max_rate_per_source, Config::backpressure; docs/operations.md): while
/// the stream has a rate limit, store() also blocks while records come in faster than it
/// (Spark's receiver RateLimiter): a store of n records waits for n tokens of a bucket that
/// fills at the limit, up to one second's worth.
template <class T>
class Receiver : public ReceiverBase {
 public:
  /// Buffers one record; blocks while the stream's rate limit is reached or rill's bounded
  /// queue is full; throws rill::Stopped once stopping has begun (also while it waits).
  void store(T item);
  /// Buffers one record if the rate limit and rill's bounded queue allow it now, without
  /// blocking: true when stored (`item` is moved from), false when over the rate or the queue is
  /// full (`item` is left as it was: drop and count it, count_skipped(), or keep it). Throws
  /// rill::Stopped once stopping has begun. For sources whose protocol drops rather than pushes
  /// back when the reader is slow (a ZeroMQ SUB socket): dropping here, counted, keeps the loss
  /// visible.
  bool try_store(T& item);
  /// Buffers a block of records at once (cheaper); the same blocking and stopping rules (the
  /// block waits for as many tokens as it has records).
  void store(std::vector<T> items);
  /// Stores a block with the source position it ends at (an offset, say), logged with it: after
  /// a restart, recovered_position() returns the position of the last block that was durable,
  /// so a reliable receiver can skip what its source sends again.
  void store(std::vector<T> items, std::string position);

  /// Internal: the queue store() writes to, and the stream's rate limit.
  void attach_queue(detail::BlockQueue<T>* queue, detail::RateLimiter* limiter) noexcept {
    queue_ = queue;
    limiter_ = limiter;
  }

 private:
  detail::BlockQueue<T>* queue_ = nullptr;
  detail::RateLimiter* limiter_ = nullptr;
};

template <class T>
void Receiver<T>::store(T item) {
  auto& sup = supervisor();
  if (queue_ == nullptr) throw IllegalState("Receiver::store: the receiver has not been started");
  if (limiter_ != nullptr) limiter_->acquire(1);
  queue_->push(std::move(item));
  sup.count_stored(1);
}

template <class T>
bool Receiver<T>::try_store(T& item) {
  auto& sup = supervisor();
  if (queue_ == nullptr) {
    throw IllegalState("Receiver::try_store: the receiver has not been started");
  }
  if (limiter_ != nullptr && !limiter_->try_acquire(1)) return false;
  if (!queue_->try_push(item)) {
    if (limiter_ != nullptr) limiter_->give_back(1);
    return false;
  }
  sup.count_stored(1);
  return true;
}

template <class T>
void Receiver<T>::store(std::vector<T> items, std::string position) {
  auto& sup = supervisor();
  if (queue_ == nullptr) throw IllegalState("Receiver::store: the receiver has not been started");
  const auto n = static_cast<std::int64_t>(items.size());
  if (limiter_ != nullptr && !items.empty()) limiter_->acquire(items.size());
  queue_->push_block(std::move(items), position);
  sup.count_stored(n);
}

template <class T>
void Receiver<T>::store(std::vector<T> items) {
  auto& sup = supervisor();
  if (queue_ == nullptr) throw IllegalState("Receiver::store: the receiver has not been started");
  const auto n = static_cast<std::int64_t>(items.size());
  if (limiter_ != nullptr && !items.empty()) limiter_->acquire(items.size());
  queue_->push_block(std::move(items));
  sup.count_stored(n);
}

}  // namespace rill
