#pragma once
// Waiting in wall-clock time for something another thread does (a socket peer, a receiver's
// thread): for the tests that cannot use the manual clock.

#include <chrono>
#include <thread>

namespace rill_test {

/// Polls `pred` every millisecond until it holds, at most `timeout`; returns whether it held.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds{10}) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  return true;
}

}  // namespace rill_test
