#include "checkpoint/checkpoint_coordinator.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "checkpoint/write_ahead_log.hpp"
#include "rill/core/errors.hpp"
#include "rill/core/logging.hpp"

namespace rill::detail {

CheckpointCoordinator::CheckpointCoordinator(std::filesystem::path dir, const Config& config,
                                             std::vector<CheckpointedState*> states)
    : dir_(std::move(dir)),
      interval_(config.batch_interval()),
      snapshot_interval_(config.checkpoint_snapshot_interval()),
      states_(std::move(states)),
      checkpointer_(std::make_unique<Checkpointer>(dir_, config.checkpoints_retained())) {}

CheckpointCoordinator::~CheckpointCoordinator() = default;

void CheckpointCoordinator::check_serializable() const {
  for (const CheckpointedState* node : states_) {
    const auto d = node->state_descriptor();
    if (!d->serializable) {
      throw CheckpointError(fmt::format(
          "operator '{}' ({}) keeps a type cereal cannot serialize, so it cannot be "
          "checkpointed; give the type a serialize(Archive&) member (see docs/serialization.md) "
          "or run without checkpoint()",
          d->name, d->kind));
    }
  }
}

void CheckpointCoordinator::track_changes() {
  for (CheckpointedState* node : states_)
    node->track_changes();
}

std::optional<std::vector<CheckpointData>> CheckpointCoordinator::load_latest(bool start_fresh) {
  auto chain = checkpointer_->load_latest();
  if (!chain && checkpointer_->has_checkpoints() && !start_fresh) {
    checkpointer_.reset();
    throw CheckpointError(
        fmt::format("no valid checkpoint in '{}' (each was torn or corrupt; see the log); move the "
                    "directory away, or ask get_or_create to start fresh",
                    dir_.string()));
  }
  if (chain) {
    for (const auto& data : *chain)
      check_compatible(data);
  }
  return chain;
}

void CheckpointCoordinator::check_compatible(const CheckpointData& data) const {
  if (data.interval != interval_.count()) {
    throw CheckpointError(fmt::format(
        "the checkpoint in '{}' was written with a batch interval of {} ms, this context has {} "
        "ms; restore with the same interval",
        dir_.string(), data.interval, interval_.count()));
  }
  std::map<std::string, const NodeSnapshot*> saved;
  for (const auto& snapshot : data.nodes)
    saved.emplace(snapshot.name, &snapshot);
  for (const CheckpointedState* node : states_) {
    const auto d = node->state_descriptor();
    auto it = saved.find(d->name);
    if (it == saved.end()) {
      throw CheckpointError(fmt::format(
          "operator '{}' ({}) has no state in the checkpoint in '{}': the pipeline changed "
          "(renamed or added a stateful operator); name stateful streams with .name() and keep "
          "the names",
          d->name, d->kind, dir_.string()));
    }
    if (it->second->fingerprint != d->fingerprint || it->second->kind != d->kind) {
      throw CheckpointError(fmt::format(
          "operator '{}' ({}) does not match its state in the checkpoint in '{}': its types or "
          "kind changed",
          d->name, d->kind, dir_.string()));
    }
    saved.erase(it);
  }
  if (!saved.empty()) {
    throw CheckpointError(fmt::format(
        "the checkpoint in '{}' holds state of operator '{}', which the pipeline no longer has "
        "(renamed or removed)",
        dir_.string(), saved.begin()->first));
  }
}

std::map<std::int64_t, SealData> CheckpointCoordinator::restore(
    const std::vector<CheckpointData>& chain) {
  // The snapshot, then each delta in order: a node's entry is its whole state or its changes.
  for (const CheckpointData& data : chain) {
    std::map<std::string, const NodeSnapshot*> saved;
    for (const auto& snapshot : data.nodes)
      saved.emplace(snapshot.name, &snapshot);
    for (CheckpointedState* node : states_) {
      std::string name;
      try {
        name = node->state_descriptor()->name;
        const NodeSnapshot& snapshot = *saved.at(name);
        if (snapshot.delta) {
          node->load_delta(snapshot.payload);
        } else {
          node->load_state(snapshot.payload);
        }
      } catch (const std::exception& e) {
        throw CheckpointError(
            fmt::format("the state of operator '{}' in the checkpoint of batch {} ms in '{}' "
                        "cannot be read: {}",
                        name, data.batch_time, dir_.string(), e.what()));
      }
    }
  }
  const CheckpointData& data = chain.back();
  auto replay = seals_to_replay(data);
  logger().info("restored batch {} ms from '{}'; {} sealed batch(es) to run again", data.batch_time,
                dir_.string(), replay.size());
  return replay;
}

std::map<std::int64_t, SealData> CheckpointCoordinator::seals_to_replay(
    const CheckpointData& restored) const {
  SealReplay seals = checkpointer_->files().seals_to_replay(restored);
  if (seals.refusal) throw CheckpointError(*seals.refusal);
  for (const std::string& warning : seals.warnings)
    logger().warn("{}", warning);
  return std::move(seals.replay);
}

CheckpointCoordinator::Written CheckpointCoordinator::write_checkpoint(Time t, Time zero) {
  CheckpointData data;
  data.batch_time = t.milliseconds();
  data.zero = zero.milliseconds();
  data.interval = interval_.count();
  const std::vector<CheckpointedState*>& nodes = states_;
  // A snapshot first in each run, then every snapshot_interval-th checkpoint, and whenever the
  // deltas since the last snapshot outweigh it (restoring them would cost more than it; below
  // kCompactBytes a chain is cheap to read whatever its length).
  constexpr std::size_t kCompactBytes = 64 * 1024;
  bool snapshot = !last_checkpoint_ || deltas_since_snapshot_ + 1 >= snapshot_interval_ ||
                  delta_bytes_since_snapshot_ > std::max(snapshot_bytes_, kCompactBytes);
  std::size_t whole_bytes = 0;  // of nodes that cannot write a delta this time
  for (const CheckpointedState* node : nodes) {
    const auto d = node->state_descriptor();
    NodeSnapshot entry{d->name,         d->kind, d->fingerprint, false, {}, node->state_keys(),
                       node->is_input()};
    if (!snapshot) {
      if (auto delta = node->save_delta(t)) {
        entry.delta = true;
        entry.payload = std::move(*delta);
      }
    }
    if (!entry.delta) {
      entry.payload = node->save_state(t);
      whole_bytes += entry.payload.size();
    }
    data.nodes.push_back(std::move(entry));
  }
  if (!snapshot && whole_bytes > std::max(snapshot_bytes_ / 2, kCompactBytes)) {
    // Mostly whole states anyway (e.g. every key changed): make it a snapshot, which ends the
    // chain.
    snapshot = true;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (!data.nodes[i].delta) continue;
      data.nodes[i].delta = false;
      data.nodes[i].payload = nodes[i]->save_state(t);
    }
  }
  if (!snapshot) data.previous = last_checkpoint_->milliseconds();
  const std::size_t bytes = checkpointer_->write_checkpoint(data);
  if (snapshot) {
    deltas_since_snapshot_ = 0;
    delta_bytes_since_snapshot_ = 0;
    snapshot_bytes_ = bytes;
  } else {
    ++deltas_since_snapshot_;
    delta_bytes_since_snapshot_ += bytes;
  }
  last_checkpoint_ = t;
  for (CheckpointedState* node : nodes)
    node->state_saved(t);
  return Written{bytes, snapshot};
}

void CheckpointCoordinator::write_seal(const SealData& seal) {
  checkpointer_->write_seal(seal);
}

std::unique_ptr<BlockLog> CheckpointCoordinator::open_block_log(std::string_view name) const {
  return std::make_unique<WriteAheadLog>(dir_ / "wal" / std::string(name));
}

}  // namespace rill::detail
