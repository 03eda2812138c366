#include "rill/signals.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "rill/core/errors.hpp"
#include "rill/core/logging.hpp"
#include "rill/streaming_context.hpp"

namespace rill {

namespace {
// The write end of the installed guard's pipe, read by the handler; -1 when none is installed.
std::atomic<int> g_signal_fd{-1};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler reads it");
// One guard at a time per process (the handlers are process-wide).
std::atomic<bool> g_installed{false};

// Async-signal-safe: an atomic load and a write() to a non-blocking pipe; errno preserved.
extern "C" void rill_on_signal(int sig) {
  const int saved = errno;
  const int fd = g_signal_fd.load();
  if (fd >= 0) {
    const auto byte = static_cast<unsigned char>(sig);
    [[maybe_unused]] const auto n = ::write(fd, &byte, 1);
  }
  errno = saved;
}

const char* signal_name(int sig) {
  switch (sig) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
    case SIGQUIT:
      return "SIGQUIT";
    default:
      return "signal";
  }
}
}  // namespace

namespace detail {

/// The state behind a SignalStopGuard: the pipe, the previous handlers, the thread reading the
/// pipe and the thread running the first signal's stop.
class SignalWatch {
 public:
  SignalWatch(StreamingContext& ctx, std::vector<int> signals, StopOptions options)
      : ctx_(ctx), signals_(std::move(signals)), options_(options) {
    bool expected = false;
    if (!g_installed.compare_exchange_strong(expected, true)) {
      throw IllegalState(
          "rill::stop_on_signals: another SignalStopGuard is alive; destroy it (or reset() it) "
          "first: the handlers are process-wide");
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
      const int err = errno;
      g_installed = false;
      throw IoError(
          fmt::format("rill::stop_on_signals: cannot create its pipe: {}", std::strerror(err)));
    }
    read_fd_ = fds[0];
    write_fd_ = fds[1];
    // The reader blocks; only the handler's end must never block.
    ::fcntl(read_fd_, F_SETFL, ::fcntl(read_fd_, F_GETFL) & ~O_NONBLOCK);
    g_signal_fd = write_fd_;
    struct sigaction action {};
    action.sa_handler = rill_on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    previous_.resize(signals_.size());
    for (std::size_t i = 0; i < signals_.size(); ++i) {
      if (::sigaction(signals_[i], &action, &previous_[i]) != 0) {
        const int err = errno;
        installed_ = i;
        restore();
        close_pipe();
        g_installed = false;
        throw IoError(fmt::format("rill::stop_on_signals: cannot handle signal {}: {}", signals_[i],
                                  std::strerror(err)));
      }
    }
    installed_ = signals_.size();
    watcher_ = std::thread([this] { watch(); });
  }

  ~SignalWatch() {
    // Wake the watcher (a 0 byte is no signal) and wait for it and for a stop in progress.
    const unsigned char stop_byte = 0;
    while (::write(write_fd_, &stop_byte, 1) < 0 && errno == EINTR) {
    }
    if (watcher_.joinable()) watcher_.join();
    if (stopper_.joinable()) stopper_.join();
    restore();
    close_pipe();
    g_installed = false;
  }

  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;

  [[nodiscard]] int received() const noexcept { return received_.load(); }

 private:
  void watch() {
    for (;;) {
      unsigned char byte = 0;
      const auto n = ::read(read_fd_, &byte, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || byte == 0) return;
      const int count = ++received_;
      const int sig = byte;
      if (count == 1) {
        logger().warn("received {} ({}): stopping the context {}; send it again to stop at once",
                      signal_name(sig), sig, options_.graceful ? "gracefully" : "at once");
        stopper_ = std::thread([this] {
          stop(options_);
          restore();
        });
      } else if (count == 2) {
        logger().warn("received {} ({}) again: stopping the context at once", signal_name(sig),
                      sig);
        stop(StopOptions{.graceful = false, .timeout = options_.timeout});
        restore();
      }
    }
  }

  void stop(const StopOptions& options) noexcept {
    try {
      ctx_.stop(options);
    } catch (const std::exception& e) {
      logger().error("rill::stop_on_signals: stopping the context failed: {}", e.what());
    } catch (...) {
      logger().error("rill::stop_on_signals: stopping the context failed");
    }
  }

  /// Puts the previous handlers back (once).
  void restore() noexcept {
    std::lock_guard lock(mutex_);
    if (restored_) return;
    restored_ = true;
    for (std::size_t i = 0; i < installed_; ++i)
      ::sigaction(signals_[i], &previous_[i], nullptr);
  }

  void close_pipe() noexcept {
    // After restore(): no new handler runs. (One already running on another thread loaded the
    // descriptor before this; its write fails harmlessly on a closed pipe.)
    g_signal_fd = -1;
    if (read_fd_ >= 0) ::close(read_fd_);
    if (write_fd_ >= 0) ::close(write_fd_);
    read_fd_ = write_fd_ = -1;
  }

  StreamingContext& ctx_;
  std::vector<int> signals_;
  std::vector<struct sigaction> previous_;
  std::size_t installed_ = 0;  // handlers set, the first ones of signals_
  StopOptions options_;
  int read_fd_ = -1;
  int write_fd_ = -1;
  std::atomic<int> received_{0};
  std::mutex mutex_;
  bool restored_ = false;  // under mutex_
  std::thread watcher_;
  std::thread stopper_;  // the first signal's stop; written by the watcher only
};

}  // namespace detail

SignalStopGuard::SignalStopGuard() noexcept = default;
SignalStopGuard::SignalStopGuard(std::unique_ptr<detail::SignalWatch> watch) noexcept
    : watch_(std::move(watch)) {}
SignalStopGuard::SignalStopGuard(SignalStopGuard&& other) noexcept = default;
SignalStopGuard& SignalStopGuard::operator=(SignalStopGuard&& other) noexcept {
  if (this != &other) {
    reset();
    watch_ = std::move(other.watch_);
  }
  return *this;
}
SignalStopGuard::~SignalStopGuard() {
  reset();
}

void SignalStopGuard::reset() noexcept {
  watch_.reset();
}

int SignalStopGuard::signals_received() const noexcept {
  return watch_ ? watch_->received() : 0;
}

SignalStopGuard stop_on_signals(StreamingContext& ctx, std::initializer_list<int> signals,
                                StopOptions options) {
  if (signals.size() == 0) {
    throw InvalidArgument(
        "rill::stop_on_signals: the list of signals is empty; pass e.g. {SIGINT, SIGTERM}");
  }
  std::vector<int> list;
  for (const int sig : signals) {
    if (sig <= 0 || sig >= NSIG || sig > 255) {
      throw InvalidArgument(
          fmt::format("rill::stop_on_signals: {} is not a signal number (1 to {})", sig,
                      std::min(NSIG - 1, 255)));
    }
    if (sig == SIGKILL || sig == SIGSTOP) {
      throw InvalidArgument(fmt::format(
          "rill::stop_on_signals: signal {} (SIGKILL or SIGSTOP) cannot be caught; use SIGTERM",
          sig));
    }
    if (std::find(list.begin(), list.end(), sig) == list.end()) list.push_back(sig);
  }
  return SignalStopGuard(std::make_unique<detail::SignalWatch>(ctx, std::move(list), options));
}

SignalStopGuard stop_on_signals(StreamingContext& ctx, StopOptions options) {
  return stop_on_signals(ctx, {SIGINT, SIGTERM}, options);
}

}  // namespace rill
