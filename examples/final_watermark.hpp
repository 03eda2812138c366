// A listener with which an example ends by itself once its input's last windows are out
// (sensor_windows, replay).
#pragma once

#include <future>

#include <rill/rill.hpp>

namespace rill_examples {

/// Signals once a batch in which the watermark is at least `final` has completed: in append
/// mode that batch emitted every window the input can close. Listeners are called on one rill
/// thread, so `done_` needs no lock.
class FinalWatermark final : public rill::StreamingListener {
 public:
  explicit FinalWatermark(rill::Time final) : final_(final) {}
  void on_batch_completed(const rill::BatchInfo& info) override {
    if (!done_ && info.watermark && *info.watermark >= final_) {
      done_ = true;
      reached_.set_value();
    }
  }
  std::future<void> reached() { return reached_.get_future(); }

 private:
  rill::Time final_;
  bool done_ = false;
  std::promise<void> reached_;
};

}  // namespace rill_examples
