#include "rill/sources/receiver.hpp"

#include <spdlog/spdlog.h>

#include "rill/core/logging.hpp"

namespace rill {

detail::ReceiverSupervisor& ReceiverBase::supervisor() const {
  if (supervisor_ == nullptr) {
    throw IllegalState(
        "Receiver: not attached to a started context; pass it to receiver_stream() and start()");
  }
  return *supervisor_;
}

void ReceiverBase::report_error(std::string message, std::exception_ptr error) {
  supervisor().report_error(std::move(message), std::move(error));
}

void ReceiverBase::restart(std::string reason, std::optional<Duration> delay) {
  supervisor().restart(std::move(reason), delay);
}

void ReceiverBase::count_skipped(std::int64_t n) {
  supervisor().count_skipped(n);
}

void ReceiverBase::count_error(std::int64_t n) {
  supervisor().count_error(n);
}

bool ReceiverBase::is_stopped() const noexcept {
  return supervisor_ == nullptr || supervisor_->is_stopped();
}

}  // namespace rill
