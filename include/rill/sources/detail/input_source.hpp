#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "rill/core/listener.hpp"
#include "rill/core/time.hpp"
#include "rill/sources/detail/runtime.hpp"
#include "rill/sources/source.hpp"

namespace rill::detail {

/// An input as the engine drives it, type-independent: it fixes each batch's input when the
/// batch is sealed (or again from its seal record after a restart), and forgets it once the
/// batch is done. SourceNode<T> implements it over a Source<T>.
class InputSource {
 public:
  virtual ~InputSource() = default;

  [[nodiscard]] virtual const std::string& source_name() const = 0;
  [[nodiscard]] virtual SourceProperties source_properties() const = 0;
  /// Called once by start(), before the first tick.
  virtual void start_input(Runtime& rt, Time zero) = 0;
  /// Fixes the input of batch t, taking everything buffered; returns its record count and sets
  /// `seal_record` (when the context checkpoints). Never called while the pending-batch limit is
  /// reached: back-pressure holds the tick instead (JobGenerator).
  virtual std::int64_t seal(Time t, std::string& seal_record) = 0;
  /// Seals batch t again from its record, after a restart.
  virtual std::int64_t replay_seal(Time t, std::string_view seal_record) = 0;
  /// Stops receiving new input; what is buffered stays to be sealed.
  virtual void stop_input() = 0;
  /// True while received input waits to be sealed into a batch.
  [[nodiscard]] virtual bool has_buffered_input() const = 0;
  /// Under Trigger::available_now: true while part of what the source held at start() is not
  /// sealed yet (Source::has_available_input).
  [[nodiscard]] virtual bool has_available_input() const = 0;
  /// Forgets the sealed input of batch t once it is done.
  virtual void release_input(Time t) = 0;
  /// The checkpoint of batch t is durable; a restart may fall back as far as the checkpoint of
  /// `oldest_retained` (Source::checkpoint_written).
  virtual void checkpoint_written(Time t, Time oldest_retained) = 0;
  /// Right after seal(): the source's receiver queue as that seal found it
  /// (Source::queue_info); nullopt for a source without one.
  [[nodiscard]] virtual std::optional<QueueInfo> queue_info() const = 0;
  /// Back-pressure's estimate for this input, in records/s (Source::update_rate); only for
  /// inputs whose properties say rate_limited.
  virtual void update_rate(double records_per_second) = 0;
  /// Right after seal(): the limit of the input's intake, nullopt when unlimited
  /// (Source::rate_limit).
  [[nodiscard]] virtual std::optional<double> rate_limit() const = 0;
  /// Counters of the input (records, skipped, errors).
  [[nodiscard]] virtual SourceStats source_stats() const = 0;
};

}  // namespace rill::detail
