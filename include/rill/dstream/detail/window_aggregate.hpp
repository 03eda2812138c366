#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "rill/dstream/detail/keyed_state.hpp"
#include "rill/dstream/detail/late_rows.hpp"
#include "rill/dstream/detail/stateful.hpp"
#include "rill/dstream/detail/watermark_tracker.hpp"
#include "rill/dstream/output_mode.hpp"
#include "rill/dstream/time_window.hpp"
#include "rill/dstream/window_spec.hpp"

/// aggregate_by_window over tumbling and sliding event-time windows (Structured Streaming's
/// `groupBy(window(...), key).agg(...)` with a watermark, Flink's window aggregate with an
/// AggregateFunction): incremental, by panes.
namespace rill::detail {

/// One pane of a key: its start (ms since the epoch; panes are TimeWindows::pane() long) and the
/// accumulator of the key's rows in it.
template <class Acc>
struct Pane {
  Time start;
  Acc acc;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(start, acc);
  }
};

/// A key's panes, sorted by start: what the keyed-state store keeps per key.
template <class Acc>
using PaneList = std::vector<Pane<Acc>>;

/// A row routed to its key's output partition, with its key and pane.
template <class K, class T>
struct RoutedRow {
  K key;
  Time pane;
  T row;
};

/// aggregate_by_window(spec, key_of, agg, mode) for TimeWindows. State: per key, the panes
/// (`gcd(size, slide)` ms of event time) holding an accumulator of the key's rows; a row goes
/// into one pane with one add(), and a window's value merges the window's panes (size / pane of
/// them) when it is emitted: the update path never goes over rows again.
///
/// Batch t, as Spark >= 3.4 runs a stateful aggregation: (1) a row whose windows all ended at or
/// before wm(t - interval) (`last window's end <= late bound`) is late: dropped, counted, and put
/// in late_records(); in complete mode nothing is late. (2) the other rows are added to their
/// panes (rows reach a partition's state in source-partition order, then arrival order).
/// (3) append: emits each (window, key) with `emitted < end <= wm(t)`, where `emitted` is the
/// watermark of the last emission; update: each (window, key) that got a row in a window still
/// open for it (`end > late bound`); complete: every (window, key). (4) append and update evict
/// the panes whose last window ended (`end <= wm(t)`). A delta checkpoint holds the keys whose
/// panes changed, and the watermark of the last emission.
template <class T, class K, class KeyOf, class TimeOf, class Agg>
class TimeWindowAggregateNode final
    : public KeyedStatefulNode<
          StatefulNode<Windowed<K, std::remove_cvref_t<decltype(std::declval<const Agg&>().result(
                                       std::declval<const typename Agg::accumulator&>()))>>>,
          KeyedStateStore<K, PaneList<typename Agg::accumulator>>>,
      public HasLateRows<T> {
 public:
  using Acc = typename Agg::accumulator;
  using R =
      std::remove_cvref_t<decltype(std::declval<const Agg&>().result(std::declval<const Acc&>()))>;
  using Out = Windowed<K, R>;
  using Store = KeyedStateStore<K, PaneList<Acc>>;
  using Base = KeyedStatefulNode<StatefulNode<Out>, Store>;

  TimeWindowAggregateNode(std::shared_ptr<Node<T>> parent, TimeWindows spec, KeyOf key_of,
                          TimeOf time_of, Agg agg, OutputMode mode,
                          std::shared_ptr<WatermarkTracker> watermarks, std::size_t partitions)
      : Base("aggregate_by_window", {parent}, parent->slide(), partitions),
        parent_(std::move(parent)),
        spec_(spec),
        key_of_(std::move(key_of)),
        time_of_(std::move(time_of)),
        agg_(std::move(agg)),
        mode_(mode),
        watermarks_(std::move(watermarks)) {}

  [[nodiscard]] std::optional<StateDescriptor> state_descriptor() const override {
    return this->template describe_state<K, Acc, Time>();
  }
  [[nodiscard]] std::string save_state(Time /*t*/) const override {
    return this->store_.save(emitted_);
  }
  void load_state(std::string_view bytes) override { this->store_.load(bytes, emitted_); }
  [[nodiscard]] std::optional<std::string> save_delta(Time /*t*/) const override {
    auto delta = this->store_.save_delta();
    if (!delta) return std::nullopt;
    return to_bytes(*delta, emitted_);
  }
  void load_delta(std::string_view bytes) override {
    std::string delta;
    from_bytes(bytes, delta, emitted_);
    this->store_.load_delta(delta);
  }
  [[nodiscard]] std::optional<StateInfo> state_info() const override {
    StateInfo info = this->store_.info(this->name());
    info.keys = entries_;
    info.bytes = panes_ * static_cast<std::int64_t>(sizeof(K) + sizeof(Pane<Acc>));
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
    const bool complete = mode_ == OutputMode::complete;
    const std::optional<Time> late_bound = complete ? std::nullopt : watermarks_->late_bound();
    // Windows that ended by the last emission are closed too (they were emitted and evicted).
    std::optional<Time> closed = late_bound;
    if (emitted_ && (!closed || *emitted_ > *closed)) closed = emitted_;
    const std::optional<Time> wm = watermarks_->in_force();
    const std::size_t n = this->num_partitions();
    const std::size_t in_parts = parent_->num_partitions();
    typename Batch<T>::Partitions late(in_parts);
    std::vector<Touched> touched(n);

    parent_->prepare(t, ex);
    if (n == 1) {
      // One state partition: rows go straight from the input into the state, no routing.
      for (std::size_t p = 0; p < in_parts; ++p) {
        DirectSink sink(*this, closed, late[p], touched[0]);
        parent_->stream(t, p, sink);
      }
    } else {
      std::vector<std::vector<std::vector<RoutedRow<K, T>>>> routed(in_parts);
      ex.parallel_for(in_parts, [&](std::size_t p) {
        routed[p].resize(n);
        RouteSink sink(*this, closed, late[p], routed[p]);
        parent_->stream(t, p, sink);
      });
      ex.parallel_for(n, [&](std::size_t q) {
        for (auto& from : routed) {
          for (auto& r : from[q])
            apply(q, r.key, r.pane, r.row, touched[q]);
          std::vector<RoutedRow<K, T>>().swap(from[q]);
        }
      });
    }

    typename Batch<Out>::Partitions parts(n);
    std::vector<std::int64_t> entries(n, 0);
    std::vector<std::int64_t> panes(n, 0);
    ex.parallel_for(n, [&](std::size_t q) {
      emit_and_evict(q, closed, wm, touched[q], parts[q], entries[q], panes[q]);
    });
    entries_ = 0;
    panes_ = 0;
    for (std::size_t q = 0; q < n; ++q) {
      entries_ += entries[q];
      panes_ += panes[q];
    }
    if (mode_ == OutputMode::append && wm && (!emitted_ || *wm > *emitted_)) emitted_ = wm;
    this->late_.put(t, std::move(late));
    return std::make_shared<const Batch<Out>>(std::move(parts));
  }

 private:
  /// Update mode: the (key, pane) pairs that received a row in this batch, per partition.
  using Touched = std::vector<std::pair<K, Time>>;

  /// True when the row at event time e is late: every window holding it ended by `closed`.
  [[nodiscard]] bool late(Time e, const std::optional<Time>& closed) const noexcept {
    return closed && spec_.last_window(e).end <= *closed;
  }

  /// Adds `row` to key's pane in partition q's state.
  void apply(std::size_t q, const K& key, Time pane, const T& row, Touched& touched) {
    auto& table = this->store_.table(q);
    auto it = table.find(key);
    if (it == table.end()) it = table.try_emplace(key).first;
    PaneList<Acc>& list = it->second;
    // Panes are sorted by start; a batch's rows mostly land in the newest panes.
    auto pos = list.end();
    while (pos != list.begin() && std::prev(pos)->start > pane)
      --pos;
    if (pos != list.begin() && std::prev(pos)->start == pane) {
      agg_.add(std::prev(pos)->acc, row);
    } else {
      pos = list.insert(pos, Pane<Acc>{pane, agg_.zero()});
      agg_.add(pos->acc, row);
    }
    this->store_.mark(q, key);
    if (mode_ == OutputMode::update) touched.emplace_back(key, pane);
  }

  /// Streams an input partition straight into the state (one state partition).
  class DirectSink final : public ChunkSink<T> {
   public:
    DirectSink(TimeWindowAggregateNode& node, const std::optional<Time>& closed,
               std::vector<T>& late, Touched& touched)
        : node_(node), closed_(closed), late_(late), touched_(touched) {}
    void push(std::span<const T> items) override {
      for (const T& row : items) {
        const Time e = std::invoke(node_.time_of_, row);
        if (node_.late(e, closed_)) {
          late_.push_back(row);
          continue;
        }
        node_.apply(0, std::invoke(node_.key_of_, row), node_.spec_.pane_start(e), row, touched_);
      }
    }

   private:
    TimeWindowAggregateNode& node_;
    const std::optional<Time>& closed_;
    std::vector<T>& late_;
    Touched& touched_;
  };

  /// Routes an input partition's rows to their keys' state partitions.
  class RouteSink final : public ChunkSink<T> {
   public:
    RouteSink(TimeWindowAggregateNode& node, const std::optional<Time>& closed,
              std::vector<T>& late, std::vector<std::vector<RoutedRow<K, T>>>& out)
        : node_(node), closed_(closed), late_(late), out_(out) {}
    void push(std::span<const T> items) override {
      for (const T& row : items) {
        const Time e = std::invoke(node_.time_of_, row);
        if (node_.late(e, closed_)) {
          late_.push_back(row);
          continue;
        }
        K key = std::invoke(node_.key_of_, row);
        const std::size_t q = partition_of(key, out_.size());
        out_[q].push_back(RoutedRow<K, T>{std::move(key), node_.spec_.pane_start(e), row});
      }
    }

   private:
    TimeWindowAggregateNode& node_;
    const std::optional<Time>& closed_;
    std::vector<T>& late_;
    std::vector<std::vector<RoutedRow<K, T>>>& out_;
  };

  /// The value of window w from a key's panes (sorted): their accumulators merged.
  R value_of(const PaneList<Acc>& list, const TimeWindow& w) const {
    auto first = std::lower_bound(list.begin(), list.end(), w.start,
                                  [](const Pane<Acc>& p, Time s) { return p.start < s; });
    auto last = first;
    while (last != list.end() && last->start < w.end)
      ++last;
    if (std::next(first) == last) return agg_.result(first->acc);
    Acc acc = agg_.zero();
    for (auto it = first; it != last; ++it)
      agg_.merge(acc, it->acc);
    return agg_.result(acc);
  }

  /// Calls fn(window) for every window that holds at least one of the key's panes, in ascending
  /// start order, each once.
  template <class Fn>
  void for_each_window_of(const PaneList<Acc>& list, Fn&& fn) const {
    std::optional<Time> last_start;
    for (const Pane<Acc>& pane : list) {
      spec_.for_each_window(pane.start, [&](const TimeWindow& w) {
        if (last_start && w.start <= *last_start) return;
        last_start = w.start;
        fn(w);
      });
    }
  }

  /// Step (3) and (4) for partition q; counts the (window, key) entries and panes left.
  void emit_and_evict(std::size_t q, const std::optional<Time>& closed,
                      const std::optional<Time>& wm, Touched& touched, std::vector<Out>& out,
                      std::int64_t& entries, std::int64_t& panes) {
    auto& table = this->store_.table(q);
    if (mode_ == OutputMode::update && !touched.empty()) {
      // Each touched key's windows that got a row while open for it, once each.
      std::sort(touched.begin(), touched.end(),
                [](const auto& a, const auto& b) { return a.second < b.second; });
      boost::unordered_flat_map<K, std::vector<Time>, boost::hash<K>> by_key;
      for (auto& [k, pane] : touched) {
        auto& starts = by_key[k];
        if (starts.empty() || starts.back() != pane) starts.push_back(pane);
      }
      for (auto& [k, starts] : by_key) {
        const PaneList<Acc>& list = table.find(k)->second;
        std::optional<Time> last_start;
        for (Time pane : starts) {
          spec_.for_each_window(pane, [&](const TimeWindow& w) {
            if (closed && w.end <= *closed) return;
            if (last_start && w.start <= *last_start) return;
            last_start = w.start;
            out.push_back(Out{w, k, value_of(list, w)});
          });
        }
      }
    }
    const bool evicts = mode_ != OutputMode::complete && wm.has_value();
    const bool emits_closed = mode_ == OutputMode::append && wm && (!emitted_ || *wm > *emitted_);
    std::vector<K> emptied;
    for (auto& [k, list] : table) {
      if (mode_ == OutputMode::complete) {
        for_each_window_of(list, [&](const TimeWindow& w) {
          out.push_back(Out{w, k, value_of(list, w)});
        });
      } else if (emits_closed) {
        for_each_window_of(list, [&](const TimeWindow& w) {
          if (w.end > *wm || (emitted_ && w.end <= *emitted_)) return;
          out.push_back(Out{w, k, value_of(list, w)});
        });
      }
      if (evicts) {
        const auto before = list.size();
        std::erase_if(list,
                      [&](const Pane<Acc>& p) { return spec_.last_window(p.start).end <= *wm; });
        if (list.size() != before) this->store_.mark(q, k);
        if (list.empty()) {
          emptied.push_back(k);
          continue;
        }
      }
      panes += static_cast<std::int64_t>(list.size());
      entries += count_windows(list);
    }
    for (const K& k : emptied)
      table.erase(k);
  }

  /// The number of windows holding at least one of the key's panes.
  [[nodiscard]] std::int64_t count_windows(const PaneList<Acc>& list) const noexcept {
    // Each pane's windows start in [first_window.start, last_window_start], on the slide grid;
    // the panes are sorted, so these ranges are too: count their union.
    std::int64_t n = 0;
    std::optional<Time> covered;  // the last window start counted
    const std::int64_t slide = spec_.slide().count();
    for (const Pane<Acc>& pane : list) {
      Time from = spec_.first_window(pane.start).start;
      const Time to = spec_.last_window_start(pane.start);
      if (covered && from <= *covered) from = *covered + spec_.slide();
      if (from > to) continue;
      n += (to - from).count() / slide + 1;
      covered = to;
    }
    return n;
  }

  std::shared_ptr<Node<T>> parent_;
  TimeWindows spec_;
  KeyOf key_of_;
  TimeOf time_of_;
  Agg agg_;
  OutputMode mode_;
  std::shared_ptr<WatermarkTracker> watermarks_;
  std::optional<Time> emitted_;  // append: the watermark of the last emission
  std::int64_t entries_ = 0;     // (window, key) entries after the last batch
  std::int64_t panes_ = 0;       // panes after the last batch
};

}  // namespace rill::detail
