#pragma once

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "rill/checkpoint/detail/keyed_state_format.hpp"
#include "rill/core/serialization.hpp"
#include "rill/core/time.hpp"

namespace rill {

/// One checkpoint file of a directory: `snapshot-<t>.rill` or `delta-<t>.rill`
/// (docs/checkpoint-format.md).
struct CheckpointFile {
  Time batch_time;
  bool snapshot = false;         // else a delta
  std::optional<Time> previous;  // a readable delta's base checkpoint
  std::filesystem::path path;
  std::uintmax_t bytes = 0;           // the file's size
  std::optional<std::string> damage;  // why it cannot be read (torn, corrupt, ...); nullopt: intact
};

/// A batch sealed after the checkpoint recovery restores, not checkpointed: recovery runs it
/// again with the input its seal record `sealed-<t>.rill` names.
struct PendingBatch {
  Time batch_time;
  std::filesystem::path path;
  std::uintmax_t bytes = 0;
  std::vector<std::string> inputs;    // the inputs whose part of the batch the record fixes
  std::optional<std::string> damage;  // why the record cannot be read; nullopt: intact
};

/// One operator's state, or one input's position, in a checkpoint.
struct CheckpointedOperator {
  std::string name;                  // the stable name: .name("...") or <kind>#<n>
  std::string kind;                  // e.g. update_state_by_key, queue_stream, watermark
  std::uint64_t fingerprint = 0;     // of the types it keeps (rill::detail::type_fingerprint)
  bool input = false;                // an input's position, not an operator's state
  std::optional<std::int64_t> keys;  // keys after the batch; nullopt: not counted in keys
  std::size_t bytes = 0;             // its payload in the checkpoint's own file
  bool delta = false;                // that payload holds changes since the previous checkpoint
  /// The position, when it is one integer (a queue stream's next index) or a Kafka offset map.
  std::optional<std::string> position;
};

/// One event-time input's watermark after a checkpointed batch.
struct InputWatermark {
  std::string input;  // its stream name
  std::optional<Time> watermark;
  bool idle = false;
};

/// The watermarks after a checkpointed batch (docs/event-time.md): the global watermark at its
/// end (the next batch's wm(t)), the one in force during it, and each input's.
struct CheckpointWatermarks {
  std::optional<Time> global;
  std::optional<Time> in_force;
  std::vector<InputWatermark> inputs;
};

/// A file that cannot be used, and why.
struct DamagedFile {
  std::filesystem::path path;
  std::string reason;
};

/// What CheckpointReader::verify() found: what a restart with this directory would do.
struct CheckpointVerification {
  /// True when `StreamingContext::get_or_create` would start from this directory (restoring
  /// `restores`, or starting fresh when it holds no checkpoint); false when `start()` would
  /// throw rill::CheckpointError (`refusal` says why). The pipeline itself is not checked: a
  /// changed pipeline (operators renamed, types or interval changed) is refused at start().
  bool recoverable = false;
  std::optional<Time> restores;      // the checkpoint recovery restores
  std::vector<Time> chain;           // its chain: the snapshot, then the deltas, oldest first
  std::vector<Time> replayed;        // batches run again from their seal records
  std::vector<DamagedFile> damaged;  // every file that cannot be used, oldest first
  /// What recovery would log: checkpoints passed over, seal records sealed afresh, torn log ends.
  std::vector<std::string> warnings;
  std::optional<std::string> refusal;  // the CheckpointError start() would throw
  std::size_t files_read = 0;          // checkpoint files, seal records and log segments read
};

namespace detail {
/// One operator's entries along a checkpoint chain, for CheckpointReader::state().
struct StateChain {
  std::string name;
  std::string kind;
  std::uint64_t fingerprint = 0;
  Time batch_time;
  std::vector<std::pair<bool, std::string>> parts;  // (delta, payload), snapshot first
};
}  // namespace detail

/// Reads a checkpoint directory offline, as Flink's State Processor API reads a savepoint: the
/// checkpoints it holds, what recovery would restore, the batches it would run again, every
/// operator's kind, key count and type fingerprint, the inputs' positions and watermarks, and a
/// keyed operator's state as typed pairs (state<K, S>()). It decides what recovery restores with
/// the code recovery uses, so its answer is the one `start()` would act on.
///
/// It takes no lock and writes nothing: it may read the directory of a running context, and then
/// sees the files as they were when each was read (a checkpoint pruned meanwhile reads as
/// missing). Thread-safety: every member is const and may be called from several threads.
class CheckpointReader {
 public:
  /// Reads the directory's file list and the chain recovery would restore. Throws
  /// rill::CheckpointError when `dir` does not exist, is not a directory or cannot be read.
  /// A directory without checkpoints, or with damaged ones only, is not an error here.
  explicit CheckpointReader(std::filesystem::path dir);
  ~CheckpointReader();
  CheckpointReader(CheckpointReader&&) noexcept;
  CheckpointReader& operator=(CheckpointReader&&) noexcept;

