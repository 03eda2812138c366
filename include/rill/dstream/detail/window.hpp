#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "rill/checkpoint/detail/checkpointed_state.hpp"
#include "rill/core/errors.hpp"
#include "rill/dstream/detail/aggregate.hpp"
#include "rill/dstream/detail/keyed_state.hpp"
#include "rill/dstream/detail/shuffle.hpp"

/// Window operators (Spark's grid): the window at batch time t holds the parent's batches with
/// times in [t - w + s_p, t], s_p being the parent's slide; a windowed stream is defined when
/// t - zero is a multiple of its slide; the first windows are partial.
namespace rill::detail {

/// Throws rill::InvalidArgument unless w and slide are positive multiples of the parent's slide.
void check_window(const char* what, Duration window, Duration slide, Duration parent_slide);

/// The parent batch times of the window ending at t, oldest first (those after zero only).
inline std::vector<Time> window_times(Time t, Duration window, Duration parent_slide, Time zero) {
  std::vector<Time> times;
  for (Time b = t - window + parent_slide; b <= t; b += parent_slide) {
    if (b > zero) times.push_back(b);
  }
  return times;
}

/// window(w, slide): the parent's batches of the window, their partitions in time order. Streams:
/// the parent's batches are kept (remembered for w) and read in place, never copied.
template <class T>
class WindowNode final : public Node<T>, public CheckpointedState {
 public:
  WindowNode(std::shared_ptr<Node<T>> parent, Duration window, Duration slide)
      : Node<T>("window", {parent}, slide,
                parent->num_partitions() * static_cast<std::size_t>(window / parent->slide())),
        parent_(std::move(parent)),
        window_(window) {}

  [[nodiscard]] bool fusable() const noexcept override { return true; }
  [[nodiscard]] bool sees_every_batch() const noexcept override { return true; }
  void on_freeze() override { parent_->require_remember(this->remember_duration() + window_); }
  /// Checkpoints hold the parent batches the next windows still read.
  [[nodiscard]] std::optional<StateDescriptor> state_descriptor() const override {
    return this->template describe_state<T>();
  }
  [[nodiscard]] std::string save_state(Time t) const override {
    return parent_->save_cache(t - parent_->remember_duration());
  }
  void load_state(std::string_view bytes) override { parent_->load_cache(bytes); }
  /// A delta holds the parent batches computed since the last checkpoint.
  void track_changes() override { tracking_ = true; }
  [[nodiscard]] std::optional<std::string> save_delta(Time t) const override {
    if (!saved_) return std::nullopt;
    return parent_->save_cache_delta(t - parent_->remember_duration(), *saved_);
  }
  void load_delta(std::string_view bytes) override { parent_->load_cache_delta(bytes); }
  void state_saved(Time t) override {
    if (tracking_) saved_ = t;
  }
  /// Every parent batch is computed in its own interval, while its input is still there.
  void on_batch(Time t, Exec& ex) override {
    if (parent_->defined_at(t, ex.zero())) (void)parent_->get(t, ex);
  }

 protected:
  void prepare_stream(Time t, Exec& ex) override {
    for (Time b : window_times(t, window_, parent_->slide(), ex.zero()))
      (void)parent_->get(b, ex);
    zero_ = ex.zero();
  }
  void stream_partition(Time t, std::size_t p, ChunkSink<T>& sink) override {
    const std::size_t per_batch = parent_->num_partitions();
    const Time b = t - window_ + parent_->slide() * static_cast<std::int64_t>(p / per_batch + 1);
    if (b > zero_) parent_->stream(b, p % per_batch, sink);
  }

 private:
  std::shared_ptr<Node<T>> parent_;
  Duration window_;
  Time zero_;
  bool tracking_ = false;
  std::optional<Time> saved_;  // the batch of the last checkpoint written
};

/// Keeps per-batch pre-aggregates of a parent for the incremental window forms: computes one
/// for every parent batch, and tells which ones enter and leave the window ending at t.
template <class Pre>
class WindowLedger {
 public:
  void put(Time t, Pre pre) {
    if (tracking_) added_.push_back(t);
    waiting_.emplace(t, std::move(pre));
  }

