#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "checkpoint/checkpoint_directory.hpp"
#include "checkpoint/durable_file.hpp"

namespace rill::detail {

/// The files of a checkpoint directory (snapshots and deltas of the state after each batch, seal
/// records of the batches a retained checkpoint may need to run again), all framed, checksummed
/// and written durably. Holds the directory's lock while it lives, and removes the temporary
/// files that killed writers left when it takes it. docs/checkpoint-format.md describes the
/// files.
class Checkpointer {
 public:
  /// Keeps the newest `retained` checkpoints restorable. Throws CheckpointError when the
  /// directory cannot be created or is locked by another context or process.
  Checkpointer(std::filesystem::path dir, std::size_t retained);

  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return files_.dir(); }
  /// The directory's files, read-only (what recovery restores, the seal records to replay).
  [[nodiscard]] const CheckpointDirectory& files() const noexcept { return files_; }
  void write_seal(const SealData& seal);
  /// Writes the checkpoint (snapshot-<t> or delta-<t>), then deletes the files the newest
  /// `retained` checkpoints do not need, and the seal records that every checkpoint left
  /// covers. Returns the bytes written.
  std::size_t write_checkpoint(const CheckpointData& data);
  /// The oldest checkpoint left in the directory after the last write_checkpoint() (a restart
  /// may fall back as far as it), in ms; nullopt before the first.
  [[nodiscard]] std::optional<std::int64_t> oldest_checkpoint() const noexcept { return oldest_; }
  /// The newest checkpoint that can be restored, as the chain that restores it: a snapshot, then
  /// the deltas up to it, oldest first. A checkpoint whose file or chain has a torn, corrupt or
  /// missing file is skipped, with a log line naming the file.
  [[nodiscard]] std::optional<std::vector<CheckpointData>> load_latest() const;
  /// True when the directory holds checkpoint files (valid or not).
  [[nodiscard]] bool has_checkpoints() const { return files_.has_checkpoints(); }

 private:
  /// Deletes what the newest `retained` checkpoints do not need; returns the oldest checkpoint
  /// left.
  std::optional<std::int64_t> prune();
  /// Removes `.<name>.tmp` files: writes a kill interrupted (the directory is locked, so no
  /// writer of this directory runs).
  void remove_temporary_files();

  CheckpointDirectory files_;
  std::size_t retained_;
  std::unique_ptr<DirectoryLock> lock_;
  std::optional<std::int64_t> oldest_;  // set by write_checkpoint()
};

}  // namespace rill::detail
