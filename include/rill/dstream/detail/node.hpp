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
#include "rill/core/listener.hpp"
#include "rill/core/serialization.hpp"
#include "rill/core/time.hpp"

/// The operator graph's building blocks (internal). A node is one operator; its result for a
/// batch time is computed once on the batch thread and cached until no consumer can ask for it.
/// Narrow operators also *stream*: when a narrow node has a single consumer, its partitions are
/// never materialized; the consumer pulls them through the whole chain in one pass, in chunks.
namespace rill::detail {

/// Records flowing through a fused chain of narrow operators, a chunk at a time. One virtual
/// call per chunk, never one per record.
template <class T>
class ChunkSink {
 public:
  /// Read-only records, owned by someone else.
  virtual void push(std::span<const T> items) = 0;
  /// Records the sink may move from.
  virtual void push_owned(std::span<T> items) {
    push(std::span<const T>(items.data(), items.size()));
  }

 protected:
  ~ChunkSink() = default;
};

/// Records per chunk handed from one fused operator to the next.
inline constexpr std::size_t kChunk = 1024;

/// Collects a streamed partition into a vector.
template <class T>
class CollectSink final : public ChunkSink<T> {
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

/// What one batch carries through the engine, from its sealing to its outputs: one value,
/// copied freely (Spark's batch Time plus what a job of it needs to know).
struct BatchContext {
  /// The batch time.
  Time time;
  /// The context's zero time (first batch time minus one interval).
  Time zero;
  /// True while the batch is one a restarted context runs again from its seal record.
  bool replaying = false;
};

/// Execution services of the batch being computed; implemented by the engine.
class Exec {
 public:
  explicit Exec(BatchContext batch) : batch_(batch) {}
  virtual ~Exec() = default;
  /// Runs fn(i) for every i in [0, n) on the worker pool and waits; rethrows the first exception.
  virtual void parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn) = 0;
  /// The batch being computed.
  [[nodiscard]] const BatchContext& batch() const noexcept { return batch_; }
  /// The context's zero time (first batch time minus one interval).
  [[nodiscard]] Time zero() const noexcept { return batch_.zero; }
  /// True while the batch is one a restarted context runs again from its seal record.
  [[nodiscard]] bool replaying() const noexcept { return batch_.replaying; }

 private:
  BatchContext batch_;
};

/// The operator contract, type-independent (Spark's DStream: dependencies, slide duration,
/// compute). What an operator keeps across batches is a second contract (CheckpointedState),
/// what fixes an input a third (InputSource); a node implements those it needs.
class OperatorNode {
 public:
  OperatorNode(std::string kind, std::vector<std::shared_ptr<OperatorNode>> parents, Duration slide,
               std::size_t num_partitions);
  OperatorNode(const OperatorNode&) = delete;
  OperatorNode& operator=(const OperatorNode&) = delete;
  virtual ~OperatorNode();

  /// The operator's kind (`map`, `window`...): the stem of its default name `<kind>#<n>`.
  [[nodiscard]] const std::string& kind() const noexcept { return kind_; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  [[nodiscard]] Duration slide() const noexcept { return slide_; }
  [[nodiscard]] std::size_t num_partitions() const noexcept { return num_partitions_; }
  [[nodiscard]] const std::vector<std::shared_ptr<OperatorNode>>& parents() const noexcept {
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

 private:
  std::string kind_;
  std::string name_;
  std::vector<std::shared_ptr<OperatorNode>> parents_;
  Duration slide_;
  std::size_t num_partitions_;
  int consumers_ = 0;
  Duration remember_{0};
};

/// A node producing records of type T.
template <class T>
class Node : public OperatorNode {
 public:
  using OperatorNode::OperatorNode;

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
  void stream(Time t, std::size_t p, ChunkSink<T>& sink) {
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
  virtual void stream_partition(Time /*t*/, std::size_t /*p*/, ChunkSink<T>& /*sink*/) {}

 private:
  mutable std::mutex cache_mutex_;
  std::map<Time, std::shared_ptr<const Batch<T>>> cache_;
};

}  // namespace rill::detail