  /// Moves the window to end at t; calls enter(pre) for the batches that slid in and
  /// leave(pre) for those that slid out.
  template <class Enter, class Leave>
  void advance(Time t, Duration window, Duration parent_slide, Enter&& enter, Leave&& leave) {
    const Time first = t - window + parent_slide;
    while (!inside_.empty() && inside_.begin()->first < first) {
      leave(inside_.begin()->second);
      inside_.erase(inside_.begin());
    }
    while (!waiting_.empty() && waiting_.begin()->first <= t) {
      auto node = waiting_.extract(waiting_.begin());
      if (node.key() >= first) {
        enter(node.mapped());
        inside_.insert(std::move(node));
      }
    }
  }
  [[nodiscard]] std::size_t batches() const noexcept { return waiting_.size() + inside_.size(); }
  /// Checkpoints: both sides of the ledger.
  [[nodiscard]] std::string save() const {
    if constexpr (is_serializable_v<Pre>) {
      return to_bytes(waiting_, inside_);
    } else {
      return {};
    }
  }
  void load(std::string_view bytes) {
    if constexpr (is_serializable_v<Pre>) from_bytes(bytes, waiting_, inside_);
  }
  /// Incremental checkpoints: which batches each side holds, and the pre-aggregates put since
  /// the last checkpoint (older ones are in the checkpoints before).
  void track_changes() noexcept { tracking_ = true; }
  [[nodiscard]] std::string save_delta() const {
    if constexpr (is_serializable_v<Pre>) {
      std::vector<Time> waiting;
      std::vector<Time> inside;
      for (const auto& [t, pre] : waiting_)
        waiting.push_back(t);
      for (const auto& [t, pre] : inside_)
        inside.push_back(t);
      std::map<Time, Pre> added;  // put since the last checkpoint and still held
      for (Time t : added_) {
        if (auto it = waiting_.find(t); it != waiting_.end()) {
          added.emplace(t, it->second);
        } else if (auto in = inside_.find(t); in != inside_.end()) {
          added.emplace(t, in->second);
        }
      }
      return to_bytes(waiting, inside, added);
    } else {
      return {};
    }
  }
  void load_delta(std::string_view bytes) {
    if constexpr (is_serializable_v<Pre>) {
      std::vector<Time> waiting;
      std::vector<Time> inside;
      std::map<Time, Pre> added;
      from_bytes(bytes, waiting, inside, added);
      std::map<Time, Pre> old = std::move(added);  // merge() keeps these over older copies
      old.merge(waiting_);
      old.merge(inside_);
      auto take = [&](Time t) {
        auto it = old.find(t);
        if (it == old.end()) {
          throw CheckpointError(fmt::format(
              "a window delta needs the pre-aggregate of batch {}, which no earlier checkpoint "
              "holds",
              t));
        }
        return std::move(it->second);
      };
      std::map<Time, Pre> next_waiting;
      std::map<Time, Pre> next_inside;
      for (Time t : waiting)
        next_waiting.emplace(t, take(t));
      for (Time t : inside)
        next_inside.emplace(t, take(t));
      waiting_ = std::move(next_waiting);
      inside_ = std::move(next_inside);
    }
  }
  void saved() noexcept { added_.clear(); }
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (const auto& [t, pre] : inside_)
      fn(pre);
    for (const auto& [t, pre] : waiting_)
      fn(pre);
  }

 private:
  std::map<Time, Pre> waiting_;
  std::map<Time, Pre> inside_;
  bool tracking_ = false;
  std::vector<Time> added_;  // put since the last checkpoint (when tracking)
};

/// Base of the incremental window forms: sees every parent batch, pre-aggregates it, and
/// advances its window at each of its own batch times.
template <class In, class Out>
class IncrementalWindowNode : public Node<Out>, public CheckpointedState {
 public:
  IncrementalWindowNode(std::string kind, std::shared_ptr<Node<In>> parent, Duration window,
                        Duration slide, std::size_t partitions)
      : Node<Out>(std::move(kind), {parent}, slide, partitions),
        parent_(std::move(parent)),
        window_(window) {}

  [[nodiscard]] bool sees_every_batch() const noexcept override { return true; }
  void on_batch(Time t, Exec& ex) override {
    if (parent_->defined_at(t, ex.zero())) pre_aggregate(t, ex);
    if (this->defined_at(t, ex.zero())) (void)this->get(t, ex);
  }

 protected:
  virtual void pre_aggregate(Time t, Exec& ex) = 0;

  std::shared_ptr<Node<In>> parent_;
  Duration window_;
};

