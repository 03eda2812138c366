#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rill/core/batch.hpp"
#include "rill/core/config.hpp"
#include "rill/core/listener.hpp"
#include "rill/core/serialization.hpp"
#include "rill/core/time.hpp"
#include "rill/receivers/block_log.hpp"
#include "rill/receivers/options.hpp"

/// The operator graph's building blocks (internal). A node is one operator; its result for a
/// batch time is computed once on the batch thread and cached until no consumer can ask for it.
/// Narrow operators also *stream*: when a narrow node has a single consumer, its partitions are
/// never materialized; the consumer pulls them through the whole chain in one pass, in chunks.
namespace rill::detail {

/// Records flowing through a fused chain of narrow operators, a chunk at a time. One virtual
/// call per chunk, never one per record.
template <class T>
class Sink {
 public:
  /// Read-only records, owned by someone else.
  virtual void push(std::span<const T> items) = 0;
  /// Records the sink may move from.
  virtual void push_owned(std::span<T> items) {
    push(std::span<const T>(items.data(), items.size()));
  }

 protected:
  ~Sink() = default;
};

/// Records per chunk handed from one fused operator to the next.
inline constexpr std::size_t kChunk = 1024;

/// Collects a streamed partition into a vector.
template <class T>
class CollectSink final : public Sink<T> {
 public:
  explicit CollectSink(std::vector<T>& out) : out_(out) {}
  void push(std::span<const T> items) override {
    out_.insert(out_.end(), items.begin(), items.end());
  }
  void push_owned(std::span<T> items) override {
    out_.insert(out_.end(), std::make_move_iterator(items.begin()),
                std::make_move_iterator(items.end()));
  }

 private:
  std::vector<T>& out_;
};

/// Execution services of the batch being computed; implemented by the engine.
class Exec {
 public:
  virtual ~Exec() = default;
  /// Runs fn(i) for every i in [0, n) on the worker pool and waits; rethrows the first exception.
  virtual void parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn) = 0;
  /// The context's zero time (first batch time minus one interval).
  [[nodiscard]] virtual Time zero() const = 0;
  /// True while the batch is one a restarted context runs again from its seal record.
  [[nodiscard]] virtual bool replaying() const { return false; }
};

class Runtime;

/// The type-independent part of an operator node.
class NodeBase {
 public:
  NodeBase(std::string kind, std::vector<std::shared_ptr<NodeBase>> parents, Duration slide,
           std::size_t num_partitions);
  NodeBase(const NodeBase&) = delete;
  NodeBase& operator=(const NodeBase&) = delete;
  virtual ~NodeBase();

