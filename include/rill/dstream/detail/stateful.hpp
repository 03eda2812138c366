#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "rill/checkpoint/detail/checkpointed_state.hpp"
#include "rill/dstream/detail/keyed_state.hpp"
#include "rill/dstream/detail/shuffle.hpp"
#include "rill/dstream/state.hpp"

/// Stateful operators: per-partition hash tables (a KeyedStateStore) owned by the operator,
/// updated in place every batch (no copy of the state per batch beyond the output itself).
namespace rill::detail {

/// Base of the stateful nodes: seen at every batch time so the state advances in order.
template <class Out>
class StatefulNode : public Node<Out>, public CheckpointedState {
 public:
  using Node<Out>::Node;
  [[nodiscard]] bool sees_every_batch() const noexcept override { return true; }
  void on_batch(Time t, Exec& ex) override {
    if (this->defined_at(t, ex.zero())) (void)this->get(t, ex);
  }
};

template <class V>
struct MergeGroups {
  void operator()(std::vector<V>& a, std::vector<V>&& b) const {
    a.insert(a.end(), std::make_move_iterator(b.begin()), std::make_move_iterator(b.end()));
  }
};

/// update_state_by_key(fn): fn(new values, state) -> new state, for every key with new values or
/// state, every batch; std::nullopt removes the key. A delta holds the keys fn was called with
/// new values for, and the idle keys whose state fn changed (all idle keys when S has no
/// operator==).
template <class K, class V, class S, class F>
class UpdateStateNode final
    : public KeyedStatefulNode<StatefulNode<std::pair<K, S>>, KeyedStateStore<K, S>> {
  using Base = KeyedStatefulNode<StatefulNode<std::pair<K, S>>, KeyedStateStore<K, S>>;

 public:
  UpdateStateNode(std::shared_ptr<Node<std::pair<K, V>>> parent, F fn,
                  std::vector<std::pair<K, S>> initial, std::size_t partitions)
      : Base("update_state_by_key", {parent}, parent->slide(), partitions),
        parent_(std::move(parent)),
        fn_(std::move(fn)) {
    for (auto& [k, s] : initial)
      this->store_.assign(k, std::move(s));
  }

  [[nodiscard]] std::optional<StateDescriptor> state_descriptor() const override {
    return this->template describe_state<K, S>();
  }

 protected:
  std::shared_ptr<const Batch<std::pair<K, S>>> compute(Time t, Exec& ex) override {
    const std::size_t n = this->num_partitions();
    // Tables sized for the previous batch's keys (the hint changes no output).
    auto tables = shuffle_write<K, V, std::vector<V>>(*parent_, t, ex, n, GroupPolicy<V>{},
                                                      last_fresh_keys_.load() / n);
    last_fresh_keys_.store(0);
    typename Batch<std::pair<K, S>>::Partitions parts(n);
    ex.parallel_for(n, [&](std::size_t q) {
      MergeGroups<V> merge;
      auto fresh = shuffle_merge(tables, q, merge);
      last_fresh_keys_.fetch_add(fresh.size(), std::memory_order_relaxed);
      auto& state = this->store_.table(q);
      auto& out = parts[q];
      F fn = fn_;
      // Keys with new values, in first-appearance order.
      for (auto& [k, values] : fresh.entries()) {
        this->store_.mark(q, k);
        auto it = state.find(k);
        std::optional<S> previous;
        if (it != state.end()) previous = std::move(it->second);
        std::optional<S> next = std::invoke(fn, std::as_const(values), std::move(previous));
        if (next) {
          if (it != state.end()) {
            it->second = std::move(*next);
          } else {
            it = state.emplace(k, std::move(*next)).first;
          }
          out.emplace_back(k, it->second);
        } else if (it != state.end()) {
          state.erase(it);
        }
      }
      // Keys with state only.
      const std::vector<V> none;
      std::vector<K> removed;
      for (auto& [k, s] : state) {
        if (fresh.contains(k)) continue;
        std::optional<S> next;
        if constexpr (std::equality_comparable<S>) {
          if (this->store_.tracking()) {
            // Incremental checkpoints: only a state fn changed goes into the next delta.
            next = std::invoke(fn, none, std::optional<S>(s));
            if (!next || !(*next == s)) this->store_.mark(q, k);
          } else {
            next = std::invoke(fn, none, std::optional<S>(std::move(s)));
          }
        } else {
          this->store_.mark(q, k);
          next = std::invoke(fn, none, std::optional<S>(std::move(s)));
        }
        if (next) {
          s = std::move(*next);
          out.emplace_back(k, s);
        } else {
          removed.push_back(k);
        }
      }
      for (const auto& k : removed)
        state.erase(k);
    });
    return std::make_shared<const Batch<std::pair<K, S>>>(std::move(parts));
  }

 private:
  std::shared_ptr<Node<std::pair<K, V>>> parent_;
  F fn_;
  std::atomic<std::size_t> last_fresh_keys_{0};  // keys with new values in the last batch
};

/// Sends each record of one source partition to its key's output partition, in order.
template <class K, class V>
class RouteSink final : public ChunkSink<std::pair<K, V>> {
 public:
  explicit RouteSink(std::vector<std::vector<std::pair<K, V>>>& out) : out_(out) {}
  void push(std::span<const std::pair<K, V>> items) override {
    for (const auto& kv : items)
      target(kv.first).push_back(kv);
  }
  void push_owned(std::span<std::pair<K, V>> items) override {
    for (auto& kv : items)
      target(kv.first).push_back(std::move(kv));
  }

