#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "rill/core/serialization.hpp"
#include "rill/dstream/detail/keyed_state.hpp"
#include "rill/dstream/detail/late_rows.hpp"
#include "rill/dstream/detail/stateful.hpp"
#include "rill/dstream/detail/watermark_tracker.hpp"
#include "rill/dstream/output_mode.hpp"
#include "rill/dstream/time_window.hpp"
#include "rill/dstream/window_spec.hpp"

/// aggregate_by_window over session windows (Structured Streaming's
/// `groupBy(session_window(...), key).agg(...)` with a watermark, as run by Spark's
/// MergingSessionsExec and SessionWindowStateStoreSaveExec; Flink's merging window assigner with
/// an AggregateFunction): per key, the open sessions with an accumulator each.
namespace rill::detail {

/// One session of a key: its window `[start, end)` (ms since the epoch; end is the largest
/// `t + gap` of its rows) and the accumulator of its rows.
template <class Acc>
struct Session {
  TimeWindow window;
  Acc acc;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(window, acc);
  }
};

/// A key's sessions, sorted by start, pairwise neither overlapping nor touching: what the
/// keyed-state store keeps per key.
template <class Acc>
using SessionList = std::vector<Session<Acc>>;

/// A row routed to its key's state partition, with its key and the session it starts.
template <class K, class T>
struct SessionRow {
  K key;
  TimeWindow session;
  T row;
};

