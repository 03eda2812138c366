#include "rill/checkpoint/checkpoint_reader.hpp"

#include <charconv>
#include <cstdlib>
#include <limits>
#include <map>

#include <cxxabi.h>
#include <fmt/format.h>

#include "checkpoint/checkpoint_directory.hpp"
#include "checkpoint/wal_segment.hpp"
#include "checkpoint/write_ahead_log.hpp"
#include "rill/checkpoint/detail/saved_watermarks.hpp"
#include "rill/core/errors.hpp"

namespace rill {

namespace fs = std::filesystem;
using detail::CheckpointData;
using detail::CheckpointDirectory;

namespace {

using Chain = std::shared_ptr<const std::vector<CheckpointData>>;

std::uintmax_t size_of(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

std::string demangle(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> name(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), &std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(type.name());
}

/// An input's position in words, when its type says how to read it (by fingerprint, not by
/// kind: a user's source with a uint64 position reads as well).
std::optional<std::string> describe_position(const detail::NodeSnapshot& node) {
  if (!node.input || node.delta) return std::nullopt;
  try {
    if (node.fingerprint == detail::type_fingerprint<std::uint64_t>()) {
      std::uint64_t next = 0;
      detail::from_bytes(node.payload, next);
      return fmt::format("next {}", next);
    }
    using Offsets = std::map<std::string, std::map<std::int32_t, std::int64_t>>;
    if (node.fingerprint == detail::type_fingerprint<Offsets>()) {
      Offsets offsets;
      detail::from_bytes(node.payload, offsets);
      std::string out;
      for (const auto& [topic, partitions] : offsets) {
        for (const auto& [partition, next] : partitions)
          out += fmt::format("{}{}[{}]={}", out.empty() ? "" : " ", topic, partition, next);
      }
      return out.empty() ? std::string("no partitions") : out;
    }
  } catch (const std::exception&) {
    return std::nullopt;  // verify() and a restore report unreadable bytes
  }
  return std::nullopt;
}

}  // namespace

struct CheckpointReader::Impl {
  CheckpointDirectory files;
  detail::LatestCheckpoint latest;  // load_latest(), read once
  Chain latest_chain;               // latest.chain, shared by the calls