 private:
  std::vector<std::pair<K, V>>& target(const K& k) {
    return out_.size() == 1 ? out_[0] : out_[partition_of(k, out_.size())];
  }
  std::vector<std::vector<std::pair<K, V>>>& out_;
};

/// The map side of a shuffle without combining, for the keyed stateful operators: prepares batch
/// t of `parent` and streams each of its partitions p (in parallel, one task each) into the sink
/// `make_sink(p, buckets)` returns, where `buckets` is result[p]: one vector of rows per output
/// partition (n of them), which the sink fills in arrival order.
template <class Row, class T, class MakeSink>
std::vector<std::vector<std::vector<Row>>> route_rows(Node<T>& parent, Time t, Exec& ex,
                                                      std::size_t n, MakeSink&& make_sink) {
  parent.prepare(t, ex);
  std::vector<std::vector<std::vector<Row>>> routed(parent.num_partitions());
  ex.parallel_for(routed.size(), [&](std::size_t p) {
    routed[p].resize(n);
    auto sink = make_sink(p, routed[p]);
    parent.stream(t, p, sink);
  });
  return routed;
}

/// Streams batch t of `parent` into the n partitions of a keyed state. With one, each input
/// partition p goes straight through the sink `make_direct(p)` returns (no copy). With several,
/// route_rows() routes the rows with `make_route(p, buckets)`; then each state partition q takes,
/// in parallel (one task each), the rows every input partition routed to it, in input-partition
/// order, as `apply(q, rows)` (a std::span<Row> whose rows may be moved from), and frees them.
template <class Row, class T, class MakeDirect, class MakeRoute, class Apply>
void stream_into_state(Node<T>& parent, Time t, Exec& ex, std::size_t n, MakeDirect&& make_direct,
                       MakeRoute&& make_route, Apply&& apply) {
  if (n == 1) {
    parent.prepare(t, ex);
    for (std::size_t p = 0; p < parent.num_partitions(); ++p) {
      auto sink = make_direct(p);
      parent.stream(t, p, sink);
    }
    return;
  }
  auto routed = route_rows<Row>(parent, t, ex, n, make_route);
  ex.parallel_for(n, [&](std::size_t q) {
    for (auto& from : routed) {
      apply(q, std::span<Row>(from[q]));
      std::vector<Row>().swap(from[q]);
    }
  });
}

/// The records of batch t by source partition p and output partition q: result[p][q], each in
/// arrival order (a shuffle without combining).
template <class K, class V>
std::vector<std::vector<std::vector<std::pair<K, V>>>> route_by_key(Node<std::pair<K, V>>& parent,
                                                                    Time t, Exec& ex,
                                                                    std::size_t n) {
  return route_rows<std::pair<K, V>>(
      parent, t, ex, n, [](std::size_t, std::vector<std::vector<std::pair<K, V>>>& buckets) {
        return RouteSink<K, V>(buckets);
      });
}

/// map_with_state's entry for a key: its state and the time of its last record. A type of its
/// own per function type F, as when it was declared in the node: its table's code then has F's
/// linkage (internal for a lambda). Shared by all operators of one state type, it changed the
/// order GCC 12 compiles that code in, and W4's loop lost boost 1.81's element prefetch.
template <class S, class F>
struct TimedState {
  S value;
  Time last_update;
};

/// Writes a TimedState as (state, last update), every key in one list. map_with_state's format
/// has rows tuple<K, S, Time>: cereal's binary form of pair<K, pair<S, Time>> is the same bytes.
template <class S, class F>
struct TimedStateCodec {
  using Saved = std::pair<S, Time>;
  static constexpr bool serializable = is_serializable_v<S>;
  static constexpr SnapshotLayout layout = SnapshotLayout::flat;
  static Saved save(const TimedState<S, F>& e) { return Saved(e.value, e.last_update); }
  static TimedState<S, F> load(Saved&& s) { return TimedState<S, F>{std::move(s.first), s.second}; }
};

template <class K, class S, class F>
using TimedStateStore = KeyedStateStore<K, TimedState<S, F>, TimedStateCodec<S, F>>;

/// map_with_state(spec): fn(key, value, State&) -> M once per record in arrival order within a
/// key, and once with std::nullopt for a key idle longer than the timeout (in the first batch
/// whose time exceeds its last record's time + timeout: Spark's `lastUpdated < batchTime -
/// timeout`); both results are emitted. A key of the initial state counts as updated at the
/// operator's first batch time (zero + slide), as Spark stamps its initial state RDD with the
/// first batch's time. Checkpoints also hold whether the initial state's timeouts started; a
/// delta holds the keys that had records or timed out (the first batch, which starts the initial
/// state's timeouts, changes every key and writes the whole state).
template <class K, class V, class S, class M, class F>
class MapWithStateNode final : public KeyedStatefulNode<StatefulNode<M>, TimedStateStore<K, S, F>> {
  using Base = KeyedStatefulNode<StatefulNode<M>, TimedStateStore<K, S, F>>;

