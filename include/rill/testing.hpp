#pragma once

/// rill's test harness: a context on a manual clock, driven batch by batch.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "rill/rill.hpp"

namespace rill::testing {

/// What h.collect(stream) gathered: one entry per batch time at which the stream is defined.
/// Thread-safe; read it after run_batches() returns.
template <class T>
class Collector {
 public:
  struct State {
    std::mutex mutex;
    std::vector<std::vector<T>> batches;
    std::vector<Time> times;
  };

  explicit Collector(std::shared_ptr<State> state) : state_(std::move(state)) {}

  [[nodiscard]] std::vector<std::vector<T>> batches() const {
    std::lock_guard lock(state_->mutex);
    return state_->batches;
  }
  [[nodiscard]] std::vector<Time> times() const {
    std::lock_guard lock(state_->mutex);
    return state_->times;
  }
  /// batches() with each entry sorted: a keyed batch has no order.
  [[nodiscard]] std::vector<std::vector<T>> sorted_batches() const {
    auto out = batches();
    for (auto& b : out)
      std::sort(b.begin(), b.end());
    return out;
  }

 private:
  std::shared_ptr<State> state_;
};

/// Sets `clock` (the context's manual clock) to t and returns when the context completed batch t,
/// rethrowing its error: drives a context the harness does not own (one from get_or_create).
/// Starts the context if needed.
void run_until(StreamingContext& ctx, ManualClock& clock, Time t);

/// A StreamingContext on a manual clock, driven batch by batch (in the spirit of Kafka Streams'
/// TopologyTestDriver): nothing sleeps. The context starts on the first run_batches().
class Harness {
 public:
  /// Parallelism 2, a manual clock at 0.
  explicit Harness(Duration batch_interval);
  /// Any config; its clock is replaced by a manual one at 0.
  explicit Harness(Config config);
  ~Harness();
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  /// A queue stream: one inner vector per batch, then empty batches.
  template <class T>
  DStream<T> input(std::vector<std::vector<T>> batches) {
    return ctx_->queue_stream<T>(std::deque<std::vector<T>>(
        std::make_move_iterator(batches.begin()), std::make_move_iterator(batches.end())));
  }

  /// Registers an output collecting every batch of `stream`.
  template <class T>
  Collector<T> collect(const DStream<T>& stream) {
    auto state = std::make_shared<typename Collector<T>::State>();
    stream.foreach_batch([state](const Batch<T>& batch, Time t) {
      auto records = batch.collect();
      std::lock_guard lock(state->mutex);
      state->batches.push_back(std::move(records));
      state->times.push_back(t);
    });
    return Collector<T>(std::move(state));
  }

  /// Starts the context if needed, advances the clock one interval at a time, n times, and
  /// returns when each of those batches' outputs finished; rethrows the context's error.
  void run_batches(std::size_t n);

  /// Waits (on the engine, not a sleep) until receivers stored `n` records since start, for at
  /// most `timeout`; for tests of receivers fed by real sockets or threads.
  bool await_records_stored(std::int64_t n,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10));

  [[nodiscard]] StreamingContext& context() noexcept { return *ctx_; }
  [[nodiscard]] ManualClock& clock() noexcept { return *clock_; }
  /// The time of the next batch run_batches() will run.
  [[nodiscard]] Time next_batch_time() const noexcept { return next_; }

 private:
  std::shared_ptr<ManualClock> clock_;
  std::unique_ptr<StreamingContext> ctx_;
  Time next_;
  bool started_ = false;
};

}  // namespace rill::testing