/// reduce_by_window(f, inv_f, w, slide): one running value, updated by the batches entering and
/// leaving; the count of records in the window decides emptiness exactly.
template <class T, class F, class InvF>
class ReduceWindowNode final : public IncrementalWindowNode<T, T> {
 public:
  [[nodiscard]] std::optional<StateDescriptor> state_descriptor() const override {
    return this->template describe_state<T, std::int64_t>();
  }
  [[nodiscard]] std::string save_state(Time /*t*/) const override {
    if constexpr (is_serializable_v<T>) {
      return to_bytes(ledger_.save(), total_, count_);
    } else {
      return {};
    }
  }
  void load_state(std::string_view bytes) override {
    if constexpr (is_serializable_v<T>) {
      std::string ledger;
      from_bytes(bytes, ledger, total_, count_);
      ledger_.load(ledger);
    }
  }

  ReduceWindowNode(std::shared_ptr<Node<T>> parent, F f, InvF inv_f, Duration window,
                   Duration slide)
      : IncrementalWindowNode<T, T>("reduce_by_window", std::move(parent), window, slide, 1),
        f_(std::move(f)),
        inv_f_(std::move(inv_f)) {}

 protected:
  struct Pre {
    std::optional<T> value;
    std::int64_t count = 0;
    template <class Archive>
    void serialize(Archive& ar) {
      ar(value, count);
    }
  };

  void pre_aggregate(Time t, Exec& ex) override {
    auto& parent = *this->parent_;
    parent.prepare(t, ex);
    std::vector<Pre> partials(parent.num_partitions());
    ex.parallel_for(partials.size(), [&](std::size_t p) {
      F f = f_;
      ReduceSink<T, F> sink(f);
      CountingSink counting(sink, partials[p].count);
      parent.stream(t, p, counting);
      partials[p].value = std::move(sink.result());
    });
    Pre pre;
    for (auto& part : partials) {
      pre.count += part.count;
      if (!part.value) continue;
      pre.value = pre.value ? std::invoke(f_, std::move(*pre.value), std::move(*part.value))
                            : std::move(part.value);
    }
    ledger_.put(t, std::move(pre));
  }

  std::shared_ptr<const Batch<T>> compute(Time t, Exec& ex) override {
    ledger_.advance(
        t, this->window_, this->parent_->slide(),
        [&](const Pre& pre) {
          count_ += pre.count;
          if (pre.value)
            total_ = total_ ? std::invoke(f_, std::move(*total_), *pre.value) : pre.value;
        },
        [&](const Pre& pre) {
          count_ -= pre.count;
          if (pre.value && total_) total_ = std::invoke(inv_f_, std::move(*total_), *pre.value);
        });
    if (count_ == 0) total_.reset();
    (void)ex;
    typename Batch<T>::Partitions parts(1);
    if (total_) parts[0].push_back(*total_);
    return std::make_shared<const Batch<T>>(std::move(parts));
  }

 private:
  /// Counts the records passing to the reduce sink.
  class CountingSink final : public ChunkSink<T> {
   public:
    CountingSink(ChunkSink<T>& down, std::int64_t& count) : down_(down), count_(count) {}
    void push(std::span<const T> items) override {
      count_ += static_cast<std::int64_t>(items.size());
      down_.push(items);
    }

   private:
    ChunkSink<T>& down_;
    std::int64_t& count_;
  };

  [[nodiscard]] std::size_t retained_bytes() const override {
    return Node<T>::retained_bytes() + ledger_.batches() * sizeof(Pre);
  }

  F f_;
  InvF inv_f_;
  WindowLedger<Pre> ledger_;
  std::optional<T> total_;
  std::int64_t count_ = 0;
};

/// count_by_window(w, slide): the running sum of per-batch record counts.
template <class T>
class CountWindowNode final : public IncrementalWindowNode<T, std::int64_t> {
 public:
  [[nodiscard]] std::optional<StateDescriptor> state_descriptor() const override {
    return this->template describe_state<std::int64_t>();
  }
  [[nodiscard]] std::string save_state(Time /*t*/) const override {
    return to_bytes(ledger_.save(), total_);
  }
  void load_state(std::string_view bytes) override {
    std::string ledger;
    from_bytes(bytes, ledger, total_);
    ledger_.load(ledger);
  }

  CountWindowNode(std::shared_ptr<Node<T>> parent, Duration window, Duration slide)
      : IncrementalWindowNode<T, std::int64_t>("count_by_window", std::move(parent), window, slide,
                                               1) {}

