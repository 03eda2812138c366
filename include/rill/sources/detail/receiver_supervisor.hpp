#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "rill/core/time.hpp"
#include "rill/sources/detail/runtime.hpp"

namespace rill {

class ReceiverBase;

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

}  // namespace rill
