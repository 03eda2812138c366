#include "checkpoint/checkpointer.hpp"

#include <algorithm>
#include <charconv>

#include "rill/core/errors.hpp"
#include "rill/core/logging.hpp"
#include "rill/core/serialization.hpp"

namespace rill::detail {

namespace fs = std::filesystem;

namespace {
constexpr std::uint32_t kSnapshotKind = 1;
constexpr std::uint32_t kSealKind = 2;
constexpr std::uint32_t kDeltaKind = 3;
constexpr std::string_view kSnapshotPrefix = "snapshot-";
constexpr std::string_view kDeltaPrefix = "delta-";
constexpr std::string_view kSealPrefix = "sealed-";
constexpr std::string_view kFormat1Prefix = "checkpoint-";  // before incremental checkpoints
constexpr std::string_view kSuffix = ".rill";

fs::path file_for(const fs::path& dir, std::string_view prefix, std::int64_t t) {
  return dir / fmt::format("{}{}{}", prefix, t, kSuffix);
}

/// Reads and decodes one checkpoint file; nullopt (logged, naming the file) when it is torn,
/// corrupt or not what its name says.
std::optional<CheckpointData> read_checkpoint(const fs::path& path, std::uint32_t kind,
                                              std::int64_t t) {
  std::string why;
  auto frame = read_framed(path, kind, &why);
  if (!frame) {
    logger().warn("checkpoint '{}' {}; trying the previous one", path.string(), why);
    return std::nullopt;
  }
  try {
    CheckpointData data;
    from_bytes(frame->payload, data);
    if (data.batch_time != t || data.is_delta() != (kind == kDeltaKind) ||
        (data.previous && *data.previous >= t)) {
      logger().warn("checkpoint '{}' holds batch {} ms (previous {}); skipped", path.string(),
                    data.batch_time, data.previous.value_or(-1));
      return std::nullopt;
    }
    return data;
  } catch (const std::exception& e) {
    logger().warn("checkpoint '{}' cannot be decoded ({}); trying the previous one", path.string(),
                  e.what());
    return std::nullopt;
  }
}
}  // namespace

Checkpointer::Checkpointer(fs::path dir, std::size_t retained)
    : dir_(std::move(dir)), retained_(std::max<std::size_t>(1, retained)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) {
    throw CheckpointError(
        fmt::format("cannot create checkpoint directory '{}': {}", dir_.string(), ec.message()));
  }
  lock_ = std::make_unique<DirectoryLock>(dir_);
  remove_temporary_files();
}

void Checkpointer::remove_temporary_files() {
  std::error_code ec;
  std::size_t removed = 0;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with('.') || !name.ends_with(".tmp")) continue;
    std::error_code remove_ec;
    if (fs::remove(entry.path(), remove_ec)) ++removed;
  }
  if (removed > 0) {
    logger().info(
        "checkpoint directory '{}': removed {} temporary file(s) that interrupted writes "
        "left",
        dir_.string(), removed);
  }
}