 protected:
  void pre_aggregate(Time t, Exec& ex) override {
    auto& parent = *this->parent_;
    parent.prepare(t, ex);
    std::vector<std::int64_t> counts(parent.num_partitions(), 0);
    ex.parallel_for(counts.size(), [&](std::size_t p) {
      CountSink<T> sink;
      parent.stream(t, p, sink);
      counts[p] = sink.count();
    });
    std::int64_t n = 0;
    for (auto c : counts)
      n += c;
    ledger_.put(t, n);
  }

  std::shared_ptr<const Batch<std::int64_t>> compute(Time t, Exec& /*ex*/) override {
    ledger_.advance(
        t, this->window_, this->parent_->slide(), [&](std::int64_t n) { total_ += n; },
        [&](std::int64_t n) { total_ -= n; });
    return std::make_shared<const Batch<std::int64_t>>(
        Batch<std::int64_t>::Partitions{std::vector<std::int64_t>{total_}});
  }

 private:
  [[nodiscard]] std::size_t retained_bytes() const override {
    return Node<std::int64_t>::retained_bytes() + ledger_.batches() * sizeof(std::int64_t);
  }

  WindowLedger<std::int64_t> ledger_;
  std::int64_t total_ = 0;
};

/// Per-batch pre-aggregate of a key: the reduced value and how many records made it.
template <class V, class F>
struct CountedReducePolicy {
  F f;
  template <class VV>
  std::pair<V, std::int64_t> create(VV&& v) {
    return {V(std::forward<VV>(v)), 1};
  }
  template <class VV>
  void merge_value(std::pair<V, std::int64_t>& c, VV&& v) {
    c.first = std::invoke(f, std::move(c.first), std::forward<VV>(v));
    ++c.second;
  }
  void merge_combiners(std::pair<V, std::int64_t>& a, std::pair<V, std::int64_t>&& b) {
    a.first = std::invoke(f, std::move(a.first), std::move(b.first));
    a.second += b.second;
  }
};

/// reduce_by_key_and_window's state: per key, the running value and how many records made it
/// (serializable when K and V are).
template <class K, class V>
using KeyedWindowStore =
    KeyedStateStore<K, std::pair<V, std::int64_t>,
                    SaveEntry<std::pair<V, std::int64_t>, is_serializable_v<V>>>;

