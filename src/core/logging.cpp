#include "rill/core/logging.hpp"

#include <mutex>

#include <spdlog/sinks/null_sink.h>
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
    // By default rill's messages go where spdlog's default logger sends its own (stderr, through
    // spdlog's sink), with spdlog's default level; the application decides.
    auto sinks = spdlog::default_logger()->sinks();
    cached = std::make_shared<spdlog::logger>("rill", sinks.begin(), sinks.end());
    spdlog::register_logger(cached);
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
