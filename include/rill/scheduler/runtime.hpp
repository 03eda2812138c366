#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <string>

#include "rill/core/clock.hpp"
#include "rill/core/config.hpp"
#include "rill/core/time.hpp"

namespace rill::detail {

/// What the running engine offers to inputs and receivers (internal).
class Runtime {
 public:
  virtual ~Runtime() = default;
  [[nodiscard]] virtual Clock& clock() = 0;
  [[nodiscard]] virtual const Config& config() const = 0;
  /// Runs fn on the scheduler thread once the context's clock reads `t` or later.
  virtual void run_at(Time t, std::function<void()> fn) = 0;
  /// Runs fn on the scheduler thread soon.
  virtual void post(std::function<void()> fn) = 0;
  /// User code failed outside a batch (a receiver's on_start, say): stops the context.
  virtual void fail(std::exception_ptr error) = 0;
  /// Receivers report records stored (for metrics and the test harness).
  virtual void records_stored(std::int64_t n) = 0;
};

/// Marks the current thread as one of rill's own (stop() from a callback only requests).
class RillThreadScope {
 public:
  RillThreadScope() noexcept;
  ~RillThreadScope();
  RillThreadScope(const RillThreadScope&) = delete;
  RillThreadScope& operator=(const RillThreadScope&) = delete;

 private:
  bool previous_;
};
[[nodiscard]] bool on_rill_thread() noexcept;

}  // namespace rill::detail