/// reduce_by_key_and_window(f, inv_f, w, slide[, filter]): per-key running values updated by
/// the batches entering (f) and leaving (inv_f) the window. Per-key record counts make a key
/// with nothing left in the window disappear, so the result equals the plain form's.
/// Checkpoints hold the ledger of per-batch pre-aggregates before the per-key values; a delta,
/// the ledger's delta and the keys the batches entering and leaving the window changed.
template <class K, class V, class F, class InvF, class Filter>
class KeyedWindowNode final
    : public KeyedStatefulNode<IncrementalWindowNode<std::pair<K, V>, std::pair<K, V>>,
                               KeyedWindowStore<K, V>> {
  using Base = KeyedStatefulNode<IncrementalWindowNode<std::pair<K, V>, std::pair<K, V>>,
                                 KeyedWindowStore<K, V>>;
  using Store = KeyedWindowStore<K, V>;
  using Counted = std::pair<V, std::int64_t>;
  using Pre = std::vector<std::vector<std::pair<K, Counted>>>;  // per output partition

 public:
  KeyedWindowNode(std::shared_ptr<Node<std::pair<K, V>>> parent, F f, InvF inv_f,
                  std::optional<Filter> filter, Duration window, Duration slide,
                  std::size_t partitions)
      : Base("reduce_by_key_and_window", std::move(parent), window, slide, partitions),
        f_(std::move(f)),
        inv_f_(std::move(inv_f)),
        filter_(std::move(filter)) {}

  [[nodiscard]] std::optional<StateDescriptor> state_descriptor() const override {
    return this->template describe_state<K, V, std::int64_t>();
  }
  [[nodiscard]] std::string save_state(Time /*t*/) const override {
    if constexpr (Store::serializable) {
      return to_bytes(ledger_.save(), this->store_.snapshot());
    } else {
      return {};
    }
  }
  void load_state(std::string_view bytes) override {
    if constexpr (Store::serializable) {
      std::string ledger;
      typename Store::Snapshot saved;
      from_bytes(bytes, ledger, saved);
      ledger_.load(ledger);
      this->store_.restore(std::move(saved));
    }
  }
  void track_changes() override {
    ledger_.track_changes();
    this->store_.track_changes();
  }
  [[nodiscard]] std::optional<std::string> save_delta(Time /*t*/) const override {
    if constexpr (Store::serializable) {
      auto keys = this->store_.save_delta();
      if (!keys) return std::nullopt;
      return to_bytes(ledger_.save_delta(), *keys);
    } else {
      return std::nullopt;
    }
  }
  void load_delta(std::string_view bytes) override {
    if constexpr (Store::serializable) {
      std::string ledger;
      std::string keys;
      from_bytes(bytes, ledger, keys);
      ledger_.load_delta(ledger);
      this->store_.load_delta(keys);
    }
  }
  void state_saved(Time /*t*/) override {
    ledger_.saved();
    this->store_.state_saved();
  }
  /// The per-batch pre-aggregates of the window, besides the cached output.
  [[nodiscard]] std::size_t retained_bytes() const override {
    std::size_t pre_keys = 0;
    ledger_.for_each([&](const Pre& pre) {
      for (const auto& part : pre)
        pre_keys += part.size();
    });
    return Node<std::pair<K, V>>::retained_bytes() + pre_keys * sizeof(std::pair<K, Counted>);
  }

 protected:
  void pre_aggregate(Time t, Exec& ex) override {
    const std::size_t n = this->num_partitions();
    using Policy = CountedReducePolicy<V, F>;
    // Tables sized for the previous batch's keys: no rehashing (the hint changes no output).
    auto tables =
        shuffle_write<K, V, Counted>(*this->parent_, t, ex, n, Policy{f_}, last_pre_keys_ / n);
    Pre pre(n);
    ex.parallel_for(n, [&](std::size_t q) {
      Policy local{f_};
      auto merge = [&local](Counted& a, Counted&& b) { local.merge_combiners(a, std::move(b)); };
      pre[q] = std::move(shuffle_merge(tables, q, merge).entries());
    });
    last_pre_keys_ = 0;
    for (const auto& part : pre)
      last_pre_keys_ += part.size();
    ledger_.put(t, std::move(pre));
  }

  std::shared_ptr<const Batch<std::pair<K, V>>> compute(Time t, Exec& ex) override {
    std::vector<const Pre*> entering;
    std::vector<const Pre*> leaving;
    std::vector<Pre> left;  // kept alive until applied
    ledger_.advance(
        t, this->window_, this->parent_->slide(), [&](const Pre& pre) { entering.push_back(&pre); },
        [&](Pre& pre) { left.push_back(std::move(pre)); });
    for (const auto& pre : left)
      leaving.push_back(&pre);
    typename Batch<std::pair<K, V>>::Partitions parts(this->num_partitions());
    ex.parallel_for(parts.size(), [&](std::size_t q) {
      auto& state = this->store_.table(q);
      F f = f_;
      InvF inv_f = inv_f_;
      for (const Pre* pre : leaving) {
        for (const auto& [k, c] : (*pre)[q]) {
          auto it = state.find(k);
          if (it == state.end()) continue;
          this->store_.mark(q, k);
          it->second.second -= c.second;
          if (it->second.second == 0) {
            state.erase(it);
          } else {
            it->second.first = std::invoke(inv_f, std::move(it->second.first), c.first);
          }
        }
      }
      for (const Pre* pre : entering) {
        for (const auto& [k, c] : (*pre)[q]) {
          this->store_.mark(q, k);
          auto [it, inserted] = state.try_emplace(k, c);
          if (!inserted) {
            it->second.first = std::invoke(f, std::move(it->second.first), c.first);
            it->second.second += c.second;
          }
        }
      }
      auto& out = parts[q];
      out.reserve(state.size());
      for (const auto& [k, c] : state) {
        out.emplace_back(k, c.first);
        if (filter_ && !std::invoke(*filter_, std::as_const(out.back()))) out.pop_back();
      }
    });
    return std::make_shared<const Batch<std::pair<K, V>>>(std::move(parts));
  }

 private:
  F f_;
  InvF inv_f_;
  std::optional<Filter> filter_;
  WindowLedger<Pre> ledger_;
  std::size_t last_pre_keys_ = 0;  // keys of the last pre-aggregate (batch thread)
};

}  // namespace rill::detail
