#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "rill/core/listener.hpp"
#include "scheduler/serial_executor.hpp"

namespace rill::detail {

/// The listener bus (Spark's StreamingListenerBus): calls the context's StreamingListeners on
/// one thread of its own, in the order the events were emitted, and runs tasks that must follow
/// the events emitted before them (marking a batch completed once its listeners heard of it).
///
/// Thread-safety: add() on any thread, at any time (an event reaches the listeners added before
/// it was emitted); start() once, before anything is emitted or posted; emit(),
/// batch_completed() and post() on any thread after start(); shutdown() on any thread but the
/// bus's own. What a listener or task throws is logged, never propagated. Nothing throws but
/// std::bad_alloc.
class ListenerBus {
 public:
  ListenerBus();
  ~ListenerBus();
  ListenerBus(const ListenerBus&) = delete;
  ListenerBus& operator=(const ListenerBus&) = delete;

  /// Adds a listener (not null).
  void add(std::shared_ptr<StreamingListener> listener);
  /// Starts the bus's thread.
  void start();
  /// Whether a listener was added (listeners are never removed). Lock-free: a batch without
  /// listeners skips building and posting its events.
  [[nodiscard]] bool has_listeners() const noexcept {
    return has_listeners_.load(std::memory_order_acquire);
  }
  /// Posts the event to the listeners, after the events emitted before it; false when there is
  /// no listener (then nothing is posted).
  bool emit(void (StreamingListener::*event)(const BatchInfo&), const BatchInfo& info);
  /// Emits on_batch_completed, then has `mark_completed` called. With listeners, the batch
  /// counts as completed once they heard of it (on their bus, in order); without, at once (on
  /// this thread), sparing a thread wake-up per batch.
  template <class F>
  void batch_completed(const BatchInfo& info, F&& mark_completed) {
    if (emit(&StreamingListener::on_batch_completed, info)) {
      post(std::forward<F>(mark_completed));
    } else {
      mark_completed();
    }
  }
  /// Runs `task` on the bus's thread after what was emitted or posted before it (not after
  /// shutdown()).
  void post(std::function<void()> task);
  /// Runs what was posted, then ends the bus's thread. Does nothing before start().
  void shutdown();

 private:
  std::mutex mutex_;
  std::vector<std::shared_ptr<StreamingListener>> listeners_;  // under mutex_
  std::atomic<bool> has_listeners_{false};                     // set once listeners_ is not empty
  std::unique_ptr<SerialExecutor> executor_;
};

}  // namespace rill::detail
