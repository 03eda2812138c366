#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "rill/checkpoint/detail/checkpointed_state.hpp"
#include "rill/core/serialization.hpp"
#include "rill/core/time.hpp"
#include "rill/dstream/detail/keyed_state.hpp"
#include "rill/dstream/detail/late_rows.hpp"
#include "rill/dstream/detail/node.hpp"
#include "rill/dstream/detail/stateful.hpp"
#include "rill/dstream/detail/watermark_tracker.hpp"

/// Event-time interval joins of two streams of pairs (Spark's StreamingSymmetricHashJoinExec
/// with a time-range condition; Flink's interval join).
namespace rill::detail {

/// One row an interval join keeps for a key on one side: its value, its event time (ms since the
/// epoch) and whether it has matched a row of the other side (outer joins emit it with nullopt
/// when it leaves the state unmatched).
template <class V>
struct BufferedRow {
  V value;
  Time time;
  bool matched = false;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(value, time, matched);
  }
};

/// The rows an interval join keeps, per side: key -> its rows in arrival order.
template <class K, class V>
using JoinSideStore = KeyedStateStore<K, std::vector<BufferedRow<V>>,
                                      SaveEntry<std::vector<BufferedRow<V>>, is_serializable_v<V>>>;

/// The output row of an interval join: pair<K, pair<L, R>>, with L = V or optional<V> (rows of
/// the left side that may be emitted unmatched) and R = W or optional<W>.
template <class K, class V, class W, bool KeepLeft, bool KeepRight>
struct IntervalJoinOut {
  using L = std::conditional_t<KeepRight, std::optional<V>, V>;
  using R = std::conditional_t<KeepLeft, std::optional<W>, W>;
  using type = std::pair<K, std::pair<L, R>>;
};