 public:
  using Entry = TimedState<S, F>;
  using Table = typename TimedStateStore<K, S, F>::Table;

  MapWithStateNode(std::shared_ptr<Node<std::pair<K, V>>> parent, const StateSpec<K, V, S, F>& spec,
                   std::size_t partitions)
      : Base("map_with_state", {parent}, parent->slide(), partitions),
        parent_(std::move(parent)),
        fn_(spec.function()),
        timeout_(spec.timeout()) {
    for (const auto& [k, s] : spec.initial_state())
      this->store_.assign(k, Entry{s, Time{}});
    initial_pending_ = !spec.initial_state().empty();
  }

  [[nodiscard]] std::optional<StateDescriptor> state_descriptor() const override {
    return this->template describe_state<K, S, Time>();
  }
  [[nodiscard]] std::string save_state(Time /*t*/) const override {
    return this->store_.save(initial_pending_);
  }
  void load_state(std::string_view bytes) override {
    this->store_.load(bytes, initial_pending_);
    restamp_initial_ = true;
  }
  [[nodiscard]] std::optional<std::string> save_delta(Time /*t*/) const override {
    if (initial_pending_) return std::nullopt;
    return this->store_.save_delta();
  }

  /// The state after batch t (state_snapshots()); t must be computed first.
  [[nodiscard]] const std::vector<Table>& tables() const noexcept { return this->store_.tables(); }

