#include "scheduler/grid_timer.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <thread>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "rill/core/logging.hpp"
#include "scheduler/realtime_spec.hpp"

namespace rill::detail {

namespace asio = boost::asio;

namespace {

bool add(int set, int fd, std::uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  return ::epoll_ctl(set, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void close_all(std::initializer_list<int> fds) {
  for (int fd : fds) {
    if (fd >= 0) ::close(fd);
  }
}

}  // namespace

std::unique_ptr<GridTimer> GridTimer::open(asio::io_context& io, std::function<void()> on_missed) {
  const int timer = ::timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
  const int batch_set = ::epoll_create1(EPOLL_CLOEXEC);
  const int wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  const int scheduler_set = ::epoll_create1(EPOLL_CLOEXEC);
  // The batch thread's set first: exclusive waiters are woken in the order they were added.
  if (timer < 0 || batch_set < 0 || wake < 0 || scheduler_set < 0 ||
      !add(batch_set, timer, EPOLLIN | EPOLLEXCLUSIVE) || !add(batch_set, wake, EPOLLIN) ||
      !add(scheduler_set, timer, EPOLLIN | EPOLLEXCLUSIVE)) {
    logger().warn(
        "StreamingContext: cannot set up the grid timer ({}); the scheduler thread seals every "
        "batch",
        std::strerror(errno));
    close_all({timer, batch_set, wake, scheduler_set});
    return nullptr;
  }
  std::unique_ptr<GridTimer> grid;
  try {
    grid.reset(new GridTimer(io, timer, batch_set, wake, scheduler_set, std::move(on_missed)));
    grid->await();
    return grid;
  } catch (const std::exception& e) {
    if (!grid) close_all({timer, batch_set, wake, scheduler_set});
    grid.reset();
    logger().warn(
        "StreamingContext: cannot watch the grid timer ({}); the scheduler thread seals every "
        "batch",
        e.what());
    return nullptr;
  }
}

GridTimer::GridTimer(asio::io_context& io, int timer, int batch_set, int wake_fd, int scheduler_set,
                     std::function<void()> on_missed)
    : timer_(timer),
      batch_set_(batch_set),
      wake_(wake_fd),
      on_missed_(std::move(on_missed)),
      scheduler_set_(io, scheduler_set) {}

GridTimer::~GridTimer() {
  close_all({timer_, batch_set_, wake_});
}

void GridTimer::start(Time first, Duration period) noexcept {
  itimerspec spec{};
  spec.it_value = realtime_spec(first);
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(period).count();
  spec.it_interval.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  spec.it_interval.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  if (::timerfd_settime(timer_, TFD_TIMER_ABSTIME, &spec, nullptr) != 0) {
    // Not expected with these arguments; an idle batch thread still seals when it next wakes.
    logger().error("StreamingContext: timerfd_settime failed: {}", std::strerror(errno));
  }
}

void GridTimer::cancel() {
  scheduler_set_.cancel();
}

std::uint64_t GridTimer::take_expiries() noexcept {
  std::uint64_t expiries = 0;
  if (::read(timer_, &expiries, sizeof expiries) != static_cast<ssize_t>(sizeof expiries))
    return 0;  // EAGAIN: the other thread read it
  return expiries;
}

void GridTimer::await() {
  scheduler_set_.async_wait(
      asio::posix::descriptor_base::wait_read, [this](const boost::system::error_code& ec) {
        if (ec) return;  // cancelled: the context is halting
        const std::uint64_t expiries = take_expiries();
        // Clears the set's ready list (level-triggered: the timerfd, read
        // above, is no longer ready), so that the next expiry wakes it.
        epoll_event ev{};
        static_cast<void>(::epoll_wait(scheduler_set_.native_handle(), &ev, 1, 0));
        if (expiries > 0) on_missed_();
        await();
      });
}

bool GridTimer::sleep_until(std::uint32_t ticket, Time due, const Clock& clock) noexcept {
  for (;;) {
    if (word_.load() != ticket) return false;  // woken before it slept
    if (clock.now() >= due) return true;
    epoll_event events[2];
    const int n = ::epoll_wait(batch_set_, events, 2, failed_ ? 1 : -1);
    if (n < 0) {
      if (errno == EINTR) return false;
      // Not expected. Were it to happen, poll the clock every millisecond.
      if (!failed_) {
        failed_ = true;
        logger().error("StreamingContext: epoll_wait failed ({}); the batch thread polls the clock",
                       std::strerror(errno));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    bool woken = false;
    for (int i = 0; i < n; ++i) {
      if (events[i].data.fd == wake_) {
        woken = true;
      } else {
        static_cast<void>(take_expiries());
      }
    }
    // A grid time that came with a wake-up is sealed first; the eventfd, still readable, makes
    // the next sleep return at once.
    if (clock.now() >= due) return true;
    if (woken) {
      std::uint64_t count = 0;
      static_cast<void>(::read(wake_, &count, sizeof count));
      return false;
    }
    // An expiry of an earlier grid time (sealed by the scheduler thread meanwhile): sleep on.
  }
}

void GridTimer::wake() noexcept {
  word_.fetch_add(1);
  if (sleeping_.load()) {
    const std::uint64_t one = 1;
    static_cast<void>(::write(wake_, &one, sizeof one));
  }
}

}  // namespace rill::detail
