#pragma once

/// A condition variable with its mutex, for tests that wait on what rill's threads do.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

namespace rill_test {

/// Waits for `pred` on a condition variable, at most `timeout` (10 s by default).
/// Thread-safe: notify() from any thread, wait_for() from any other.
class Signal {
 public:
  /// Runs `change` under the mutex, then wakes the waiters.
  void notify(const std::function<void()>& change = {}) {
    {
      std::lock_guard lock(mutex_);
      if (change) change();
    }
    cv_.notify_all();
  }
  /// True once `pred` holds (checked under the mutex); false at the timeout.
  template <class Pred>
  bool wait_for(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, pred);
  }
  std::mutex& mutex() { return mutex_; }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
};

}  // namespace rill_test
