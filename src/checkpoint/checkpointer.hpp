#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "checkpoint/durable_file.hpp"

namespace rill::detail {

/// One operator's or input's saved state in a checkpoint.
struct NodeSnapshot {
  std::string name;
  std::string kind;
  std::uint64_t fingerprint = 0;
  bool delta = false;  // payload holds the changes since the previous checkpoint
  std::string payload;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(name, kind, fingerprint, delta, payload);
  }
};

/// The checkpoint written after batch `batch_time` completed: a snapshot (`previous` empty), or
/// a delta over the checkpoint of batch `previous`.
struct CheckpointData {
  std::int64_t batch_time = 0;
  std::int64_t zero = 0;
  std::int64_t interval = 0;
  std::optional<std::int64_t> previous;
  std::vector<NodeSnapshot> nodes;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(batch_time, zero, interval, previous, nodes);
  }
  [[nodiscard]] bool is_delta() const noexcept { return previous.has_value(); }
};

/// What fixed one batch's input, written before the batch runs.
struct SealData {
  std::int64_t batch_time = 0;
  std::vector<std::pair<std::string, std::string>> inputs;  // input name -> seal record
  template <class Archive>
  void serialize(Archive& ar) {
    ar(batch_time, inputs);
  }
};

/// The seal records a directory holds after a checkpoint's batch: the readable ones, and the
/// files that are there but cannot be used (torn, corrupt, or not of the batch their name says).
struct SealRecords {
  std::map<std::int64_t, SealData> valid;
  /// batch time -> "'<path>' <why>"
  std::map<std::int64_t, std::string> damaged;
};

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

  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }
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
  [[nodiscard]] bool has_checkpoints() const;
  /// Seal records of batches after `after`, by time, the damaged ones apart. A record counts
  /// as damaged when its frame is torn or corrupt, it cannot be decoded, or it holds another
  /// batch than its name says (a copy under another name).
  [[nodiscard]] SealRecords load_seals_after(std::int64_t after) const;

 private:
  [[nodiscard]] std::vector<std::pair<std::int64_t, std::filesystem::path>> list(
      std::string_view prefix) const;
  /// Times of the checkpoint files, snapshot or delta, oldest first.
  [[nodiscard]] std::vector<std::int64_t> checkpoint_times() const;
  /// Deletes what the newest `retained` checkpoints do not need; returns the oldest checkpoint
  /// left.
  std::optional<std::int64_t> prune();
  /// Removes `.<name>.tmp` files: writes a kill interrupted (the directory is locked, so no
  /// writer of this directory runs).
  void remove_temporary_files();

  std::filesystem::path dir_;
  std::size_t retained_;
  std::unique_ptr<DirectoryLock> lock_;
  std::optional<std::int64_t> oldest_;  // set by write_checkpoint()
};

}  // namespace rill::detail