  [[nodiscard]] const std::filesystem::path& directory() const noexcept;
  /// Every checkpoint file, oldest first, each read and checked (frame, checksum, batch).
  [[nodiscard]] std::vector<CheckpointFile> checkpoints() const;
  /// The checkpoint recovery restores: the newest whose whole chain reads back. nullopt when
  /// there is none.
  [[nodiscard]] std::optional<Time> latest() const noexcept;
  /// The chain of checkpoint `at` (default: latest()): its snapshot, then the deltas up to it.
  /// Throws rill::CheckpointError when that checkpoint cannot be restored.
  [[nodiscard]] std::vector<Time> chain(std::optional<Time> at = {}) const;
  /// The zero time and batch interval of the latest() checkpoint. Throw rill::CheckpointError
  /// when there is none.
  [[nodiscard]] Time zero() const;
  [[nodiscard]] Duration interval() const;
  /// The batches sealed after latest() (or, without one, every seal record), by time.
  [[nodiscard]] std::vector<PendingBatch> pending() const;
  /// The operators and inputs of checkpoint `at` (default: latest()), in the checkpoint's order
  /// (inputs first). Throws rill::CheckpointError when that checkpoint cannot be restored.
  [[nodiscard]] std::vector<CheckpointedOperator> operators(std::optional<Time> at = {}) const;
  /// The watermarks of checkpoint `at` (default: latest()); nullopt when the pipeline has no
  /// event-time input. Throws rill::CheckpointError when that checkpoint cannot be restored.
  [[nodiscard]] std::optional<CheckpointWatermarks> watermarks(std::optional<Time> at = {}) const;
  /// Reads every file (checkpoints, seal records, write-ahead log segments) and decides, with
  /// recovery's own code, whether and from what a restart would recover.
  [[nodiscard]] CheckpointVerification verify() const;

  /// The state of the keyed operator named `name` after the batch of checkpoint `at` (default:
  /// latest()), as (key, state) pairs: the pairs the live operator held then. Sorted by key when
  /// K is ordered, else in no particular order. Operators: `update_state_by_key` (S its state
  /// type) and `map_with_state` (S its state type; the time of each key's last record is not
  /// returned). K and S must be the pipeline's types exactly.
  /// Throws rill::InvalidArgument when no operator has that name (the message lists them), its
  /// kind is not one of those, or K and S are not its types (the message names the operator and
  /// both type fingerprints); rill::CheckpointError when checkpoint `at` cannot be restored or
  /// the state's bytes cannot be read.
  template <class K, class S>
  [[nodiscard]] std::vector<std::pair<K, S>> state(std::string_view name,
                                                   std::optional<Time> at = {}) const;

 private:
  [[nodiscard]] detail::StateChain state_chain(std::string_view name, std::optional<Time> at) const;
  /// Throws InvalidArgument unless chain.fingerprint == expected.
  static void check_types(const detail::StateChain& chain, std::uint64_t expected,
                          const std::type_info& key, const std::type_info& state);
  [[noreturn]] static void unsupported_kind(const detail::StateChain& chain);
  [[noreturn]] static void unreadable(const detail::StateChain& chain, const std::exception& e);

  template <class K, class Saved, detail::SnapshotLayout Layout, class S, class Get>
  static std::vector<std::pair<K, S>> read_keyed(const detail::StateChain& chain, Get get);

  struct Impl;
  std::unique_ptr<const Impl> impl_;
};

template <class K, class S>
std::vector<std::pair<K, S>> CheckpointReader::state(std::string_view name,
                                                     std::optional<Time> at) const {
  static_assert(is_serializable_v<K> && is_serializable_v<S>,
                "state<K, S>: K and S must be the types the checkpointed operator keeps, which "
                "cereal can read (docs/serialization.md)");
  const detail::StateChain chain = state_chain(name, at);
  using detail::SnapshotLayout;
  if (chain.kind == "update_state_by_key") {
    check_types(chain, detail::type_fingerprint<K, S>(), typeid(K), typeid(S));
    return read_keyed<K, S, SnapshotLayout::per_partition, S>(
        chain, [](S&& s) -> S { return std::move(s); });
  }
  if (chain.kind == "map_with_state") {
    check_types(chain, detail::type_fingerprint<K, S, Time>(), typeid(K), typeid(S));
    return read_keyed<K, std::pair<S, Time>, SnapshotLayout::flat, S>(
        chain, [](std::pair<S, Time>&& s) -> S { return std::move(s.first); });
  }
  unsupported_kind(chain);
}

template <class K, class Saved, detail::SnapshotLayout Layout, class S, class Get>
std::vector<std::pair<K, S>> CheckpointReader::read_keyed(const detail::StateChain& chain,
                                                          Get get) {
  using Format = detail::KeyedStateFormat<K, Saved, Layout>;
  boost::unordered_flat_map<K, Saved, boost::hash<K>> keys;
  const auto put = [&](K&& k, Saved&& s) { keys.insert_or_assign(std::move(k), std::move(s)); };
  try {
    for (const auto& [delta, payload] : chain.parts) {
      if (delta) {
        Format::apply_delta(payload, put, [&](const K& k) { keys.erase(k); });
      } else {
        keys.clear();
        typename Format::Snapshot snapshot;
        detail::from_bytes(payload, snapshot);  // an operator's own fields may follow
        Format::for_each_row(std::move(snapshot), put);
      }
    }
  } catch (const std::exception& e) {
    unreadable(chain, e);
  }
  std::vector<std::pair<K, S>> out;
  out.reserve(keys.size());
  for (auto& [k, s] : keys)
    out.emplace_back(k, get(std::move(s)));
  if constexpr (std::totally_ordered<K>) {
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  return out;
}

}  // namespace rill
