#include "rill/core/clock.hpp"

#include <vector>

#include "rill/core/errors.hpp"

namespace rill {

std::uint64_t Clock::add_observer(std::function<void()> /*fn*/) {
  return 0;
}
void Clock::remove_observer(std::uint64_t /*token*/) {}

std::shared_ptr<SystemClock> SystemClock::create() {
  return std::shared_ptr<SystemClock>(new SystemClock());
}

Time SystemClock::now() const {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return Time{std::chrono::duration_cast<Duration>(since_epoch).count()};
}

std::shared_ptr<ManualClock> ManualClock::create(Time start) {
  return std::shared_ptr<ManualClock>(new ManualClock(start));
}

Time ManualClock::now() const {
  std::lock_guard lock(mutex_);
  return now_;
}

void ManualClock::advance(Duration d) {
  if (d.count() < 0) {
    throw InvalidArgument(fmt::format(
        "ManualClock::advance: the duration must not be negative, got {} ms", d.count()));
  }
  {
    std::lock_guard lock(mutex_);
    now_ += d;
  }
  notify();
}

void ManualClock::set_time(Time t) {
  {
    std::lock_guard lock(mutex_);
    now_ = t;
  }
  notify();
}

std::uint64_t ManualClock::add_observer(std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  const auto token = next_token_++;
  observers_.emplace(token, std::make_shared<std::function<void()>>(std::move(fn)));
  return token;
}

void ManualClock::remove_observer(std::uint64_t token) {
  std::lock_guard lock(mutex_);
  observers_.erase(token);
}

void ManualClock::notify() {
  std::vector<std::shared_ptr<std::function<void()>>> to_call;
  {
    std::lock_guard lock(mutex_);
    to_call.reserve(observers_.size());
    for (auto& [token, fn] : observers_)
      to_call.push_back(fn);
  }
  for (auto& fn : to_call)
    (*fn)();
}

}  // namespace rill
