#include "checkpoint/checkpointer.hpp"

#include <algorithm>
#include <charconv>

#include "rill/core/errors.hpp"
#include "rill/core/logging.hpp"
#include "rill/core/serialization.hpp"

namespace rill::detail {

namespace fs = std::filesystem;

namespace {
constexpr std::uint32_t kCheckpointKind = 1;
constexpr std::uint32_t kSealKind = 2;
constexpr std::string_view kCheckpointPrefix = "checkpoint-";
constexpr std::string_view kSealPrefix = "sealed-";
constexpr std::string_view kSuffix = ".rill";

fs::path file_for(const fs::path& dir, std::string_view prefix, std::int64_t t) {
  return dir / fmt::format("{}{}{}", prefix, t, kSuffix);
}
}  // namespace

Checkpointer::Checkpointer(fs::path dir) : dir_(std::move(dir)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) {
    throw CheckpointError(
        fmt::format("cannot create checkpoint directory '{}': {}", dir_.string(), ec.message()));
  }
  lock_ = std::make_unique<DirectoryLock>(dir_);
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

void Checkpointer::write_seal(const SealData& seal) {
  write_durable(file_for(dir_, kSealPrefix, seal.batch_time), kSealKind, to_bytes(seal));
}

void Checkpointer::write_checkpoint(const CheckpointData& data) {
  write_durable(file_for(dir_, kCheckpointPrefix, data.batch_time), kCheckpointKind,
                to_bytes(data));
  std::error_code ec;
  for (const auto& [t, path] : list(kSealPrefix)) {
    if (t <= data.batch_time) fs::remove(path, ec);
  }
  const auto checkpoints = list(kCheckpointPrefix);
  if (checkpoints.size() > kKeep) {
    for (std::size_t i = 0; i + kKeep < checkpoints.size(); ++i)
      fs::remove(checkpoints[i].second, ec);
  }
}

bool Checkpointer::has_checkpoints() const {
  return !list(kCheckpointPrefix).empty();
}

std::optional<CheckpointData> Checkpointer::load_latest() const {
  auto files = list(kCheckpointPrefix);
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    std::string why;
    auto frame = read_framed(it->second, kCheckpointKind, &why);
    if (!frame) {
      logger().warn("checkpoint '{}' {}; trying the previous one", it->second.string(), why);
      continue;
    }
    try {
      CheckpointData data;
      from_bytes(frame->payload, data);
      if (data.batch_time != it->first) {
        logger().warn("checkpoint '{}' holds batch {} ms; skipped", it->second.string(),
                      data.batch_time);
        continue;
      }
      return data;
    } catch (const std::exception& e) {
      logger().warn("checkpoint '{}' cannot be decoded ({}); trying the previous one",
                    it->second.string(), e.what());
    }
  }
  return std::nullopt;
}

std::map<std::int64_t, SealData> Checkpointer::load_seals_after(std::int64_t after) const {
  std::map<std::int64_t, SealData> out;
  for (const auto& [t, path] : list(kSealPrefix)) {
    if (t <= after) continue;
    std::string why;
    auto frame = read_framed(path, kSealKind, &why);
    if (!frame) {
      // A torn seal record means the process died while sealing: its batch never ran.
      logger().warn("seal record '{}' {}; its batch is sealed again", path.string(), why);
      continue;
    }
    try {
      SealData seal;
      from_bytes(frame->payload, seal);
      out.emplace(t, std::move(seal));
    } catch (const std::exception& e) {
      logger().warn("seal record '{}' cannot be decoded ({}); its batch is sealed again",
                    path.string(), e.what());
    }
  }
  return out;
}

}  // namespace rill::detail
