#include "scheduler/futex_sleeper.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rill/core/logging.hpp"
#include "scheduler/realtime_spec.hpp"

namespace rill::detail {

namespace {
std::uint32_t* futex_word(std::atomic<std::uint32_t>& word) {
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                std::atomic<std::uint32_t>::is_always_lock_free);
  return reinterpret_cast<std::uint32_t*>(&word);
}
}  // namespace

bool FutexSleeper::sleep_until(std::uint32_t ticket, Time due) {
  const timespec at = realtime_spec(due);
  if (::syscall(SYS_futex, futex_word(word_), FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME,
                ticket, &at, nullptr, FUTEX_BITSET_MATCH_ANY) == 0) {
    return false;  // woken
  }
  switch (errno) {
    case ETIMEDOUT:
      return true;
    case EAGAIN:  // woken before it slept
    case EINTR:
      return false;
    default: {
      // Not expected with these arguments. Were it to happen, poll the clock every millisecond.
      if (!failed_) {
        failed_ = true;
        logger().error("StreamingContext: futex wait failed ({}); the batch thread polls the clock",
                       std::strerror(errno));
      }
      if (clock_.now() >= due) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      return false;
    }
  }
}

void FutexSleeper::wake() noexcept {
  word_.fetch_add(1);
  if (sleeping_.load()) {
    ::syscall(SYS_futex, futex_word(word_), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
  }
}

}  // namespace rill::detail