  /// The chain restoring checkpoint `at` (default: the latest). Throws CheckpointError.
  [[nodiscard]] Chain chain(std::optional<Time> at) const {
    if (!at || (latest_chain && at->milliseconds() == latest_chain->back().batch_time)) {
      if (!latest_chain) {
        throw CheckpointError(fmt::format(
            "'{}' holds no checkpoint that can be restored{}", files.dir().string(),
            files.has_checkpoints() ? " (each is damaged or its chain is broken: run verify)"
                                    : ""));
      }
      return latest_chain;
    }
    std::map<std::int64_t, std::optional<CheckpointData>> read;
    std::vector<std::pair<fs::path, std::string>> why;
    const auto at_time = [&](std::int64_t t) -> const std::optional<CheckpointData>& {
      auto it = read.find(t);
      if (it != read.end()) return it->second;
      return read.emplace(t, files.read_at(t, &why)).first->second;
    };
    std::int64_t broken_at = at->milliseconds();
    auto chain = CheckpointDirectory::chain_of(at->milliseconds(), at_time, &broken_at);
    if (!chain) {
      std::string reasons;
      for (const auto& [path, reason] : why)
        reasons += fmt::format("{}'{}' {}", reasons.empty() ? "" : "; ", path.string(), reason);
      throw CheckpointError(
          fmt::format("the checkpoint of batch {} ms in '{}' cannot be restored: "
                      "its chain breaks at batch {} ms ({})",
                      at->milliseconds(), files.dir().string(), broken_at, reasons));
    }
    return std::make_shared<const std::vector<CheckpointData>>(std::move(*chain));
  }
};

CheckpointReader::CheckpointReader(fs::path dir) {
  std::error_code ec;
  const auto status = fs::status(dir, ec);
  if (!fs::exists(status)) {
    throw CheckpointError(fmt::format("checkpoint directory '{}' does not exist", dir.string()));
  }
  if (!fs::is_directory(status)) {
    throw CheckpointError(
        fmt::format("'{}' is not a directory; give the checkpoint directory", dir.string()));
  }
  fs::directory_iterator probe(dir, ec);
  if (ec) {
    throw CheckpointError(
        fmt::format("checkpoint directory '{}' cannot be read: {}", dir.string(), ec.message()));
  }
  auto impl = std::make_unique<Impl>(Impl{CheckpointDirectory(std::move(dir)), {}, {}});
  impl->latest = impl->files.load_latest();
  if (impl->latest.chain) {
    impl->latest_chain = std::make_shared<const std::vector<CheckpointData>>(*impl->latest.chain);
  }
  impl_ = std::move(impl);
}

CheckpointReader::~CheckpointReader() = default;
CheckpointReader::CheckpointReader(CheckpointReader&&) noexcept = default;
CheckpointReader& CheckpointReader::operator=(CheckpointReader&&) noexcept = default;

const fs::path& CheckpointReader::directory() const noexcept {
  return impl_->files.dir();
}

std::vector<CheckpointFile> CheckpointReader::checkpoints() const {
  std::vector<CheckpointFile> out;
  const CheckpointDirectory& files = impl_->files;
  for (const std::int64_t t : files.checkpoint_times()) {
    for (const bool snapshot : {true, false}) {
      const fs::path path = files.file(
          snapshot ? CheckpointDirectory::kSnapshotPrefix : CheckpointDirectory::kDeltaPrefix, t);
      std::error_code ec;
      if (!fs::exists(path, ec)) continue;
      CheckpointFile file{Time{t}, snapshot, std::nullopt, path, size_of(path), std::nullopt};
      std::string why;
      const auto data = CheckpointDirectory::read_checkpoint(
          path, snapshot ? CheckpointDirectory::kSnapshotKind : CheckpointDirectory::kDeltaKind, t,
          &why);
      if (!data) {
        file.damage = why;
      } else if (data->previous) {
        file.previous = Time{*data->previous};
      }
      out.push_back(std::move(file));
    }
  }
  return out;
}

std::optional<Time> CheckpointReader::latest() const noexcept {
  if (!impl_->latest_chain) return std::nullopt;
  return Time{impl_->latest_chain->back().batch_time};
}

std::vector<Time> CheckpointReader::chain(std::optional<Time> at) const {
  std::vector<Time> out;
  for (const CheckpointData& data : *impl_->chain(at))
    out.emplace_back(data.batch_time);
  return out;
}

Time CheckpointReader::zero() const {
  return Time{impl_->chain(std::nullopt)->back().zero};
}

Duration CheckpointReader::interval() const {
  return Duration{impl_->chain(std::nullopt)->back().interval};
}

std::vector<PendingBatch> CheckpointReader::pending() const {
  const std::int64_t after = impl_->latest_chain ? impl_->latest_chain->back().batch_time
                                                 : std::numeric_limits<std::int64_t>::min();
  const detail::SealRecords seals = impl_->files.load_seals_after(after);
  std::vector<PendingBatch> out;
  for (const auto& [t, path] : impl_->files.list(CheckpointDirectory::kSealPrefix)) {
    if (t <= after) continue;
    PendingBatch batch{Time{t}, path, size_of(path), {}, std::nullopt};
    if (auto valid = seals.valid.find(t); valid != seals.valid.end()) {
      for (const auto& [input, record] : valid->second.inputs)
        batch.inputs.push_back(input);
    } else if (auto damaged = seals.damaged.find(t); damaged != seals.damaged.end()) {
      batch.damage = damaged->second;
    }
    out.push_back(std::move(batch));
  }
  return out;
}

std::vector<CheckpointedOperator> CheckpointReader::operators(std::optional<Time> at) const {
  const Chain chain = impl_->chain(at);
  std::vector<CheckpointedOperator> out;
  for (const detail::NodeSnapshot& node : chain->back().nodes) {
    out.push_back(CheckpointedOperator{node.name, node.kind, node.fingerprint, node.input,
                                       node.keys, node.payload.size(), node.delta,
                                       describe_position(node)});
  }
  return out;
}

std::optional<CheckpointWatermarks> CheckpointReader::watermarks(std::optional<Time> at) const {
  const Chain chain = impl_->chain(at);
  for (const detail::NodeSnapshot& node : chain->back().nodes) {
    if (node.name != detail::SavedWatermarks::kName) continue;
    if (node.fingerprint != detail::SavedWatermarks::fingerprint()) {
      throw CheckpointError(fmt::format(
          "the watermarks in the checkpoint of batch {} ms in '{}' are of another layout "
          "(fingerprint {:#x}): written by another rill version",
          chain->back().batch_time, directory().string(), node.fingerprint));
    }
    try {
      const auto saved = detail::SavedWatermarks::decode(node.payload);
      CheckpointWatermarks out{saved.global, saved.in_force, {}};
      for (const auto& [input, watermark, last, idle] : saved.inputs)
        out.inputs.push_back(InputWatermark{input, watermark, idle});
      return out;
    } catch (const std::exception& e) {
      throw CheckpointError(
          fmt::format("the watermarks in the checkpoint of batch {} ms in '{}' cannot be read: {}",
                      chain->back().batch_time, directory().string(), e.what()));
    }
  }
  return std::nullopt;
}

CheckpointVerification CheckpointReader::verify() const {
  CheckpointVerification out;
  const CheckpointDirectory& files = impl_->files;
  // Every checkpoint file and seal record, read and checked.
  for (const CheckpointFile& file : checkpoints()) {
    ++out.files_read;
    if (file.damage) out.damaged.push_back({file.path, *file.damage});
  }
  const auto seals = files.load_seals_after(std::numeric_limits<std::int64_t>::min());
  out.files_read += seals.valid.size() + seals.damaged.size();
  for (const auto& [t, what] : seals.damaged)
    out.damaged.push_back({files.file(CheckpointDirectory::kSealPrefix, t), what});
  if (const auto old = files.list(CheckpointDirectory::kFormat1Prefix); !old.empty()) {
    out.warnings.push_back(fmt::format(
        "checkpoint '{}' (and {} more) is of format version 1, which this rill does not read",
        old.back().second.string(), old.size() - 1));
  }

  // What recovery restores: the same reading of the directory as start() makes.
  for (const auto& skipped : impl_->latest.skipped) {
    out.warnings.push_back(skipped.message);
    // A file a chain needs that is not there (a damaged one is listed above).
    std::error_code missing;
    if (!skipped.file.empty() && !fs::exists(skipped.file, missing) &&
        std::none_of(out.damaged.begin(), out.damaged.end(),
                     [&](const DamagedFile& d) { return d.path == skipped.file; })) {
      out.damaged.push_back({skipped.file, skipped.reason});
    }
  }
  if (!impl_->latest_chain) {
    if (files.has_checkpoints()) {
      out.refusal = fmt::format(
          "no valid checkpoint in '{}' (each was torn or corrupt, or its chain is broken); move "
          "the directory away, or ask get_or_create to start fresh",
          files.dir().string());
    }
  } else {
    const CheckpointData& restored = impl_->latest_chain->back();
    out.restores = Time{restored.batch_time};
    for (const CheckpointData& data : *impl_->latest_chain)
      out.chain.emplace_back(data.batch_time);
    if (restored.interval <= 0) {
      out.refusal = fmt::format(
          "the checkpoint of batch {} ms in '{}' holds a batch interval of "
          "{} ms",
          restored.batch_time, files.dir().string(), restored.interval);
    } else {
      detail::SealReplay replay = files.seals_to_replay(restored);
      for (auto& warning : replay.warnings)
        out.warnings.push_back(std::move(warning));
      for (const auto& [t, seal] : replay.replay)
        out.replayed.emplace_back(t);
      out.refusal = std::move(replay.refusal);
    }
  }

  // The receivers' write-ahead logs, opened as start() opens them.
  std::error_code ec;
  const fs::path wal = files.dir() / "wal";
  if (fs::is_directory(wal, ec)) {
    std::vector<fs::path> logs;
    for (const auto& entry : fs::directory_iterator(wal, ec)) {
      if (entry.is_directory(ec)) logs.push_back(entry.path());
    }
    std::sort(logs.begin(), logs.end());
    for (const fs::path& log : logs) {
      std::vector<std::pair<std::uint64_t, fs::path>> segments;
      for (const auto& entry : fs::directory_iterator(log, ec)) {
        const std::string name = entry.path().filename().string();
        if (!name.starts_with("log-") || !name.ends_with(".wal")) continue;
        std::uint64_t first = 0;
        const auto [ptr, err] =
            std::from_chars(name.data() + 4, name.data() + name.size() - 4, first);
        if (err == std::errc{} && ptr == name.data() + name.size() - 4) {
          segments.emplace_back(first, entry.path());
        }
      }
      std::sort(segments.begin(), segments.end());
      out.files_read += segments.size();
      try {
        const detail::WriteAheadLog opened(log);
        if (!segments.empty()) {
          const auto scan =
              detail::scan_segment(segments.back().second, segments.back().first, std::nullopt);
          if (scan.torn) {
            out.warnings.push_back(fmt::format(
                "write-ahead log segment '{}' ends in a torn block at byte {} ({}): recovery "
                "drops it (a crash inside an append leaves this)",
                segments.back().second.string(), scan.valid_bytes, *scan.torn));
          }
        }
      } catch (const std::exception& e) {
        out.damaged.push_back({log, e.what()});
        if (!out.refusal) out.refusal = e.what();
      }
    }
  }
  std::sort(out.damaged.begin(), out.damaged.end(),
            [](const DamagedFile& a, const DamagedFile& b) { return a.path < b.path; });
  out.recoverable = !out.refusal.has_value();
  return out;
}

detail::StateChain CheckpointReader::state_chain(std::string_view name,
                                                 std::optional<Time> at) const {
  const Chain chain = impl_->chain(at);
  const auto find = [&](const CheckpointData& data) -> const detail::NodeSnapshot* {
    for (const auto& node : data.nodes) {
      if (node.name == name) return &node;
    }
    return nullptr;
  };
  const detail::NodeSnapshot* last = find(chain->back());
  if (last == nullptr) {
    std::string names;
    for (const auto& node : chain->back().nodes)
      names += fmt::format("{}'{}' ({})", names.empty() ? "" : ", ", node.name, node.kind);
    throw InvalidArgument(fmt::format(
        "the checkpoint of batch {} ms in '{}' holds no operator named '{}'; it holds {}",
        chain->back().batch_time, directory().string(), name, names));
  }
  detail::StateChain out{
      last->name, last->kind, last->fingerprint, Time{chain->back().batch_time}, {}};
  for (const CheckpointData& data : *chain) {
    const detail::NodeSnapshot* node = find(data);
    if (node == nullptr) {
      throw CheckpointError(fmt::format(
          "the checkpoint of batch {} ms in '{}' lacks operator '{}', which its chain's last "
          "checkpoint holds",
          data.batch_time, directory().string(), name));
    }
    out.parts.emplace_back(node->delta, node->payload);
  }
  return out;
}

void CheckpointReader::check_types(const detail::StateChain& chain, std::uint64_t expected,
                                   const std::type_info& key, const std::type_info& state) {
  if (chain.fingerprint == expected) return;
  throw InvalidArgument(fmt::format(
      "operator '{}' ({}) in the checkpoint of batch {} ms keeps other types than state<{}, {}> "
      "asks for: its type fingerprint is {:#018x}, those types give {:#018x}; use the key and "
      "state types of the pipeline that wrote it",
      chain.name, chain.kind, chain.batch_time.milliseconds(), demangle(key), demangle(state),
      chain.fingerprint, expected));
}

void CheckpointReader::unsupported_kind(const detail::StateChain& chain) {
  throw InvalidArgument(fmt::format(
      "operator '{}' is a {}: state<K, S> reads update_state_by_key and map_with_state; "
      "operators() gives its key count and type fingerprint",
      chain.name, chain.kind));
}

void CheckpointReader::unreadable(const detail::StateChain& chain, const std::exception& e) {
  throw CheckpointError(
      fmt::format("the state of operator '{}' ({}) in the checkpoint of batch {} ms cannot be "
                  "read: {}",
                  chain.name, chain.kind, chain.batch_time.milliseconds(), e.what()));
}

}  // namespace rill
