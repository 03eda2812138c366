#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rill::detail {

/// One operator's or input's saved state in a checkpoint.
struct NodeSnapshot {
  std::string name;
  std::string kind;
  std::uint64_t fingerprint = 0;
  bool delta = false;  // payload holds the changes since the previous checkpoint
  std::string payload;
  // The summary after the nodes (docs/checkpoint-format.md): not in serialize(), so that files
  // without it read as before.
  std::optional<std::int64_t> keys;  // keys held after the batch, when the node counts keys
  bool input = false;                // an input's position, not an operator's state
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

/// A checkpoint's payload: cereal's CheckpointData, then the node summary (per node: its key
/// count and whether it is an input).
[[nodiscard]] std::string encode_checkpoint(const CheckpointData& data);
/// Reads encode_checkpoint()'s bytes, or those of a rill that wrote no summary (keys unknown,
/// no node an input). Throws cereal::Exception on malformed bytes.
[[nodiscard]] CheckpointData decode_checkpoint(std::string_view payload);

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

/// Why recovery passed over a checkpoint: its time, the file at fault (when one is), and a
/// sentence for the log.
struct SkippedCheckpoint {
  std::int64_t batch_time = 0;
  std::filesystem::path file;  // empty when no file is at fault
  std::string reason;          // why `file` cannot be used ("fails its checksum", "is missing")
  std::string message;
};

/// What recovery restores from a directory (load_latest()): the chain of the newest checkpoint
/// that reads back whole (a snapshot, then the deltas up to it, oldest first; nullopt when none
/// does), and every newer checkpoint passed over, newest first.
struct LatestCheckpoint {
  std::optional<std::vector<CheckpointData>> chain;
  std::vector<SkippedCheckpoint> skipped;
};

/// The seal records recovery runs again after restoring checkpoint `restored` (seals_to_replay()),
/// or why it refuses.
struct SealReplay {
  std::map<std::int64_t, SealData> replay;  // by batch time, run again with their records
  /// Sentences for the log: records ignored (off the batch grid) and damaged or missing last
  /// records whose batches are sealed afresh.
  std::vector<std::string> warnings;
  /// Set when recovery must refuse (a record before the last readable one is damaged or
  /// missing): the CheckpointError's message.
  std::optional<std::string> refusal;
};

/// A read-only view of a checkpoint directory's files (docs/checkpoint-format.md): lists them,
/// reads and checks each one, and decides what recovery restores. Recovery (Checkpointer,
/// CheckpointCoordinator) and inspection (rill::CheckpointReader, the rill-checkpoint tool) both
/// decide through it, so they agree. Takes no lock and writes nothing. Times are batch times in
/// ms. Thread-safety: const members only; safe to share.
class CheckpointDirectory {
 public:
  static constexpr std::uint32_t kSnapshotKind = 1;
  static constexpr std::uint32_t kSealKind = 2;
  static constexpr std::uint32_t kDeltaKind = 3;
  static constexpr std::string_view kSnapshotPrefix = "snapshot-";
  static constexpr std::string_view kDeltaPrefix = "delta-";
  static constexpr std::string_view kSealPrefix = "sealed-";
  static constexpr std::string_view kFormat1Prefix = "checkpoint-";  // before incremental ones
  static constexpr std::string_view kSuffix = ".rill";

  explicit CheckpointDirectory(std::filesystem::path dir) : dir_(std::move(dir)) {}

  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }
  /// `<dir>/<prefix><t>.rill`.
  [[nodiscard]] std::filesystem::path file(std::string_view prefix, std::int64_t t) const;
  /// The files `<prefix><t>.rill` by time, oldest first (names that do not parse are not rill's).
  [[nodiscard]] std::vector<std::pair<std::int64_t, std::filesystem::path>> list(
      std::string_view prefix) const;
  /// Times of the checkpoint files, snapshot or delta, oldest first.
  [[nodiscard]] std::vector<std::int64_t> checkpoint_times() const;
  /// True when the directory holds checkpoint files (valid or not, of any format version).
  [[nodiscard]] bool has_checkpoints() const;

  /// Reads and decodes the checkpoint file `path` of kind kSnapshotKind or kDeltaKind for batch
  /// t; nullopt with the reason in `why` when it is torn, corrupt, cannot be decoded or holds
  /// another batch or kind than its name says.
  [[nodiscard]] static std::optional<CheckpointData> read_checkpoint(
      const std::filesystem::path& path, std::uint32_t kind, std::int64_t t, std::string* why);
  /// The chain that restores checkpoint t (the snapshot, then the deltas up to t), reading each
  /// time through `read` (t -> its data or nullopt). For one time a snapshot is tried before a
  /// delta. nullopt when t or a file of its chain cannot be read; `broken_at` then says at
  /// which time.
  template <class Read>
  static std::optional<std::vector<CheckpointData>> chain_of(std::int64_t t, Read&& read,
                                                             std::int64_t* broken_at);
  /// Checkpoint t read as recovery reads it: its snapshot, else its delta; nullopt with the
  /// reasons (file and why, one per file tried) in `why`.
  [[nodiscard]] std::optional<CheckpointData> read_at(
      std::int64_t t, std::vector<std::pair<std::filesystem::path, std::string>>* why) const;
  /// What recovery restores: the newest checkpoint whose whole chain reads back.
  [[nodiscard]] LatestCheckpoint load_latest() const;
  /// Seal records of batches after `after`, by time, the damaged ones apart. A record counts
  /// as damaged when its frame is torn or corrupt, it cannot be decoded, or it holds another
  /// batch than its name says (a copy under another name).
  [[nodiscard]] SealRecords load_seals_after(std::int64_t after) const;
  /// The seal records recovery runs again after restoring `restored`, or why it refuses.
  [[nodiscard]] SealReplay seals_to_replay(const CheckpointData& restored) const;

 private:
  std::filesystem::path dir_;
};

template <class Read>
std::optional<std::vector<CheckpointData>> CheckpointDirectory::chain_of(std::int64_t t,
                                                                         Read&& read,
                                                                         std::int64_t* broken_at) {
  std::vector<CheckpointData> chain;
  std::optional<std::int64_t> next = t;
  while (next) {
    const std::optional<CheckpointData>& data = read(*next);
    if (!data) {
      if (broken_at != nullptr) *broken_at = *next;
      return std::nullopt;
    }
    chain.push_back(*data);
    next = data->previous;
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

}  // namespace rill::detail
