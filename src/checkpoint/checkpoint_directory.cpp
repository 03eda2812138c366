#include "checkpoint/checkpoint_directory.hpp"

#include <charconv>
#include <sstream>

#include <fmt/format.h>

#include "checkpoint/durable_file.hpp"
#include "rill/core/serialization.hpp"

namespace rill::detail {

namespace fs = std::filesystem;

namespace {
/// The node summary after a checkpoint's CheckpointData: per node (in its order), the keys it
/// held after the batch and whether it is an input.
using NodeSummary = std::vector<std::pair<std::optional<std::int64_t>, bool>>;
}  // namespace

std::string encode_checkpoint(const CheckpointData& data) {
  NodeSummary summary;
  summary.reserve(data.nodes.size());
  for (const NodeSnapshot& node : data.nodes)
    summary.emplace_back(node.keys, node.input);
  return to_bytes(data, summary);
}

CheckpointData decode_checkpoint(std::string_view payload) {
  std::istringstream in(std::string(payload), std::ios::binary);
  cereal::BinaryInputArchive archive(in);
  CheckpointData data;
  archive(data);
  // Files of rill before the summary end here.
  if (in.peek() != std::char_traits<char>::eof()) {
    NodeSummary summary;
    archive(summary);
    if (summary.size() == data.nodes.size()) {
      for (std::size_t i = 0; i < summary.size(); ++i) {
        data.nodes[i].keys = summary[i].first;
        data.nodes[i].input = summary[i].second;
      }
    }
  }
  return data;
}

fs::path CheckpointDirectory::file(std::string_view prefix, std::int64_t t) const {
  return dir_ / fmt::format("{}{}{}", prefix, t, kSuffix);
}

std::vector<std::pair<std::int64_t, fs::path>> CheckpointDirectory::list(
    std::string_view prefix) const {
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

std::vector<std::int64_t> CheckpointDirectory::checkpoint_times() const {
  std::vector<std::int64_t> times;
  for (const auto& [t, path] : list(kSnapshotPrefix))
    times.push_back(t);
  for (const auto& [t, path] : list(kDeltaPrefix))
    times.push_back(t);
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  return times;
}

bool CheckpointDirectory::has_checkpoints() const {
  return !checkpoint_times().empty() || !list(kFormat1Prefix).empty();
}

std::optional<CheckpointData> CheckpointDirectory::read_checkpoint(const fs::path& path,
                                                                   std::uint32_t kind,
                                                                   std::int64_t t,
                                                                   std::string* why) {
  const auto reject = [&](std::string reason) -> std::optional<CheckpointData> {
    if (why != nullptr) *why = std::move(reason);
    return std::nullopt;
  };
  std::string frame_why;
  auto frame = read_framed(path, kind, &frame_why);
  if (!frame) return reject(std::move(frame_why));
  try {
    CheckpointData data = decode_checkpoint(frame->payload);
    if (data.batch_time != t || data.is_delta() != (kind == kDeltaKind) ||
        (data.previous && *data.previous >= t)) {
      return reject(fmt::format("holds batch {} ms (previous {})", data.batch_time,
                                data.previous.value_or(-1)));
    }
    return data;
  } catch (const std::exception& e) {
    return reject(fmt::format("cannot be decoded ({})", e.what()));
  }
}

std::optional<CheckpointData> CheckpointDirectory::read_at(
    std::int64_t t, std::vector<std::pair<fs::path, std::string>>* why) const {
  const fs::path snapshot = file(kSnapshotPrefix, t);
  const fs::path delta = file(kDeltaPrefix, t);
  std::error_code ec;
  const bool has_snapshot = fs::exists(snapshot, ec);
  const bool has_delta = fs::exists(delta, ec);
  std::string reason;
  if (has_snapshot) {
    if (auto data = read_checkpoint(snapshot, kSnapshotKind, t, &reason)) return data;
    if (why != nullptr) why->emplace_back(snapshot, reason);
  }
  if (has_delta) {
    if (auto data = read_checkpoint(delta, kDeltaKind, t, &reason)) return data;
    if (why != nullptr) why->emplace_back(delta, reason);
  }
  if (!has_snapshot && !has_delta && why != nullptr) {
    why->emplace_back(delta, fmt::format("is missing (and so is '{}')", snapshot.string()));
  }
  return std::nullopt;
}

LatestCheckpoint CheckpointDirectory::load_latest() const {
  LatestCheckpoint out;
  const auto times = checkpoint_times();
  // Each time is read at most once; nullopt marks one that cannot be used, with its reasons.
  std::map<std::int64_t, std::optional<CheckpointData>> read;
  std::map<std::int64_t, std::vector<std::pair<fs::path, std::string>>> reasons;
  const auto at = [&](std::int64_t t) -> const std::optional<CheckpointData>& {
    auto it = read.find(t);
    if (it != read.end()) return it->second;
    return read.emplace(t, read_at(t, &reasons[t])).first->second;
  };
  for (auto it = times.rbegin(); it != times.rend(); ++it) {
    std::int64_t broken_at = *it;
    if (auto chain = chain_of(*it, at, &broken_at)) {
      out.chain = std::move(chain);
      return out;
    }
    const auto& why = reasons[broken_at];
    if (broken_at == *it) {
      for (const auto& [path, reason] : why) {
        out.skipped.push_back(
            {*it, path, reason,
             fmt::format("checkpoint '{}' {}; trying the previous one", path.string(), reason)});
      }
      continue;
    }
    std::string files;
    for (const auto& [path, reason] : why)
      files += fmt::format("{}'{}' {}", files.empty() ? "" : "; ", path.string(), reason);
    out.skipped.push_back(
        {*it, why.empty() ? fs::path{} : why.front().first,
         why.empty() ? std::string() : why.front().second,
         fmt::format("checkpoint of batch {} ms in '{}' is a delta whose chain back to a snapshot "
                     "is broken at batch {} ms ({}); trying the previous one",
                     *it, dir_.string(), broken_at, files)});
  }
  return out;
}

SealRecords CheckpointDirectory::load_seals_after(std::int64_t after) const {
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

SealReplay CheckpointDirectory::seals_to_replay(const CheckpointData& restored) const {
  SealReplay out;
  SealRecords seals = load_seals_after(restored.batch_time);
  // Only times of the grid are batches (a file named otherwise is not rill's).
  const auto off_grid = [&](const auto& entry) {
    if ((entry.first - restored.zero) % restored.interval == 0) return false;
    out.warnings.push_back(
        fmt::format("'{}': a seal record of {} ms is not at a batch time ({} ms + n * {} ms); "
                    "ignored",
                    dir_.string(), entry.first, restored.zero, restored.interval));
    return true;
  };
  std::erase_if(seals.valid, off_grid);
  std::erase_if(seals.damaged, off_grid);
  if (seals.valid.empty()) {
    for (const auto& [t, what] : seals.damaged)
      out.warnings.push_back(fmt::format("seal record {}; its batch is sealed again", what));
    return out;
  }
  // Every batch from the restored one to the last sealed one was sealed in order, each record
  // naming the input its batch took. A batch sealed afresh takes what its inputs hold after
  // the restored position, which includes the input of every later batch whose record
  // survives: so a record may be missing or damaged only after the last readable one (the
  // process may have died while writing it, or every record from it on was lost), and those
  // batches are sealed again, taking their input and what came after, once.
  const std::int64_t last_valid = seals.valid.rbegin()->first;
  for (std::int64_t t = restored.batch_time + restored.interval; t < last_valid;
       t += restored.interval) {
    if (seals.valid.contains(t)) continue;
    const auto damaged = seals.damaged.find(t);
    const std::string what = damaged != seals.damaged.end()
                                 ? damaged->second
                                 : fmt::format("'{}' is missing", file(kSealPrefix, t).string());
    out.refusal = fmt::format(
        "cannot recover from '{}': the seal record of batch {} ms {}, while the record of the "
        "later batch {} ms survives (sealing batch {} ms again would take input that the later "
        "batch takes too); restore the file, or move the directory away to start afresh",
        dir_.string(), t, what, last_valid, t);
    return out;
  }
  for (auto it = seals.damaged.upper_bound(last_valid); it != seals.damaged.end(); ++it)
    out.warnings.push_back(fmt::format("seal record {}; its batch is sealed again", it->second));
  out.replay = std::move(seals.valid);
  return out;
}

}  // namespace rill::detail
