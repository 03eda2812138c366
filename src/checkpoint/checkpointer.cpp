#include "checkpoint/checkpointer.hpp"

#include <algorithm>

#include "rill/core/errors.hpp"
#include "rill/core/logging.hpp"
#include "rill/core/serialization.hpp"

namespace rill::detail {

namespace fs = std::filesystem;

using Dir = CheckpointDirectory;

Checkpointer::Checkpointer(fs::path directory, std::size_t retained)
    : files_(std::move(directory)), retained_(std::max<std::size_t>(1, retained)) {
  std::error_code ec;
  fs::create_directories(dir(), ec);
  if (ec) {
    throw CheckpointError(
        fmt::format("cannot create checkpoint directory '{}': {}", dir().string(), ec.message()));
  }
  lock_ = std::make_unique<DirectoryLock>(dir());
  remove_temporary_files();
}

void Checkpointer::remove_temporary_files() {
  std::error_code ec;
  std::size_t removed = 0;
  for (const auto& entry : fs::directory_iterator(dir(), ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with('.') || !name.ends_with(".tmp")) continue;
    std::error_code remove_ec;
    if (fs::remove(entry.path(), remove_ec)) ++removed;
  }
  if (removed > 0) {
    logger().info(
        "checkpoint directory '{}': removed {} temporary file(s) that interrupted writes "
        "left",
        dir().string(), removed);
  }
}

void Checkpointer::write_seal(const SealData& seal) {
  write_durable(files_.file(Dir::kSealPrefix, seal.batch_time), Dir::kSealKind, to_bytes(seal));
}

std::size_t Checkpointer::write_checkpoint(const CheckpointData& data) {
  const bool delta = data.is_delta();
  const std::string payload = encode_checkpoint(data);
  write_durable(files_.file(delta ? Dir::kDeltaPrefix : Dir::kSnapshotPrefix, data.batch_time),
                delta ? Dir::kDeltaKind : Dir::kSnapshotKind, payload);
  // A file of the other kind at the same time (left by an earlier run) is superseded.
  std::error_code ec;
  fs::remove(files_.file(delta ? Dir::kSnapshotPrefix : Dir::kDeltaPrefix, data.batch_time), ec);
  oldest_ = prune();
  // A restart may fall back to any checkpoint left, and then runs again the batches sealed
  // after it from their seal records: only the records that every checkpoint left covers go.
  if (oldest_) {
    for (const auto& [t, path] : files_.list(Dir::kSealPrefix)) {
      if (t <= *oldest_) fs::remove(path, ec);
    }
  }
  return payload.size();
}

std::optional<std::int64_t> Checkpointer::prune() {
  const auto times = files_.checkpoint_times();
  if (times.empty()) return std::nullopt;
  if (times.size() <= retained_) return times.front();
  // The oldest checkpoint to keep restorable needs its chain back to the newest snapshot at or
  // before it; everything older goes.
  const std::int64_t oldest_kept = times[times.size() - retained_];
  std::optional<std::int64_t> base;
  for (const auto& [t, path] : files_.list(Dir::kSnapshotPrefix)) {
    if (t <= oldest_kept) base = t;
  }
  if (!base) return times.front();  // chains of an older run: keep everything rather than guess
  std::error_code ec;
  for (std::string_view prefix : {Dir::kSnapshotPrefix, Dir::kDeltaPrefix}) {
    for (const auto& [t, path] : files_.list(prefix)) {
      if (t < *base) fs::remove(path, ec);
    }
  }
  return *base;
}

std::optional<std::vector<CheckpointData>> Checkpointer::load_latest() const {
  if (const auto old = files_.list(Dir::kFormat1Prefix); !old.empty()) {
    logger().warn(
        "checkpoint '{}' (and {} more) is of format version 1, which this rill does not "
        "read",
        old.back().second.string(), old.size() - 1);
  }
  LatestCheckpoint latest = files_.load_latest();
  for (const SkippedCheckpoint& skipped : latest.skipped)
    logger().warn("{}", skipped.message);
  return std::move(latest.chain);
}

}  // namespace rill::detail