  [[nodiscard]] const std::string& kind() const noexcept { return kind_; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  [[nodiscard]] Duration slide() const noexcept { return slide_; }
  [[nodiscard]] std::size_t num_partitions() const noexcept { return num_partitions_; }
  [[nodiscard]] const std::vector<std::shared_ptr<NodeBase>>& parents() const noexcept {
    return parents_;
  }
  /// True when the stream has a batch at t: t - zero is a multiple of the slide.
  [[nodiscard]] bool defined_at(Time t, Time zero) const noexcept {
    return t > zero && (t - zero).count() % slide_.count() == 0;
  }

  // --- frozen at start() ---
  void reset_consumers() noexcept { consumers_ = 0; }
  void add_consumer() noexcept { ++consumers_; }
  /// Keep computed batches for (t - d, t] (remember(), slice, windows).
  void require_remember(Duration d) noexcept {
    if (d > remember_) remember_ = d;
  }
  [[nodiscard]] Duration remember_duration() const noexcept { return remember_; }
  /// A narrow operator that can stream its partitions instead of materializing them.
  [[nodiscard]] virtual bool fusable() const noexcept { return false; }
  /// Streams when fusable, read by one consumer only, and not remembered.
  [[nodiscard]] bool streams() const noexcept {
    return fusable() && consumers_ <= 1 && remember_.count() == 0;
  }

  /// Called by start() for every live node, parents first: windows ask their parent to
  /// remember what they will read.
  virtual void on_freeze() {}
  /// Nodes that keep something across batches (state, window pre-aggregates) or feed a window
  /// see every batch time, parents first, before the outputs run.
  [[nodiscard]] virtual bool sees_every_batch() const noexcept { return false; }
  virtual void on_batch(Time /*t*/, Exec& /*ex*/) {}
  /// What the operator keeps across batches, for checkpoints; nullopt when it keeps nothing.
  [[nodiscard]] virtual std::optional<StateDescriptor> state_descriptor() const {
    return std::nullopt;
  }
  /// Checkpoints: what the node keeps, as of the end of batch t (only nodes with a
  /// state_descriptor(); batch thread), and its restoration before the first batch.
  [[nodiscard]] virtual std::string save_state(Time /*t*/) const { return {}; }
  virtual void load_state(std::string_view /*bytes*/) {}
  /// Incremental checkpoints (docs/checkpoint-format.md). With a checkpoint directory, start()
  /// asks every stateful node to track what its batches change.
  virtual void track_changes() {}
  /// What changed since the last checkpoint that was written (state_saved()), as of the end of
  /// batch t; nullopt when the node can only write its whole state (save_state()).
  [[nodiscard]] virtual std::optional<std::string> save_delta(Time /*t*/) const {
    return std::nullopt;
  }
  /// Applies a save_delta() on top of the state restored so far (load_state, then deltas).
  virtual void load_delta(std::string_view /*bytes*/) {}
  /// The checkpoint of batch t, full or delta, is durable: changes count from here.
  virtual void state_saved(Time /*t*/) {}

  /// Size of what a stateful operator keeps (BatchInfo::state); nullopt for stateless nodes.
  [[nodiscard]] virtual std::optional<StateInfo> state_info() const { return std::nullopt; }

  // --- per batch, on the batch thread ---
  /// Makes sure that what stream(t, p) reads is computed.
  virtual void prepare(Time t, Exec& ex) = 0;
  /// Drops cached batches no consumer can ask for once batch t is done.
  virtual void clear_done(Time t) = 0;
  /// Number of batches held in the cache.
  [[nodiscard]] virtual std::size_t cached_batches() const = 0;
  /// Bytes of the batches and pre-aggregates this node holds between batches (approximate:
  /// element sizes, not what the elements own on the heap).
  [[nodiscard]] virtual std::size_t retained_bytes() const = 0;

  // --- inputs only ---
  [[nodiscard]] virtual bool is_input() const noexcept { return false; }
  /// Called once by start(), before the first tick.
  virtual void start_input(Runtime& /*rt*/, Time /*zero*/) {}
  /// Fixes the input of batch t; returns its record count. `take_buffered` is false while the
  /// pending-batch limit is reached: buffered input (receivers, files) then waits.
  virtual std::int64_t seal(Time /*t*/, bool /*take_buffered*/) { return 0; }
  /// Stops receiving new input (receivers' on_stop); what is buffered stays to be sealed.
  virtual void stop_input() {}
  /// True while received input waits to be sealed into a batch.
  [[nodiscard]] virtual bool has_buffered_input() const { return false; }
  /// Forgets the sealed input of batch t once it is done.
  virtual void release_input(Time /*t*/) {}
  /// What fixes batch t's input, written durably before the batch runs (the file list, the
  /// queue position, a receiver's records), so that a restarted context replays it exactly.
  [[nodiscard]] virtual std::string seal_record(Time /*t*/) const { return {}; }
  /// Seals batch t again from its record, after a restart.
  virtual std::int64_t replay_seal(Time t, std::string_view /*record*/) { return seal(t, true); }
  /// Receivers log their blocks ahead when the context checkpoints.
  [[nodiscard]] virtual bool wants_block_log() const noexcept { return false; }
  virtual void attach_block_log(std::unique_ptr<BlockLog> /*log*/) {}
  /// The checkpoint of batch t is durable: logs may forget what it covers.
  virtual void checkpoint_written(Time /*t*/) {}
  /// The strongest guarantee this input can give after a crash.
  [[nodiscard]] virtual Delivery input_delivery() const { return Delivery::exactly_once; }
  /// Counters of an input (records, skipped, errors).
  [[nodiscard]] virtual SourceStats source_stats() const { return SourceStats{name(), 0, 0, 0}; }

 private:
  std::string kind_;
  std::string name_;
  std::vector<std::shared_ptr<NodeBase>> parents_;
  Duration slide_;
  std::size_t num_partitions_;
  int consumers_ = 0;
  Duration remember_{0};
};

/// A node producing records of type T.
template <class T>
class Node : public NodeBase {
 public:
  using NodeBase::NodeBase;

  /// A descriptor of this node keeping values of types Ts (for state_descriptor()).
  template <class... Ts>
  [[nodiscard]] StateDescriptor describe_state() const {
    return StateDescriptor{name(), kind(), type_fingerprint<Ts...>(), all_serializable_v<Ts...>};
  }

  /// The batch at t: computed on first request, then shared. Batch thread only.
  std::shared_ptr<const Batch<T>> get(Time t, Exec& ex) {
    {
      std::lock_guard lock(cache_mutex_);
      if (auto it = cache_.find(t); it != cache_.end()) return it->second;
    }
    auto batch = compute(t, ex);
    std::lock_guard lock(cache_mutex_);
    cache_.emplace(t, batch);
    return batch;
  }

  void prepare(Time t, Exec& ex) final {
    if (streams()) {
      prepare_stream(t, ex);
    } else {
      (void)get(t, ex);
    }
  }

  /// Streams partition p of batch t into `sink`. Any pool thread, after prepare(t).
  void stream(Time t, std::size_t p, Sink<T>& sink) {
    if (streams()) {
      stream_partition(t, p, sink);
      return;
    }
    std::shared_ptr<const Batch<T>> batch;
    {
      std::lock_guard lock(cache_mutex_);
      batch = cache_.at(t);
    }
    auto part = batch->partition(p);
    if (!part.empty()) sink.push(part);
  }

  void clear_done(Time t) override {
    std::lock_guard lock(cache_mutex_);
    const Time keep_after = t - remember_duration();
    while (!cache_.empty() && cache_.begin()->first <= keep_after)
      cache_.erase(cache_.begin());
  }

