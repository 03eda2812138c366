#include "scheduler/backup_timer.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>

#include <sys/timerfd.h>
#include <unistd.h>

#include "rill/core/logging.hpp"
#include "scheduler/realtime_spec.hpp"

namespace rill::detail {

namespace asio = boost::asio;

std::unique_ptr<BackupTimer> BackupTimer::open(asio::io_context& io,
                                               std::function<void()> on_fire) {
  const int fd = ::timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) {
    logger().warn(
        "StreamingContext: timerfd_create failed ({}); the scheduler thread seals "
        "every batch",
        std::strerror(errno));
    return nullptr;
  }
  std::unique_ptr<BackupTimer> timer;
  try {
    timer.reset(new BackupTimer(io, fd, std::move(on_fire)));
    timer->await();
    return timer;
  } catch (const std::exception& e) {
    if (!timer) ::close(fd);
    timer.reset();
    logger().warn(
        "StreamingContext: cannot watch the backup timer ({}); the scheduler "
        "thread seals every batch",
        e.what());
    return nullptr;
  }
}

BackupTimer::BackupTimer(asio::io_context& io, int fd, std::function<void()> on_fire)
    : on_fire_(std::move(on_fire)), timer_(io, fd) {}

void BackupTimer::set(Time at) noexcept {
  itimerspec spec{};
  spec.it_value = realtime_spec(at);
  if (::timerfd_settime(timer_.native_handle(), TFD_TIMER_ABSTIME, &spec, nullptr) != 0) {
    // Not expected with these arguments; were it to happen, an idle batch thread still seals.
    logger().error("StreamingContext: timerfd_settime failed: {}", std::strerror(errno));
  }
}

void BackupTimer::cancel() {
  timer_.cancel();
}

void BackupTimer::await() {
  timer_.async_wait(asio::posix::descriptor_base::wait_read,
                    [this](const boost::system::error_code& ec) {
                      if (ec) return;  // cancelled: the context is halting
                      std::uint64_t expirations = 0;
                      // Nothing to read when the timer was set again since it fired (it no
                      // longer is due).
                      if (::read(timer_.native_handle(), &expirations, sizeof expirations) ==
                              static_cast<ssize_t>(sizeof expirations) &&
                          expirations > 0) {
                        on_fire_();
                      }
                      await();
                    });
}

}  // namespace rill::detail