/// aggregate_by_window(spec, key_of, agg, mode) for SessionWindows (fixed or per-row gap), in
/// append or complete mode (update mode is refused by the caller, as Spark refuses it). State:
/// per key, the sorted list of sessions with their accumulators.
///
/// Batch t, as Spark >= 3.4 runs a session aggregation: (1) a row whose gap is <= 0 (per-row
/// gaps only) and, in append mode, a row whose own session ends at or before wm(t - interval)
/// (`t + gap <= late bound`) is late: dropped, counted and put in late_records(). (2) Each other
/// row starts the session `[t, t + gap)`; the key's new sessions (in source-partition order, then
/// arrival order) and its stored sessions are merged (merge_sessions): overlapping or touching
/// sessions become one, so a row can bridge stored sessions. The accumulators merge in that order
/// (stored sessions by start, then the batch's rows), so rill::agg::collect lists a session's
/// values batch by batch. (3) append: the sessions with `end <= wm(t)` are emitted and leave the
/// state; complete: every session is emitted and none leaves. A delta checkpoint holds the keys
/// whose sessions changed.
///
/// A session emitted in append mode is gone: a later row that is not late (its own session ends
/// after the previous watermark) but would have touched it starts a new session, as in Spark.
template <class T, class K, class KeyOf, class TimeOf, class Spec, class Agg>
class SessionAggregateNode final
    : public KeyedStatefulNode<
          StatefulNode<Windowed<K, std::remove_cvref_t<decltype(std::declval<const Agg&>().result(
                                       std::declval<const typename Agg::accumulator&>()))>>>,
          KeyedStateStore<K, SessionList<typename Agg::accumulator>,
                          SaveEntry<SessionList<typename Agg::accumulator>,
                                    is_serializable_v<typename Agg::accumulator>>>>,
      public HasLateRows<T> {
 public:
  using Acc = typename Agg::accumulator;
  using R =
      std::remove_cvref_t<decltype(std::declval<const Agg&>().result(std::declval<const Acc&>()))>;
  using Out = Windowed<K, R>;
  using Store =
      KeyedStateStore<K, SessionList<Acc>, SaveEntry<SessionList<Acc>, is_serializable_v<Acc>>>;
  using Base = KeyedStatefulNode<StatefulNode<Out>, Store>;

  SessionAggregateNode(std::shared_ptr<Node<T>> parent, Spec spec, KeyOf key_of, TimeOf time_of,
                       Agg agg, OutputMode mode, std::shared_ptr<WatermarkTracker> watermarks,
                       std::size_t partitions)
      : Base("aggregate_by_window", {parent}, parent->slide(), partitions),
        parent_(std::move(parent)),
        spec_(std::move(spec)),
        key_of_(std::move(key_of)),
        time_of_(std::move(time_of)),
        agg_(std::move(agg)),
        mode_(mode),
        watermarks_(std::move(watermarks)) {}

  [[nodiscard]] std::optional<StateDescriptor> state_descriptor() const override {
    return this->template describe_state<K, Acc, TimeWindow>();
  }
  [[nodiscard]] std::optional<StateInfo> state_info() const override {
    StateInfo info = this->store_.info(this->name());
    info.keys = sessions_;
    info.bytes = sessions_ * static_cast<std::int64_t>(sizeof(K) + sizeof(Session<Acc>));
    info.late_records = this->late_.last_count();
    return info;
  }
  void clear_done(Time t) override {
    Base::clear_done(t);
    this->late_.forget(t);
  }
  /// The partitions of the input (late_records() keeps them).
  [[nodiscard]] std::size_t input_partitions() const noexcept { return parent_->num_partitions(); }

 protected:
  std::shared_ptr<const Batch<Out>> compute(Time t, Exec& ex) override {
    const std::optional<Time> late_bound =
        mode_ == OutputMode::complete ? std::nullopt : watermarks_->late_bound();
    const std::optional<Time> wm = watermarks_->in_force();
    const std::size_t n = this->num_partitions();
    const std::size_t in_parts = parent_->num_partitions();
    typename Batch<T>::Partitions late(in_parts);
    std::vector<Pending> pending(n);

    // The rows go to the pending sessions of their state partitions (straight from the input
    // when there is one).
    stream_into_state<SessionRow<K, T>>(
        *parent_, t, ex, n,
        [&](std::size_t p) { return DirectSink(*this, late_bound, late[p], pending[0]); },
        [&](std::size_t p, std::vector<std::vector<SessionRow<K, T>>>& buckets) {
          return RouteSink(*this, late_bound, late[p], buckets);
        },
        [&](std::size_t q, std::span<SessionRow<K, T>> rows) {
          for (auto& r : rows)
            add(pending[q], r.key, r.session, r.row);
        });

    typename Batch<Out>::Partitions parts(n);
    std::vector<std::int64_t> sessions(n, 0);
    ex.parallel_for(n, [&](std::size_t q) {
      merge_pending(q, pending[q]);
      emit_and_evict(q, wm, parts[q], sessions[q]);
    });
    sessions_ = 0;
    for (std::size_t q = 0; q < n; ++q)
      sessions_ += sessions[q];
    this->late_.put(t, std::move(late));
    return std::make_shared<const Batch<Out>>(std::move(parts));
  }

 private:
  /// A state partition's new sessions of this batch, per key, in arrival order.
  using Pending = boost::unordered_flat_map<K, SessionList<Acc>, boost::hash<K>>;

  /// The session the row starts, or nullopt when it is late (or its gap is <= 0).
  [[nodiscard]] std::optional<TimeWindow> session_of(const T& row,
                                                     const std::optional<Time>& late_bound) const {
    const std::optional<TimeWindow> s = spec_.session_of(row, std::invoke(time_of_, row));
    if (!s || (late_bound && s->end <= *late_bound)) return std::nullopt;
    return s;
  }

  /// Adds a row's session to key's pending sessions. A row whose session overlaps or touches the
  /// key's last pending session joins it: merge_sessions would merge them anyway, in this order.
  void add(Pending& pending, const K& key, const TimeWindow& session, const T& row) const {
    SessionList<Acc>& list = pending[key];
    if (!list.empty()) {
      Session<Acc>& last = list.back();
      if (session.start <= last.window.end && last.window.start <= session.end) {
        last.window.start = std::min(last.window.start, session.start);
        last.window.end = std::max(last.window.end, session.end);
        agg_.add(last.acc, row);
        return;
      }
    }
    list.push_back(Session<Acc>{session, agg_.zero()});
    agg_.add(list.back().acc, row);
  }

  /// Step (2) for partition q: each key's new sessions merged with its stored ones.
  void merge_pending(std::size_t q, Pending& pending) {
    auto& table = this->store_.table(q);
    for (auto& [k, fresh] : pending) {
      auto it = table.find(k);
      if (it == table.end()) {
        it = table.try_emplace(k).first;
        it->second = std::move(fresh);
      } else {
        SessionList<Acc>& list = it->second;
        list.insert(list.end(), std::make_move_iterator(fresh.begin()),
                    std::make_move_iterator(fresh.end()));
      }
      merge_sessions(
          it->second, [](Session<Acc>& s) -> TimeWindow& { return s.window; },
          [this](Session<Acc>& into, Session<Acc>&& from) { agg_.merge(into.acc, from.acc); });
      this->store_.mark(q, k);
    }
  }

  /// Step (3) for partition q; counts the sessions left.
  void emit_and_evict(std::size_t q, const std::optional<Time>& wm, std::vector<Out>& out,
                      std::int64_t& sessions) {
    auto& table = this->store_.table(q);
    if (mode_ == OutputMode::complete) {
      for (const auto& [k, list] : table) {
        for (const Session<Acc>& s : list)
          out.push_back(Out{s.window, k, agg_.result(s.acc)});
        sessions += static_cast<std::int64_t>(list.size());
      }
      return;
    }
    std::vector<K> emptied;
    for (auto& [k, list] : table) {
      if (wm) {
        // Sorted by start and disjoint, so ends ascend too: the closed sessions are a prefix.
        std::size_t closed = 0;
        while (closed < list.size() && list[closed].window.end <= *wm) {
          out.push_back(Out{list[closed].window, k, agg_.result(list[closed].acc)});
          ++closed;
        }
        if (closed > 0) {
          list.erase(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(closed));
          this->store_.mark(q, k);
          if (list.empty()) {
            emptied.push_back(k);
            continue;
          }
        }
      }
      sessions += static_cast<std::int64_t>(list.size());
    }
    for (const K& k : emptied)
      table.erase(k);
  }

  /// Streams an input partition straight into the pending sessions (one state partition).
  class DirectSink final : public ChunkSink<T> {
   public:
    DirectSink(const SessionAggregateNode& node, const std::optional<Time>& late_bound,
               std::vector<T>& late, Pending& pending)
        : node_(node), late_bound_(late_bound), late_(late), pending_(pending) {}
    void push(std::span<const T> items) override {
      for (const T& row : items) {
        const std::optional<TimeWindow> s = node_.session_of(row, late_bound_);
        if (!s) {
          late_.push_back(row);
          continue;
        }
        node_.add(pending_, std::invoke(node_.key_of_, row), *s, row);
      }
    }

   private:
    const SessionAggregateNode& node_;
    const std::optional<Time>& late_bound_;
    std::vector<T>& late_;
    Pending& pending_;
  };

  /// Routes an input partition's rows to their keys' state partitions.
  class RouteSink final : public ChunkSink<T> {
   public:
    RouteSink(const SessionAggregateNode& node, const std::optional<Time>& late_bound,
              std::vector<T>& late, std::vector<std::vector<SessionRow<K, T>>>& out)
        : node_(node), late_bound_(late_bound), late_(late), out_(out) {}
    void push(std::span<const T> items) override {
      for (const T& row : items) {
        const std::optional<TimeWindow> s = node_.session_of(row, late_bound_);
        if (!s) {
          late_.push_back(row);
          continue;
        }
        K key = std::invoke(node_.key_of_, row);
        const std::size_t q = partition_of(key, out_.size());
        out_[q].push_back(SessionRow<K, T>{std::move(key), *s, row});
      }
    }

   private:
    const SessionAggregateNode& node_;
    const std::optional<Time>& late_bound_;
    std::vector<T>& late_;
    std::vector<std::vector<SessionRow<K, T>>>& out_;
  };

  std::shared_ptr<Node<T>> parent_;
  Spec spec_;
  KeyOf key_of_;
  TimeOf time_of_;
  Agg agg_;
  OutputMode mode_;
  std::shared_ptr<WatermarkTracker> watermarks_;
  std::int64_t sessions_ = 0;  // sessions after the last batch's eviction
};

}  // namespace rill::detail
