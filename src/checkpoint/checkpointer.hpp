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
  std::string payload;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(name, kind, fingerprint, payload);
  }
};

/// The checkpoint written after batch `batch_time` completed.
struct CheckpointData {
  std::int64_t batch_time = 0;
  std::int64_t zero = 0;
  std::int64_t interval = 0;
  std::vector<NodeSnapshot> nodes;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(batch_time, zero, interval, nodes);
  }
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

/// The files of a checkpoint directory (metadata and state after each batch, seal records of
/// batches not yet checkpointed), all framed, checksummed and written durably. Holds the
/// directory's lock while it lives.
class Checkpointer {
 public:
  static constexpr std::size_t kKeep = 10;

  explicit Checkpointer(std::filesystem::path dir);

  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }
  void write_seal(const SealData& seal);
  /// Writes the checkpoint, then deletes seal records it covers and all but the newest kKeep
  /// checkpoints.
  void write_checkpoint(const CheckpointData& data);
  /// The newest checkpoint that reads back whole; each one skipped is logged with its reason.
  [[nodiscard]] std::optional<CheckpointData> load_latest() const;
  /// True when the directory holds checkpoint files (valid or not).
  [[nodiscard]] bool has_checkpoints() const;
  /// Seal records of batches after `after`, by time (torn ones skipped: their batch never ran).
  [[nodiscard]] std::map<std::int64_t, SealData> load_seals_after(std::int64_t after) const;

 private:
  [[nodiscard]] std::vector<std::pair<std::int64_t, std::filesystem::path>> list(
      std::string_view prefix) const;

  std::filesystem::path dir_;
  std::unique_ptr<DirectoryLock> lock_;
};

}  // namespace rill::detail
