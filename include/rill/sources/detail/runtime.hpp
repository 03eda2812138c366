#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string_view>

#include "rill/checkpoint/detail/block_log.hpp"
#include "rill/core/clock.hpp"
#include "rill/core/config.hpp"
#include "rill/core/time.hpp"

namespace rill::detail {

/// What the running engine offers to sources and receivers (internal; Spark's
/// ReceiverTracker and the job scheduler's event loop, as seen from an input).
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
  /// Receivers report records stored (for metrics and the test harness). Called on every
  /// store(): costs an atomic add, and a notify only while someone waits.
  virtual void records_stored(std::int64_t n) = 0;
  /// True when the context checkpoints: sources then write seal records.
  [[nodiscard]] virtual bool checkpointing() const = 0;
  /// A write-ahead log of its own for the input `name`, or nullptr without checkpoints.
  [[nodiscard]] virtual std::unique_ptr<BlockLog> open_block_log(std::string_view name) = 0;
};

}  // namespace rill::detail