  [[nodiscard]] std::size_t cached_batches() const override {
    std::lock_guard lock(cache_mutex_);
    return cache_.size();
  }
  [[nodiscard]] std::size_t retained_bytes() const override {
    std::lock_guard lock(cache_mutex_);
    std::size_t n = 0;
    for (const auto& [t, batch] : cache_)
      n += batch->size();
    return n * sizeof(T);
  }

  /// Checkpoints of windows: the cached batches after `after`, and their restoration.
  [[nodiscard]] std::string save_cache(Time after) const {
    if constexpr (is_serializable_v<T>) {
      std::vector<std::pair<Time, typename Batch<T>::Partitions>> saved;
      std::lock_guard lock(cache_mutex_);
      for (const auto& [t, batch] : cache_) {
        if (t > after) saved.emplace_back(t, batch->partitions());
      }
      return to_bytes(saved);
    } else {
      return {};
    }
  }
  void load_cache(std::string_view bytes) {
    if constexpr (is_serializable_v<T>) {
      std::vector<std::pair<Time, typename Batch<T>::Partitions>> saved;
      from_bytes(bytes, saved);
      std::lock_guard lock(cache_mutex_);
      for (auto& [t, parts] : saved) {
        cache_[t] = std::make_shared<const Batch<T>>(std::move(parts));
      }
    }
  }

  /// Incremental checkpoints of windows: the times of the batches cached after `after`, and
  /// those of them after `since` (the ones the last checkpoint did not hold).
  [[nodiscard]] std::string save_cache_delta(Time after, Time since) const {
    if constexpr (is_serializable_v<T>) {
      std::vector<Time> kept;
      std::vector<std::pair<Time, typename Batch<T>::Partitions>> added;
      std::lock_guard lock(cache_mutex_);
      for (const auto& [t, batch] : cache_) {
        if (t <= after) continue;
        kept.push_back(t);
        if (t > since) added.emplace_back(t, batch->partitions());
      }
      return to_bytes(kept, added);
    } else {
      return {};
    }
  }
  /// Applies a save_cache_delta(): drops the batches it no longer keeps, adds the new ones.
  void load_cache_delta(std::string_view bytes) {
    if constexpr (is_serializable_v<T>) {
      std::vector<Time> kept;
      std::vector<std::pair<Time, typename Batch<T>::Partitions>> added;
      from_bytes(bytes, kept, added);
      std::lock_guard lock(cache_mutex_);
      std::erase_if(cache_, [&](const auto& entry) {
        return std::find(kept.begin(), kept.end(), entry.first) == kept.end();
      });
      for (auto& [t, parts] : added)
        cache_[t] = std::make_shared<const Batch<T>>(std::move(parts));
    }
  }

  /// The cached batch at t, if any (slice()).
  std::shared_ptr<const Batch<T>> cached(Time t) const {
    std::lock_guard lock(cache_mutex_);
    auto it = cache_.find(t);
    return it == cache_.end() ? nullptr : it->second;
  }

 protected:
  /// Computes the batch at t. The default streams every partition of a fusable node.
  virtual std::shared_ptr<const Batch<T>> compute(Time t, Exec& ex) {
    prepare_stream(t, ex);
    typename Batch<T>::Partitions parts(num_partitions());
    ex.parallel_for(parts.size(), [&](std::size_t p) {
      CollectSink<T> sink(parts[p]);
      stream_partition(t, p, sink);
    });
    return std::make_shared<const Batch<T>>(std::move(parts));
  }
  /// Fusable nodes: prepares the parents for streaming.
  virtual void prepare_stream(Time /*t*/, Exec& /*ex*/) {}
  /// Fusable nodes: pushes partition p of batch t through this operator into `sink`.
  virtual void stream_partition(Time /*t*/, std::size_t /*p*/, Sink<T>& /*sink*/) {}

 private:
  mutable std::mutex cache_mutex_;
  std::map<Time, std::shared_ptr<const Batch<T>>> cache_;
};

/// An output operation: runs at every batch time at which its stream is defined.
class OutputOp {
 public:
  OutputOp(std::string kind, std::shared_ptr<NodeBase> parent)
      : kind_(std::move(kind)), parent_(std::move(parent)) {}
  virtual ~OutputOp() = default;
  [[nodiscard]] const std::string& kind() const noexcept { return kind_; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  void set_name(std::string n) { name_ = std::move(n); }
  [[nodiscard]] NodeBase& parent() const noexcept { return *parent_; }
  [[nodiscard]] const std::shared_ptr<NodeBase>& parent_ptr() const noexcept { return parent_; }
  /// Runs the output for batch t on the batch thread.
  virtual void run(Time t, Exec& ex) = 0;
  /// What the output promises after a crash: exactly once when replaying a batch cannot show
  /// twice (idempotent per batch time), at least once otherwise.
  [[nodiscard]] virtual Delivery delivery() const { return Delivery::at_least_once; }

 private:
  std::string kind_;
  std::string name_;
  std::shared_ptr<NodeBase> parent_;
};

}  // namespace rill::detail