std::vector<std::pair<std::int64_t, fs::path>> Checkpointer::list(std::string_view prefix) const {
  std::vector<std::pair<std::int64_t, fs::path>> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix) || !name.ends_with(kSuffix)) continue;
    const std::string_view digits =
        std::string_view(name).substr(prefix.size(), name.size() - prefix.size() - kSuffix.size());
    std::int64_t t = 0;
    const auto [ptr, err] = std::from_chars(digits.data(), digits.data() + digits.size(), t);
    if (err != std::errc{} || ptr != digits.data() + digits.size()) continue;
    out.emplace_back(t, entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::int64_t> Checkpointer::checkpoint_times() const {
  std::vector<std::int64_t> times;
  for (const auto& [t, path] : list(kSnapshotPrefix))
    times.push_back(t);
  for (const auto& [t, path] : list(kDeltaPrefix))
    times.push_back(t);
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  return times;
}

void Checkpointer::write_seal(const SealData& seal) {
  write_durable(file_for(dir_, kSealPrefix, seal.batch_time), kSealKind, to_bytes(seal));
}

std::size_t Checkpointer::write_checkpoint(const CheckpointData& data) {
  const bool delta = data.is_delta();
  const std::string payload = to_bytes(data);
  write_durable(file_for(dir_, delta ? kDeltaPrefix : kSnapshotPrefix, data.batch_time),
                delta ? kDeltaKind : kSnapshotKind, payload);
  // A file of the other kind at the same time (left by an earlier run) is superseded.
  std::error_code ec;
  fs::remove(file_for(dir_, delta ? kSnapshotPrefix : kDeltaPrefix, data.batch_time), ec);
  oldest_ = prune();
  // A restart may fall back to any checkpoint left, and then runs again the batches sealed
  // after it from their seal records: only the records that every checkpoint left covers go.
  if (oldest_) {
    for (const auto& [t, path] : list(kSealPrefix)) {
      if (t <= *oldest_) fs::remove(path, ec);
    }
  }
  return payload.size();
}

std::optional<std::int64_t> Checkpointer::prune() {
  const auto times = checkpoint_times();
  if (times.empty()) return std::nullopt;
  if (times.size() <= retained_) return times.front();
  // The oldest checkpoint to keep restorable needs its chain back to the newest snapshot at or
  // before it; everything older goes.
  const std::int64_t oldest_kept = times[times.size() - retained_];
  std::optional<std::int64_t> base;
  for (const auto& [t, path] : list(kSnapshotPrefix)) {
    if (t <= oldest_kept) base = t;
  }
  if (!base) return times.front();  // chains of an older run: keep everything rather than guess
  std::error_code ec;
  for (std::string_view prefix : {kSnapshotPrefix, kDeltaPrefix}) {
    for (const auto& [t, path] : list(prefix)) {
      if (t < *base) fs::remove(path, ec);
    }
  }
  return *base;
}

bool Checkpointer::has_checkpoints() const {
  return !checkpoint_times().empty() || !list(kFormat1Prefix).empty();
}

std::optional<std::vector<CheckpointData>> Checkpointer::load_latest() const {
  if (const auto old = list(kFormat1Prefix); !old.empty()) {
    logger().warn(
        "checkpoint '{}' (and {} more) is of format version 1, which this rill does not "
        "read",
        old.back().second.string(), old.size() - 1);
  }
  const auto times = checkpoint_times();
  // Each file is read at most once; nullopt marks one that cannot be used.
  std::map<std::int64_t, std::optional<CheckpointData>> read;
  auto at = [&](std::int64_t t) -> const std::optional<CheckpointData>& {
    auto it = read.find(t);
    if (it != read.end()) return it->second;
    std::optional<CheckpointData> data;
    const fs::path snapshot = file_for(dir_, kSnapshotPrefix, t);
    const fs::path delta = file_for(dir_, kDeltaPrefix, t);
    if (fs::exists(snapshot)) data = read_checkpoint(snapshot, kSnapshotKind, t);
    if (!data && fs::exists(delta)) data = read_checkpoint(delta, kDeltaKind, t);
    return read.emplace(t, std::move(data)).first->second;
  };
  for (auto it = times.rbegin(); it != times.rend(); ++it) {
    std::vector<CheckpointData> chain;
    std::optional<std::int64_t> t = *it;
    while (t) {
      const auto& data = at(*t);
      if (!data) break;
      chain.push_back(*data);
      t = data->previous;
    }
    if (!chain.empty() && !chain.back().is_delta()) {
      std::reverse(chain.begin(), chain.end());
      return chain;
    }
    if (at(*it)) {
      logger().warn(
          "checkpoint of batch {} ms in '{}' is a delta whose chain back to a snapshot is "
          "broken at batch {} ms; trying the previous one",
          *it, dir_.string(), chain.empty() ? *it : *chain.back().previous);
    }
  }
  return std::nullopt;
}

SealRecords Checkpointer::load_seals_after(std::int64_t after) const {
  SealRecords out;
  for (const auto& [t, path] : list(kSealPrefix)) {
    if (t <= after) continue;
    std::string why;
    auto frame = read_framed(path, kSealKind, &why);
    if (!frame) {
      out.damaged.emplace(t, fmt::format("'{}' {}", path.string(), why));
      continue;
    }
    try {
      SealData seal;
      from_bytes(frame->payload, seal);
      if (seal.batch_time != t) {
        out.damaged.emplace(t, fmt::format("'{}' holds the seal record of batch {} ms",
                                           path.string(), seal.batch_time));
        continue;
      }
      out.valid.emplace(t, std::move(seal));
    } catch (const std::exception& e) {
      out.damaged.emplace(t, fmt::format("'{}' cannot be decoded ({})", path.string(), e.what()));
    }
  }
  return out;
}

}  // namespace rill::detail
