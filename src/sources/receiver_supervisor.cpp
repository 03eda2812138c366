#include "rill/sources/detail/receiver_supervisor.hpp"

#include <spdlog/spdlog.h>

#include "rill/core/logging.hpp"
#include "rill/sources/receiver.hpp"

namespace rill {

namespace detail {

namespace {
constexpr Duration kDefaultRestartDelay{2000};

std::string describe(const std::exception_ptr& error) {
  if (!error) return {};
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return fmt::format(": {}", e.what());
  } catch (...) {
    return ": unknown exception";
  }
}
}  // namespace

ReceiverSupervisor::ReceiverSupervisor(ReceiverBase& receiver, std::string name,
                                       std::function<void(bool)> pause_queue,
                                       std::function<void()> close_queue)
    : receiver_(receiver),
      name_(std::move(name)),
      pause_queue_(std::move(pause_queue)),
      close_queue_(std::move(close_queue)) {}

ReceiverSupervisor::~ReceiverSupervisor() = default;

void ReceiverSupervisor::start(Runtime& rt) {
  rt_ = &rt;
  receiver_.attach(this);
  call_on_start();
}

// Two locks: lifecycle_mutex_ serializes the calls of on_start() and on_stop(); state_mutex_
// guards the flags only and is never held while user code runs, so a receiver may call
// restart() from on_start(), or from its own thread while on_stop() joins that thread.
void ReceiverSupervisor::call_on_start() {
  std::lock_guard lifecycle(lifecycle_mutex_);
  {
    std::lock_guard state(state_mutex_);
    if (stopped_ || running_) return;
    active_ = true;
    running_ = true;
  }
  pause_queue_(false);
  try {
    receiver_.on_start();
  } catch (...) {
    {
      std::lock_guard state(state_mutex_);
      active_ = false;
      running_ = false;
    }
    rt_->fail(std::current_exception());
  }
}

void ReceiverSupervisor::call_on_stop() {
  std::lock_guard lifecycle(lifecycle_mutex_);
  {
    std::lock_guard state(state_mutex_);
    if (!running_) return;
    running_ = false;
    active_ = false;
  }
  try {
    receiver_.on_stop();
  } catch (...) {
    logger().error("receiver {}: on_stop threw{}", name_, describe(std::current_exception()));
    ++errors_;
  }
}

void ReceiverSupervisor::stop() {
  {
    std::lock_guard state(state_mutex_);
    if (stopped_) return;
    stopped_ = true;
    active_ = false;
  }
  close_queue_();
  call_on_stop();
}

void ReceiverSupervisor::restart(std::string reason, std::optional<Duration> delay) {
  {
    std::lock_guard state(state_mutex_);
    if (stopped_ || restarting_ || rt_ == nullptr) return;
    restarting_ = true;
    active_ = false;
  }
  const Duration wait = delay.value_or(kDefaultRestartDelay);
  logger().warn("receiver {}: restarting in {} ms: {}", name_, wait.count(), reason);
  // Blocked store() calls throw rill::Stopped, so on_stop() can join the threads making them.
  pause_queue_(true);
  rt_->post([this, wait] {
    call_on_stop();
    rt_->run_at(rt_->clock().now() + wait, [this] {
      {
        std::lock_guard state(state_mutex_);
        restarting_ = false;
      }
      call_on_start();
    });
  });
}

void ReceiverSupervisor::report_error(std::string message, std::exception_ptr error) {
  ++errors_;
  logger().error("receiver {}: {}{}", name_, message, describe(error));
}

void ReceiverSupervisor::count_stored(std::int64_t n) {
  if (rt_ != nullptr) rt_->records_stored(n);
}

}  // namespace detail
}  // namespace rill
