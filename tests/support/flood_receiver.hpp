// A receiver that stores as fast as store() lets it: what rate control limits (rate_control_test,
// ops metrics_test).
#pragma once

#include <cstdint>
#include <thread>

#include <rill/rill.hpp>

namespace rill_test {

/// Stores 0, 1, 2 ... one record at a time, as fast as store() lets it (a rate limit, a full
/// queue), until stopped.
class FloodReceiver final : public rill::Receiver<std::int64_t> {
 public:
  void on_start() override {
    thread_ = std::thread([this] {
      try {
        for (std::int64_t i = 0; !is_stopped(); ++i)
          store(i);
      } catch (const rill::Stopped&) {
      }
    });
  }
  void on_stop() override {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::thread thread_;
};

}  // namespace rill_test
