#include "scheduler/listener_bus.hpp"

namespace rill::detail {

ListenerBus::ListenerBus() = default;

ListenerBus::~ListenerBus() = default;

void ListenerBus::add(std::shared_ptr<StreamingListener> listener) {
  std::lock_guard lock(mutex_);
  listeners_.push_back(std::move(listener));
  has_listeners_.store(true, std::memory_order_release);
}

void ListenerBus::start() {
  executor_ = std::make_unique<SerialExecutor>();
}

bool ListenerBus::emit(void (StreamingListener::*event)(const BatchInfo&), const BatchInfo& info) {
  if (!has_listeners()) return false;  // no lock, no copy: the common case of an idle context
  std::vector<std::shared_ptr<StreamingListener>> listeners;
  {
    std::lock_guard lock(mutex_);
    listeners = listeners_;
  }
  if (listeners.empty()) return false;
  executor_->post([listeners = std::move(listeners), event, info] {
    for (const auto& l : listeners)
      ((*l).*event)(info);
  });
  return true;
}

void ListenerBus::post(std::function<void()> task) {
  executor_->post(std::move(task));
}

void ListenerBus::shutdown() {
  if (executor_) executor_->shutdown();
}

}  // namespace rill::detail
