#pragma once
// A listener recording one operator's StateInfo after each batch: the event-time tests check
// StateInfo::keys and StateInfo::late_records batch by batch.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <rill/testing.hpp>

namespace rill_test {

/// StateInfo::keys and late_records of the operator named `name`, one entry per completed batch.
class StateRecorder final : public rill::StreamingListener {
 public:
  explicit StateRecorder(std::string name) : name_(std::move(name)) {}
  void on_batch_completed(const rill::BatchInfo& info) override {
    std::lock_guard lock(mutex_);
    for (const auto& s : info.state) {
      if (s.name == name_) {
        keys_.push_back(s.keys);
        late_.push_back(s.late_records);
      }
    }
  }
  std::vector<std::int64_t> keys() {
    std::lock_guard lock(mutex_);
    return keys_;
  }
  std::vector<std::int64_t> late() {
    std::lock_guard lock(mutex_);
    return late_;
  }

 private:
  std::string name_;
  std::mutex mutex_;
  std::vector<std::int64_t> keys_;
  std::vector<std::int64_t> late_;
};

/// A StateRecorder of the operator `name`, listening to `h`'s context.
inline std::shared_ptr<StateRecorder> record_state(rill::testing::Harness& h, std::string name) {
  auto recorder = std::make_shared<StateRecorder>(std::move(name));
  h.context().add_listener(recorder);
  return recorder;
}

}  // namespace rill_test