/// l.interval_join(r, lower, upper) and its outer forms.
///
/// Batch t (Spark's StreamingSymmetricHashJoinExec, processPartitions, in its order):
/// 1. the new rows of a side with a watermark with `time <= wm(t - interval)` are dropped as
///    late;
/// 2. each new left row is matched against the right rows kept from earlier batches and then
///    kept; each new right row is matched against all the left rows kept (earlier and new) and
///    then kept: every matching pair is emitted once, in the batch of the later of its rows.
///    Rows (tl, tr) match when `tl + lower <= tr <= tl + upper`;
/// 3. while both sides have watermarks and wm(t) is set, left rows with `wm(t) > tl + upper` and
///    right rows with `wm(t) > tr - lower` leave the state (a row of a later batch t' has a time
///    above wm(t' - interval) >= wm(t), so none can match them); an outer side emits those
///    that never matched, with nullopt for the other side.
/// Output partition q holds the keys of partition q: the rows of step 2 in arrival order, then
/// the unmatched rows of step 3. Two KeyedStateStores, one per side; a delta holds the keys that
/// got rows, had a row matched (outer sides only: the flag is kept for them) or lost rows.
template <class K, class V, class W, class LTimeOf, class RTimeOf, bool KeepLeft, bool KeepRight>
class IntervalJoinNode final
    : public StatefulNode<typename IntervalJoinOut<K, V, W, KeepLeft, KeepRight>::type> {
 public:
  using Out = typename IntervalJoinOut<K, V, W, KeepLeft, KeepRight>::type;
  using LeftStore = JoinSideStore<K, V>;
  using RightStore = JoinSideStore<K, W>;
  static constexpr bool serializable = LeftStore::serializable && RightStore::serializable;

  struct Sides {
    bool left_watermark;
    bool right_watermark;
  };

  IntervalJoinNode(const char* kind, std::shared_ptr<Node<std::pair<K, V>>> left,
                   std::shared_ptr<Node<std::pair<K, W>>> right, LTimeOf left_time,
                   RTimeOf right_time, Duration lower, Duration upper, Sides sides,
                   std::shared_ptr<WatermarkTracker> tracker, std::size_t partitions)
      : StatefulNode<Out>(kind, {left, right}, left->slide(), partitions),
        left_(std::move(left)),
        right_(std::move(right)),
        left_time_(std::move(left_time)),
        right_time_(std::move(right_time)),
        lower_(lower),
        upper_(upper),
        sides_(sides),
        tracker_(std::move(tracker)),
        left_rows_(partitions, 0),
        right_rows_(partitions, 0) {}

  [[nodiscard]] std::optional<StateDescriptor> state_descriptor() const override {
    return this->template describe_state<K, V, W, Time>();
  }
  /// keys: the rows both sides keep; late_records: the rows of both sides dropped as late.
  [[nodiscard]] std::optional<StateInfo> state_info() const override {
    std::int64_t left = 0;
    std::int64_t right = 0;
    for (std::size_t q = 0; q < left_rows_.size(); ++q) {
      left += left_rows_[q];
      right += right_rows_[q];
    }
    const std::int64_t bytes = left * static_cast<std::int64_t>(sizeof(BufferedRow<V>)) +
                               right * static_cast<std::int64_t>(sizeof(BufferedRow<W>)) +
                               left_store_.keys() * LeftStore::bytes_per_key +
                               right_store_.keys() * RightStore::bytes_per_key;
    return StateInfo{this->name(), left + right, bytes, late_records_};
  }

  // CheckpointedState: both stores, left then right.
  [[nodiscard]] std::string save_state(Time /*t*/) const override {
    if constexpr (serializable) {
      return to_bytes(left_store_.snapshot(), right_store_.snapshot());
    } else {
      return {};
    }
  }
  void load_state(std::string_view bytes) override {
    if constexpr (serializable) {
      typename LeftStore::Snapshot left;
      typename RightStore::Snapshot right;
      from_bytes(bytes, left, right);
      left_store_.restore(std::move(left));
      right_store_.restore(std::move(right));
      recount();
    }
  }
  void track_changes() override {
    left_store_.track_changes();
    right_store_.track_changes();
  }
  [[nodiscard]] std::optional<std::string> save_delta(Time /*t*/) const override {
    if constexpr (serializable) {
      auto left = left_store_.save_delta();
      auto right = right_store_.save_delta();
      if (!left || !right) return std::nullopt;
      return to_bytes(*left, *right);
    } else {
      return std::nullopt;
    }
  }
  void load_delta(std::string_view bytes) override {
    if constexpr (serializable) {
      std::string left;
      std::string right;
      from_bytes(bytes, left, right);
      left_store_.load_delta(left);
      right_store_.load_delta(right);
      recount();
    }
  }
  void state_saved(Time /*t*/) override {
    left_store_.state_saved();
    right_store_.state_saved();
  }
  void clear_done(Time t) override {
    StatefulNode<Out>::clear_done(t);
    left_late_.forget(t);
    right_late_.forget(t);
  }

  /// Keeps each batch's late rows of both sides for left_late_rows() / right_late_rows()
  /// (otherwise they are only counted). Before start(), on the graph-building thread.
  void keep_late_rows() noexcept { keep_late_ = true; }
  [[nodiscard]] const LateRows<std::pair<K, V>>& left_late_rows() const noexcept {
    return left_late_;
  }
  [[nodiscard]] const LateRows<std::pair<K, W>>& right_late_rows() const noexcept {
    return right_late_;
  }

 protected:
  std::shared_ptr<const Batch<Out>> compute(Time t, Exec& ex) override {
    const std::size_t n = this->num_partitions();
    const std::optional<Time> late = tracker_->late_bound();
    const std::optional<Time> left_late = sides_.left_watermark ? late : std::nullopt;
    const std::optional<Time> right_late = sides_.right_watermark ? late : std::nullopt;
    const std::optional<Time> wm =
        sides_.left_watermark && sides_.right_watermark ? tracker_->in_force() : std::nullopt;
    auto left_new = route_by_key(*left_, t, ex, n);
    auto right_new = route_by_key(*right_, t, ex, n);

    typename Batch<Out>::Partitions parts(n);
    std::vector<std::int64_t> late_counts(n, 0);
    typename Batch<std::pair<K, V>>::Partitions left_dropped(keep_late_ ? n : 0);
    typename Batch<std::pair<K, W>>::Partitions right_dropped(keep_late_ ? n : 0);
    ex.parallel_for(n, [&](std::size_t q) {
      auto& lt = left_store_.table(q);
      auto& rt = right_store_.table(q);
      auto& out = parts[q];
      std::int64_t dropped = 0;
      // New left rows against the right rows of earlier batches, then kept.
      for (auto& from_partition : left_new) {
        for (auto& row : from_partition[q]) {
          const Time tl = std::invoke(left_time_, std::as_const(row));
          if (left_late && tl <= *left_late) {
            ++dropped;
            if (keep_late_) left_dropped[q].push_back(std::move(row));
            continue;
          }
          bool matched = false;
          if (auto it = rt.find(row.first); it != rt.end()) {
            for (auto& r : it->second) {
              if (!(tl + lower_ <= r.time && r.time <= tl + upper_)) continue;
              out.push_back(joined(row.first, row.second, r.value));
              matched = true;
              if constexpr (KeepRight) {
                if (!r.matched) {
                  r.matched = true;
                  right_store_.mark(q, row.first);
                }
              }
            }
          }
          left_store_.mark(q, row.first);
          lt[std::move(row.first)].push_back(BufferedRow<V>{std::move(row.second), tl, matched});
          ++left_rows_[q];
        }
      }
      // New right rows against every left row kept, this batch's included, then kept.
      for (auto& from_partition : right_new) {
        for (auto& row : from_partition[q]) {
          const Time tr = std::invoke(right_time_, std::as_const(row));
          if (right_late && tr <= *right_late) {
            ++dropped;
            if (keep_late_) right_dropped[q].push_back(std::move(row));
            continue;
          }
          bool matched = false;
          if (auto it = lt.find(row.first); it != lt.end()) {
            for (auto& l : it->second) {
              if (!(l.time + lower_ <= tr && tr <= l.time + upper_)) continue;
              out.push_back(joined(row.first, l.value, row.second));
              matched = true;
              if constexpr (KeepLeft) {
                if (!l.matched) {
                  l.matched = true;
                  left_store_.mark(q, row.first);
                }
              }
            }
          }
          right_store_.mark(q, row.first);
          rt[std::move(row.first)].push_back(BufferedRow<W>{std::move(row.second), tr, matched});
          ++right_rows_[q];
        }
      }
      late_counts[q] = dropped;
      if (!wm) return;
      // Rows no later row can match leave; an outer side emits those that never matched.
      const Time bound = *wm;
      evict<KeepLeft>(
          lt, left_store_, q, left_rows_[q],
          [&](const BufferedRow<V>& r) { return bound > r.time + upper_; },
          [&](const auto& k, auto& r) {
            out.push_back(Out(k, typename Out::second_type(std::move(r.value), std::nullopt)));
          });
      evict<KeepRight>(
          rt, right_store_, q, right_rows_[q],
          [&](const BufferedRow<W>& r) { return bound > r.time - lower_; },
          [&](const auto& k, auto& r) {
            out.push_back(Out(k, typename Out::second_type(std::nullopt, std::move(r.value))));
          });
    });
    late_records_ = 0;
    for (std::int64_t c : late_counts)
      late_records_ += c;
    if (keep_late_) {
      left_late_.put(t, std::move(left_dropped));
      right_late_.put(t, std::move(right_dropped));
    }
    return std::make_shared<const Batch<Out>>(std::move(parts));
  }

 private:
  static Out joined(const K& k, const V& v, const W& w) {
    return Out(k, typename Out::second_type(v, w));
  }

  /// Removes the rows `expired` says leave, passing those that never matched to `unmatched`
  /// when the side is kept (outer); keys left without rows go.
  template <bool Keep, class Table, class Store, class Expired, class Unmatched>
  static void evict(Table& table, Store& store, std::size_t q, std::int64_t& rows,
                    const Expired& expired, const Unmatched& unmatched) {
    boost::unordered::erase_if(table, [&](auto& entry) {
      auto& kept = entry.second;
      std::size_t w = 0;
      for (std::size_t i = 0; i < kept.size(); ++i) {
        if (expired(kept[i])) {
          if constexpr (Keep) {
            if (!kept[i].matched) unmatched(entry.first, kept[i]);
          }
          continue;
        }
        if (w != i) kept[w] = std::move(kept[i]);
        ++w;
      }
      if (w == kept.size()) return false;
      rows -= static_cast<std::int64_t>(kept.size() - w);
      kept.erase(kept.begin() + static_cast<std::ptrdiff_t>(w), kept.end());
      store.mark(q, entry.first);
      return w == 0;
    });
  }

  void recount() {
    for (std::size_t q = 0; q < left_rows_.size(); ++q) {
      left_rows_[q] = 0;
      for (const auto& [k, rows] : left_store_.table(q))
        left_rows_[q] += static_cast<std::int64_t>(rows.size());
      right_rows_[q] = 0;
      for (const auto& [k, rows] : right_store_.table(q))
        right_rows_[q] += static_cast<std::int64_t>(rows.size());
    }
  }

  std::shared_ptr<Node<std::pair<K, V>>> left_;
  std::shared_ptr<Node<std::pair<K, W>>> right_;
  LTimeOf left_time_;
  RTimeOf right_time_;
  Duration lower_;
  Duration upper_;
  Sides sides_;
  std::shared_ptr<WatermarkTracker> tracker_;
  LeftStore left_store_{this->num_partitions()};
  RightStore right_store_{this->num_partitions()};
  std::vector<std::int64_t> left_rows_;   // rows kept per partition (partition q's task)
  std::vector<std::int64_t> right_rows_;  // rows kept per partition (partition q's task)
  std::int64_t late_records_ = 0;         // of the last batch (batch thread)
  bool keep_late_ = false;                // set before start()
  LateRows<std::pair<K, V>> left_late_;   // with keep_late_: each batch's late left rows
  LateRows<std::pair<K, W>> right_late_;  // and right rows, by join partition
};

/// An interval join's left_late_records() (`Left`) or right_late_records(): the rows of that
/// side the join `Op` dropped as late, in the batch that dropped them, partitioned by key as the
/// join routes them.
template <class Row, class Op, bool Left>
class IntervalJoinLateNode final : public Node<Row> {
 public:
  explicit IntervalJoinLateNode(std::shared_ptr<Op> op)
      : Node<Row>(Left ? "left_late_records" : "right_late_records", {op}, op->slide(),
                  op->num_partitions()),
        op_(std::move(op)) {
    op_->keep_late_rows();
  }

 protected:
  std::shared_ptr<const Batch<Row>> compute(Time t, Exec& ex) override {
    (void)op_->get(t, ex);
    if constexpr (Left) {
      return op_->left_late_rows().get(t, this->num_partitions());
    } else {
      return op_->right_late_rows().get(t, this->num_partitions());
    }
  }

 private:
  std::shared_ptr<Op> op_;
};

}  // namespace rill::detail
