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

/// The files of a checkpoint directory (snapshots and deltas of the state after each batch, seal
/// records of batches not yet checkpointed), all framed, checksummed and written durably. Holds
/// the directory's lock while it lives. docs/checkpoint-format.md describes the files.
class Checkpointer {
 public:
  /// Keeps the newest `retained` checkpoints restorable.
  Checkpointer(std::filesystem::path dir, std::size_t retained);

  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }
  void write_seal(const SealData& seal);
  /// Writes the checkpoint (snapshot-<t> or delta-<t>), then deletes the seal records it covers
  /// and the files the newest `retained` checkpoints do not need. Returns the bytes written.
  std::size_t write_checkpoint(const CheckpointData& data);
  /// The newest checkpoint that can be restored, as the chain that restores it: a snapshot, then
  /// the deltas up to it, oldest first. A checkpoint whose file or chain has a torn, corrupt or
  /// missing file is skipped, with a log line naming the file.
  [[nodiscard]] std::optional<std::vector<CheckpointData>> load_latest() const;
  /// True when the directory holds checkpoint files (valid or not).
  [[nodiscard]] bool has_checkpoints() const;
  /// Seal records of batches after `after`, by time (torn ones skipped: their batch never ran).
  [[nodiscard]] std::map<std::int64_t, SealData> load_seals_after(std::int64_t after) const;

 private:
  [[nodiscard]] std::vector<std::pair<std::int64_t, std::filesystem::path>> list(
      std::string_view prefix) const;
  /// Times of the checkpoint files, snapshot or delta, oldest first.
  [[nodiscard]] std::vector<std::int64_t> checkpoint_times() const;
  void prune();

  std::filesystem::path dir_;
  std::size_t retained_;
  std::unique_ptr<DirectoryLock> lock_;
};

}  // namespace rill::detail