 protected:
  std::shared_ptr<const Batch<M>> compute(Time t, Exec& ex) override {
    if (initial_pending_) {
      // The first batch: the initial keys count as updated now for their timeout (Spark).
      for (std::size_t q = 0; q < this->store_.partitions(); ++q) {
        for (auto& [k, e] : this->store_.table(q))
          e.last_update = t;
      }
      initial_pending_ = false;
      this->store_.mark_all();
    } else if (restamp_initial_) {
      restamp_old_initial_keys(ex.zero());
    }
    restamp_initial_ = false;
    const std::size_t n = this->num_partitions();
    // Records go to their key's partition as they are, in arrival order: fn runs once per record,
    // so there is nothing to group.
    auto routed = route_by_key(*parent_, t, ex, n);
    typename Batch<M>::Partitions parts(n);
    ex.parallel_for(n, [&](std::size_t q) {
      auto& state = this->store_.table(q);
      auto& out = parts[q];
      F fn = fn_;
      for (auto& from_partition : routed) {
        for (auto& [k, v] : from_partition[q]) {
          this->store_.mark(q, k);
          auto it = state.find(k);
          State<S> st(it != state.end() ? &it->second.value : nullptr);
          out.push_back(std::invoke(fn, std::as_const(k), std::optional<V>(std::move(v)), st));
          if (st.removed()) {
            if (it != state.end()) state.erase(it);
            continue;
          }
          if (st.updated()) {
            if (it != state.end()) {
              it->second.value = std::move(*st.updated());
            } else {
              it = state.emplace(std::move(k), Entry{std::move(*st.updated()), t}).first;
            }
          }
          if (it != state.end()) it->second.last_update = t;
        }
      }
      if (!timeout_) return;
      // A key with a record in this batch was updated at t, so only idle keys time out.
      std::vector<K> timed_out;
      for (auto& [k, e] : state) {
        if (e.last_update + *timeout_ >= t) continue;
        State<S> st(&e.value, /*timing_out=*/true);
        out.push_back(std::invoke(fn, k, std::optional<V>(), st));
        this->store_.mark(q, k);
        timed_out.push_back(k);
      }
      for (const auto& k : timed_out)
        state.erase(k);
    });
    return std::make_shared<const Batch<M>>(std::move(parts));
  }

 private:
  /// Checkpoints written before rill stamped the initial keys with the first batch time hold
  /// them stamped with the zero time, which no record can have (records come after it): they get
  /// the first batch time (zero + slide), so that they time out as they do now. Marked as
  /// changed, they go into the next delta.
  void restamp_old_initial_keys(Time zero) {
    const Time first = zero + this->slide();
    for (std::size_t q = 0; q < this->store_.partitions(); ++q) {
      for (auto& [k, e] : this->store_.table(q)) {
        if (e.last_update != zero) continue;
        e.last_update = first;
        this->store_.mark(q, k);
      }
    }
  }

  std::shared_ptr<Node<std::pair<K, V>>> parent_;
  F fn_;
  std::optional<Duration> timeout_;
  bool initial_pending_ = false;
  bool restamp_initial_ = false;  // a checkpoint was loaded: check its stamps once
};

/// state_snapshots(): every key and state of a map_with_state after each batch.
template <class K, class V, class S, class M, class F>
class StateSnapshotNode final : public Node<std::pair<K, S>> {
 public:
  explicit StateSnapshotNode(std::shared_ptr<MapWithStateNode<K, V, S, M, F>> parent)
      : Node<std::pair<K, S>>("state_snapshots", {parent}, parent->slide(),
                              parent->num_partitions()),
        parent_(std::move(parent)) {}

 protected:
  std::shared_ptr<const Batch<std::pair<K, S>>> compute(Time t, Exec& ex) override {
    (void)parent_->get(t, ex);
    const auto& tables = parent_->tables();
    typename Batch<std::pair<K, S>>::Partitions parts(tables.size());
    ex.parallel_for(parts.size(), [&](std::size_t q) {
      parts[q].reserve(tables[q].size());
      for (const auto& [k, e] : tables[q])
        parts[q].emplace_back(k, e.value);
    });
    return std::make_shared<const Batch<std::pair<K, S>>>(std::move(parts));
  }

 private:
  std::shared_ptr<MapWithStateNode<K, V, S, M, F>> parent_;
};

}  // namespace rill::detail
