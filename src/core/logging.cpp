#include "rill/core/logging.hpp"

#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace rill {

std::shared_ptr<spdlog::logger> get_logger() {
  static std::mutex mutex;
  static std::shared_ptr<spdlog::logger> cached;
  std::lock_guard lock(mutex);
  if (auto registered = spdlog::get("rill")) {
    cached = registered;
    return cached;
  }
  if (!cached) {
    // By default rill's messages go to stderr through spdlog (stdout belongs to print()); an
    // application that registers its own logger named "rill" first decides otherwise.
    cached = spdlog::stderr_color_mt("rill");
  }
  return cached;
}

namespace detail {
spdlog::logger& logger() {
  static thread_local std::shared_ptr<spdlog::logger> local;
  if (!local) local = get_logger();
  return *local;
}
}  // namespace detail

}  // namespace rill
