#pragma once

namespace rill::detail {

/// Marks the current thread as one of rill's own while it lives (scheduler, batch, worker,
/// listener and receiver threads): StreamingContext::stop() called there only requests the stop,
/// since waiting for it would wait for the calling thread itself.
class RillThreadScope {
 public:
  RillThreadScope() noexcept;
  ~RillThreadScope();
  RillThreadScope(const RillThreadScope&) = delete;
  RillThreadScope& operator=(const RillThreadScope&) = delete;

 private:
  bool previous_;
};

/// True on a thread inside a RillThreadScope.
[[nodiscard]] bool on_rill_thread() noexcept;

}  // namespace rill::detail
