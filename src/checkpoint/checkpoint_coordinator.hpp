#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "checkpoint/checkpointer.hpp"
#include "rill/checkpoint/detail/block_log.hpp"
#include "rill/checkpoint/detail/checkpointed_state.hpp"
#include "rill/core/config.hpp"
#include "rill/core/time.hpp"

namespace rill::detail {

/// A running context's checkpoint directory (Spark's CheckpointWriter and the recovery half of
/// its JobGenerator): checks that the pipeline's states can be checkpointed and match what a
/// directory holds, restores them, writes the seal record of each batch and the checkpoint after
/// it (a snapshot or a delta: the policy lives here), and opens the inputs' write-ahead logs.
/// Times are batch times in ms.
///
/// Thread-safety: not thread-safe. start() calls everything up to restore() and the first
/// write_checkpoint(); then write_seal() is called by the tick in progress (one at a time),
/// write_checkpoint() by the batch thread, open_block_log() by the inputs' start. A tick's
/// write_seal() may overlap a batch's write_checkpoint(): the seal is of a later batch, so they
/// touch different files.
/// Errors: rill::CheckpointError, as documented per member.
class CheckpointCoordinator {
 public:
  /// Checkpoints the `states` (inputs first, then operators; each outlives the coordinator) of a
  /// pipeline run with `config` into `dir`: creates the directory and takes its lock
  /// (CheckpointError when it cannot).
  CheckpointCoordinator(std::filesystem::path dir, const Config& config,
                        std::vector<CheckpointedState*> states);
  ~CheckpointCoordinator();
  CheckpointCoordinator(const CheckpointCoordinator&) = delete;
  CheckpointCoordinator& operator=(const CheckpointCoordinator&) = delete;

  /// Throws CheckpointError naming the first state whose type cereal cannot serialize.
  void check_serializable() const;
  /// Asks every state to track what its batches change (for deltas).
  void track_changes();
  /// The newest valid checkpoint, as the chain that restores it (a snapshot, then deltas), each
  /// checked by check_compatible(); nullopt when there is none. Throws CheckpointError when
  /// every checkpoint the directory holds is torn or corrupt and not `start_fresh` (the
  /// directory's lock is then released: the coordinator is unusable), or when one does not
  /// match the pipeline.
  [[nodiscard]] std::optional<std::vector<CheckpointData>> load_latest(bool start_fresh);
  /// Throws CheckpointError when `data` was written with another batch interval, or its states
  /// do not match the pipeline's by name, kind and type fingerprint.
  void check_compatible(const CheckpointData& data) const;
  /// Restores the state a chain of checkpoints holds (the snapshot, then each delta), and returns
  /// the seal records of the batches sealed after its last checkpoint, by time: the job generator
  /// seals them again. The last of them may be missing or damaged (the process died while
  /// writing it: its batch is sealed afresh). Throws CheckpointError when a state cannot be
  /// read, or naming the file when a seal record before the last is missing or damaged
  /// (sealing its batch afresh would take input of a later batch: counted twice).
  [[nodiscard]] std::map<std::int64_t, SealData> restore(const std::vector<CheckpointData>& chain);
  /// What write_checkpoint() wrote (BatchInfo's CheckpointInfo).
  struct Written {
    std::size_t bytes = 0;  // the checkpoint file's bytes
    bool snapshot = false;  // a snapshot, not a delta
  };
  /// Writes the checkpoint of batch `t` of a context with zero time `zero` (a snapshot or a
  /// delta), durably. Throws CheckpointError (or what a state's save throws).
  Written write_checkpoint(Time t, Time zero);
  /// The oldest checkpoint the directory keeps after the last write_checkpoint(): a restart
  /// may fall back as far as it (when newer ones are damaged), so inputs keep what batches
  /// after it need (write-ahead log blocks) until a later call moves it.
  [[nodiscard]] Time oldest_retained() const noexcept {
    return Time{checkpointer_->oldest_checkpoint().value_or(0)};
  }
  /// Writes a batch's seal record durably, before the batch can run. Throws CheckpointError.
  void write_seal(const SealData& seal);
  /// A write-ahead log of its own for the input `name`, under the directory.
  [[nodiscard]] std::unique_ptr<BlockLog> open_block_log(std::string_view name) const;

 private:
  /// The seal records after `restored` to seal again (see restore()).
  [[nodiscard]] std::map<std::int64_t, SealData> seals_to_replay(
      const CheckpointData& restored) const;

  std::filesystem::path dir_;
  Duration interval_;
  std::size_t snapshot_interval_;
  std::vector<CheckpointedState*> states_;
  std::unique_ptr<Checkpointer> checkpointer_;
  // Incremental checkpoints (batch thread): the last checkpoint this run wrote, and the deltas
  // written since the last snapshot.
  std::optional<Time> last_checkpoint_;
  std::size_t deltas_since_snapshot_ = 0;
  std::size_t delta_bytes_since_snapshot_ = 0;
  std::size_t snapshot_bytes_ = 0;
};

}  // namespace rill::detail
