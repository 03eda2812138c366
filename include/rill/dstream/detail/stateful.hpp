#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "rill/checkpoint/detail/checkpointed_state.hpp"
#include "rill/dstream/detail/keyed_state.hpp"
#include "rill/dstream/detail/shuffle.hpp"
#include "rill/dstream/state.hpp"

/// Stateful operators: per-partition hash tables owned by the operator, updated in place every
/// batch (no copy of the state per batch beyond the output itself).
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
/// state, every batch; std::nullopt removes the key.
template <class K, class V, class S, class F>
class UpdateStateNode final : public StatefulNode<std::pair<K, S>> {
 public:
  UpdateStateNode(std::shared_ptr<Node<std::pair<K, V>>> parent, F fn,
                  std::vector<std::pair<K, S>> initial, std::size_t partitions)
      : StatefulNode<std::pair<K, S>>("update_state_by_key", {parent}, parent->slide(), partitions),
        parent_(std::move(parent)),
        fn_(std::move(fn)),
        state_(partitions) {
    for (auto& [k, s] : initial)
      state_[partition_of(k, partitions)].insert_or_assign(k, std::move(s));
  }

  [[nodiscard]] std::optional<StateInfo> state_info() const override {
    std::int64_t keys = 0;
    for (const auto& s : state_)
      keys += static_cast<std::int64_t>(s.size());
    return StateInfo{this->name(), keys, keys * static_cast<std::int64_t>(sizeof(K) + sizeof(S))};
  }
  [[nodiscard]] std::optional<StateDescriptor> state_descriptor() const override {
    return this->template describe_state<K, S>();
  }
  [[nodiscard]] std::string save_state(Time /*t*/) const override {
    if constexpr (all_serializable_v<K, S>) {
      std::vector<std::vector<std::pair<K, S>>> saved(state_.size());
      for (std::size_t q = 0; q < state_.size(); ++q)
        saved[q].assign(state_[q].begin(), state_[q].end());
      return to_bytes(saved);
    } else {
      return {};
    }
  }
  void load_state(std::string_view bytes) override {
    if constexpr (all_serializable_v<K, S>) {
      std::vector<std::vector<std::pair<K, S>>> saved;
      from_bytes(bytes, saved);
      for (auto& table : state_)
        table.clear();
      for (auto& part : saved) {
        for (auto& [k, v] : part)
          state_[partition_of(k, state_.size())].insert_or_assign(k, std::move(v));
      }
    }
  }
  void track_changes() override { changes_.enable(state_.size()); }
  /// The keys fn was called with new values for, and the idle keys whose state fn changed (all
  /// idle keys when S has no operator==).
  [[nodiscard]] std::optional<std::string> save_delta(Time /*t*/) const override {
    if constexpr (all_serializable_v<K, S>) {
      return changes_.template save<S>(state_, [](const S& s) { return s; });
    } else {
      return std::nullopt;
    }
  }
  void load_delta(std::string_view bytes) override {
    if constexpr (all_serializable_v<K, S>) {
      KeyChanges<K>::template load<S>(bytes, state_, [](S&& s) { return std::move(s); });
    }
  }
  void state_saved(Time /*t*/) override { changes_.clear(); }

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
      auto& state = state_[q];
      auto& out = parts[q];
      F fn = fn_;
      // Keys with new values, in first-appearance order.
      for (auto& [k, values] : fresh.entries()) {
        changes_.mark(q, k);
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
          if (changes_.on()) {
            // Incremental checkpoints: only a state fn changed goes into the next delta.
            next = std::invoke(fn, none, std::optional<S>(s));
            if (!next || !(*next == s)) changes_.mark(q, k);
          } else {
            next = std::invoke(fn, none, std::optional<S>(std::move(s)));
          }
        } else {
          changes_.mark(q, k);
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
  std::vector<boost::unordered_flat_map<K, S, boost::hash<K>>> state_;
  KeyChanges<K> changes_;
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

/// The records of batch t by source partition p and output partition q: result[p][q], each in
/// arrival order (a shuffle without combining).
template <class K, class V>
std::vector<std::vector<std::vector<std::pair<K, V>>>> route_by_key(Node<std::pair<K, V>>& parent,
                                                                    Time t, Exec& ex,
                                                                    std::size_t n) {
  parent.prepare(t, ex);
  std::vector<std::vector<std::vector<std::pair<K, V>>>> routed(parent.num_partitions());
  ex.parallel_for(routed.size(), [&](std::size_t p) {
    routed[p].resize(n);
    RouteSink<K, V> sink(routed[p]);
    parent.stream(t, p, sink);
  });
  return routed;
}

/// map_with_state(spec): fn(key, value, State&) -> M once per record in arrival order within a
/// key, and once with std::nullopt for a key idle longer than the timeout (in the first batch
/// whose time exceeds its last record's time + timeout); both results are emitted.
template <class K, class V, class S, class M, class F>
class MapWithStateNode final : public StatefulNode<M> {
 public:
  struct Entry {
    S value;
    Time last_update;
  };
  using Table = boost::unordered_flat_map<K, Entry, boost::hash<K>>;

  MapWithStateNode(std::shared_ptr<Node<std::pair<K, V>>> parent, const StateSpec<K, V, S, F>& spec,
                   std::size_t partitions)
      : StatefulNode<M>("map_with_state", {parent}, parent->slide(), partitions),
        parent_(std::move(parent)),
        fn_(spec.function()),
        timeout_(spec.timeout()),
        state_(partitions) {
    for (const auto& [k, s] : spec.initial_state()) {
      state_[partition_of(k, partitions)].insert_or_assign(k, Entry{s, Time{}});
    }
    initial_pending_ = !spec.initial_state().empty();
  }

  [[nodiscard]] std::optional<StateInfo> state_info() const override {
    std::int64_t keys = 0;
    for (const auto& s : state_)
      keys += static_cast<std::int64_t>(s.size());
    return StateInfo{this->name(), keys,
                     keys * static_cast<std::int64_t>(sizeof(K) + sizeof(Entry))};
  }

  [[nodiscard]] std::optional<StateDescriptor> state_descriptor() const override {
    return this->template describe_state<K, S, Time>();
  }
  [[nodiscard]] std::string save_state(Time /*t*/) const override {
    if constexpr (all_serializable_v<K, S>) {
      std::vector<std::tuple<K, S, Time>> saved;
      for (const auto& table : state_) {
        for (const auto& [k, e] : table)
          saved.emplace_back(k, e.value, e.last_update);
      }
      return to_bytes(saved, initial_pending_);
    } else {
      return {};
    }
  }
  void load_state(std::string_view bytes) override {
    if constexpr (all_serializable_v<K, S>) {
      std::vector<std::tuple<K, S, Time>> saved;
      from_bytes(bytes, saved, initial_pending_);
      for (auto& table : state_)
        table.clear();
      for (auto& [k, v, t] : saved) {
        state_[partition_of(k, state_.size())].insert_or_assign(k, Entry{std::move(v), t});
      }
    }
  }

  void track_changes() override { changes_.enable(state_.size()); }
  /// The keys that had records or timed out (everything once the initial state's timeouts
  /// start: the batch after the zero time writes a full snapshot).
  [[nodiscard]] std::optional<std::string> save_delta(Time /*t*/) const override {
    if constexpr (all_serializable_v<K, S>) {
      if (initial_pending_) return std::nullopt;
      return changes_.template save<std::pair<S, Time>>(
          state_, [](const Entry& e) { return std::pair<S, Time>(e.value, e.last_update); });
    } else {
      return std::nullopt;
    }
  }
  void load_delta(std::string_view bytes) override {
    if constexpr (all_serializable_v<K, S>) {
      KeyChanges<K>::template load<std::pair<S, Time>>(bytes, state_, [](std::pair<S, Time>&& e) {
        return Entry{std::move(e.first), e.second};
      });
    }
  }
  void state_saved(Time /*t*/) override { changes_.clear(); }

  /// The state after batch t (state_snapshots()); t must be computed first.
  [[nodiscard]] const std::vector<Table>& tables() const noexcept { return state_; }

 protected:
  std::shared_ptr<const Batch<M>> compute(Time t, Exec& ex) override {
    if (initial_pending_) {
      // Initial keys count as updated at the zero time for their timeout.
      for (auto& table : state_) {
        for (auto& [k, e] : table)
          e.last_update = ex.zero();
      }
      initial_pending_ = false;
      changes_.mark_all();
    }
    const std::size_t n = this->num_partitions();
    // Records go to their key's partition as they are, in arrival order: fn runs once per record,
    // so there is nothing to group.
    auto routed = route_by_key(*parent_, t, ex, n);
    typename Batch<M>::Partitions parts(n);
    ex.parallel_for(n, [&](std::size_t q) {
      auto& state = state_[q];
      auto& out = parts[q];
      F fn = fn_;
      for (auto& from_partition : routed) {
        for (auto& [k, v] : from_partition[q]) {
          changes_.mark(q, k);
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
        changes_.mark(q, k);
        timed_out.push_back(k);
      }
      for (const auto& k : timed_out)
        state.erase(k);
    });
    return std::make_shared<const Batch<M>>(std::move(parts));
  }

 private:
  std::shared_ptr<Node<std::pair<K, V>>> parent_;
  F fn_;
  std::optional<Duration> timeout_;
  std::vector<Table> state_;
  bool initial_pending_ = false;
  KeyChanges<K> changes_;
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
