#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "rill/core/serialization.hpp"
#include "rill/core/time.hpp"

namespace rill::detail {

/// What an operator or input keeps across batches, as checkpoints see it (Spark's
/// DStreamCheckpointData and StateStore providers in one contract): a descriptor that names and
/// types it, its whole state, and, for incremental checkpoints, the changes since the last
/// checkpoint. Called on the batch thread, or by start() before any batch runs.
class CheckpointedState {
 public:
  virtual ~CheckpointedState() = default;

  /// The stable name, kind and type fingerprint of what is kept; nullopt when nothing is kept
  /// (then no other member is called).
  [[nodiscard]] virtual std::optional<StateDescriptor> state_descriptor() const = 0;
  /// What is kept, as of the end of batch t.
  [[nodiscard]] virtual std::string save_state(Time t) const = 0;
  /// Restores a save_state(), before the first batch.
  virtual void load_state(std::string_view bytes) = 0;
  /// With a checkpoint directory, start() asks every checkpointed state to track what its
  /// batches change.
  virtual void track_changes() {}
  /// What changed since the last checkpoint that was written (state_saved()), as of the end of
  /// batch t; nullopt when only the whole state can be written (save_state()).
  [[nodiscard]] virtual std::optional<std::string> save_delta(Time /*t*/) const {
    return std::nullopt;
  }
  /// Applies a save_delta() on top of the state restored so far (load_state, then deltas).
  virtual void load_delta(std::string_view /*bytes*/) {}
  /// The checkpoint of batch t, full or delta, is durable: changes count from here.
  virtual void state_saved(Time /*t*/) {}
  /// The keys kept now, for the checkpoint's summary (docs/checkpoint-format.md); nullopt when
  /// what is kept is not counted in keys.
  [[nodiscard]] virtual std::optional<std::int64_t> state_keys() const { return std::nullopt; }
  /// True for an input's position (a source), false for an operator's state.
  [[nodiscard]] virtual bool is_input() const noexcept { return false; }
};

}  // namespace rill::detail
