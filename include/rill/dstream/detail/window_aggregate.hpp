#pragma once

#include <algorithm>
#include <array>
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

    // The rows go into their state partitions (straight from the input, no routing, when there
    // is one).
    stream_into_state<RoutedRow<K, T>>(
        *parent_, t, ex, n,
        [&](std::size_t p) { return DirectSink(*this, closed, late[p], touched[0]); },
        [&](std::size_t p, std::vector<std::vector<RoutedRow<K, T>>>& buckets) {
          return RouteSink(*this, closed, late[p], buckets);
        },
        [&](std::size_t q, std::span<RoutedRow<K, T>> rows) {
          for (std::size_t i = 0; i < rows.size(); i += kGroup)
            apply_group(q, rows.subspan(i, std::min(kGroup, rows.size() - i)), touched[q]);
        });

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

  /// The earliest event time that is not late under `closed`, or nullopt when nothing is late:
  /// a row at e is late when every window holding it ended by `closed`
  /// (`last_window(e).end <= closed`), i.e. when its last window starts at or before the last
  /// window start `g` with `g <= closed - size`, i.e. when `e < g + slide`. One comparison per row
  /// instead of a division.
  [[nodiscard]] std::optional<Time> first_on_time(
      const std::optional<Time>& closed) const noexcept {
    if (!closed) return std::nullopt;
    return spec_.last_window_start(*closed - spec_.size()) + spec_.slide();
  }
  /// True when the row at e is late under the bound of first_on_time().
  static bool late(Time e, const std::optional<Time>& first_on_time) noexcept {
    return first_on_time && e < *first_on_time;
  }

  /// Rows applied by apply_group at a time: enough to overlap their cache misses.
  static constexpr std::size_t kGroup = 16;

  /// A row of DirectSink on its way into the state: its key, pane and the row in the input chunk.
  struct StagedRow {
    K key;
    Time pane;
    const T* row;
  };
  static const T& row_of(const StagedRow& r) noexcept { return *r.row; }
  static const T& row_of(const RoutedRow<K, T>& r) noexcept { return r.row; }

  /// Adds `row` to key's pane in partition q's state.
  void apply(std::size_t q, const K& key, Time pane, const T& row, Touched& touched) {
    auto& table = this->store_.table(q);
    auto it = table.find(key);
    if (it == table.end()) it = table.try_emplace(key).first;
    add_to(q, it->second, key, pane, row, touched);
  }

  /// apply() for up to kGroup rows, in order, in two passes: first every row's key is looked up
  /// and its newest pane prefetched, then the rows are added. A row costs two dependent cache
  /// misses (the key's slot, then its pane list on the heap); the passes overlap them across the
  /// group. A key not yet in the table goes through apply(); a rehash there moves every entry,
  /// so the rest of the group is looked up again.
  template <class Row>
  void apply_group(std::size_t q, std::span<Row> rows, Touched& touched) {
    auto& table = this->store_.table(q);
    std::array<PaneList<Acc>*, kGroup> lists{};
    for (std::size_t i = 0; i < rows.size(); ++i) {
      auto it = table.find(rows[i].key);
      if (it == table.end()) continue;
      lists[i] = &it->second;
      if (!it->second.empty()) __builtin_prefetch(&it->second.back());
    }
    const auto buckets = table.bucket_count();
    bool moved = false;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      if (lists[i] == nullptr || moved) {
        apply(q, r.key, r.pane, row_of(r), touched);
        moved = moved || table.bucket_count() != buckets;
      } else {
        add_to(q, *lists[i], r.key, r.pane, row_of(r), touched);
      }
    }
  }

  /// Adds `row` to the pane starting at `pane` of key's list (partition q).
  void add_to(std::size_t q, PaneList<Acc>& list, const K& key, Time pane, const T& row,
              Touched& touched) {
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
        : node_(node), on_time_(node.first_on_time(closed)), late_(late), touched_(touched) {
      staged_.reserve(kGroup);
    }
    void push(std::span<const T> items) override {
      for (const T& row : items) {
        const Time e = std::invoke(node_.time_of_, row);
        if (late(e, on_time_)) {
          late_.push_back(row);
          continue;
        }
        staged_.push_back(
            StagedRow{std::invoke(node_.key_of_, row), node_.spec_.pane_start(e), &row});
        if (staged_.size() == kGroup) flush();
      }
      flush();  // the rows point into items
    }

   private:
    void flush() {
      node_.apply_group(0, std::span<StagedRow>(staged_), touched_);
      staged_.clear();
    }

    TimeWindowAggregateNode& node_;
    std::optional<Time> on_time_;
    std::vector<T>& late_;
    Touched& touched_;
    std::vector<StagedRow> staged_;
  };

  /// Routes an input partition's rows to their keys' state partitions.
  class RouteSink final : public ChunkSink<T> {
   public:
    RouteSink(TimeWindowAggregateNode& node, const std::optional<Time>& closed,
              std::vector<T>& late, std::vector<std::vector<RoutedRow<K, T>>>& out)
        : node_(node), on_time_(node.first_on_time(closed)), late_(late), out_(out) {}
    void push(std::span<const T> items) override {
      // An input partition mostly arrives as one chunk: room for an even share of it and a
      // little more at once, instead of doubling up to it. Still at least doubling when it
      // grows, so that many small chunks cost amortized constant time a row.
      const std::size_t share = items.size() / out_.size() + items.size() / (8 * out_.size());
      for (auto& buffer : out_) {
        const std::size_t need = buffer.size() + share;
        if (need > buffer.capacity()) buffer.reserve(std::max(need, 2 * buffer.capacity()));
      }
      for (const T& row : items) {
        const Time e = std::invoke(node_.time_of_, row);
        if (late(e, on_time_)) {
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
    std::optional<Time> on_time_;
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
    // Once per batch rather than per key and pane: the start of the last window that ended by
    // wm (windows start on the slide grid, so a window [s, s + size) ended iff s <= it), the
    // first window start not emitted yet (its end is after emitted_), and the first pane start
    // that stays (a pane leaves when its last window ended, i.e. when it starts before the first
    // window start after the last one that ended: the panes that leave are a prefix).
    const Duration size = spec_.size();
    const Duration slide = spec_.slide();
    const Time last_closed = wm ? spec_.last_window_start(*wm - size) : Time{};
    const Time keep_from = last_closed + slide;
    const std::optional<Time> first_open =
        emitted_ ? std::optional<Time>(spec_.last_window_start(*emitted_ - size) + slide)
                 : std::nullopt;
    // Each key's panes live on the heap: prefetch a few keys ahead of the one being visited.
    constexpr std::size_t kAhead = 4;
    auto ahead = table.begin();
    for (std::size_t i = 0; i < kAhead && ahead != table.end(); ++i)
      ++ahead;
    std::vector<K> emptied;
    for (auto& [k, list] : table) {
      if (ahead != table.end()) {
        if (!ahead->second.empty()) __builtin_prefetch(ahead->second.data());
        ++ahead;
      }
      if (mode_ == OutputMode::complete) {
        for_each_window_of(list, [&](const TimeWindow& w) {
          out.push_back(Out{w, k, value_of(list, w)});
        });
      } else if (emits_closed && !list.empty()) {
        // The windows with emitted_ < end <= wm that hold a pane, in start order.
        Time s = first_open ? *first_open : spec_.first_window(list.front().start).start;
        auto pane = list.begin();
        while (s <= last_closed) {
          while (pane != list.end() && pane->start < s)
            ++pane;
          if (pane == list.end()) break;
          if (pane->start >= s + size) {  // no pane in [s, s + size): on to the next pane's
            s = spec_.first_window(pane->start).start;
            continue;
          }
          const TimeWindow w{s, s + size};
          out.push_back(Out{w, k, value_of(list, w)});
          s += slide;
        }
      }
      if (evicts) {
        auto kept = list.begin();
        while (kept != list.end() && kept->start < keep_from)
          ++kept;
        if (kept != list.begin()) {
          list.erase(list.begin(), kept);
          this->store_.mark(q, k);
        }
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
    // The first window of a pane starting at p starts at the first grid point after p - size:
    // to - size + slide when the slide divides the size (the grid then repeats every size).
    std::int64_t n = 0;
    std::optional<Time> covered;  // the last window start counted
    const std::int64_t slide = spec_.slide().count();
    const bool divides = spec_.size().count() % slide == 0;
    for (const Pane<Acc>& pane : list) {
      const Time to = spec_.last_window_start(pane.start);
      if (covered && to <= *covered) continue;  // panes sorted: its windows are counted
      Time from =
          divides ? to - spec_.size() + spec_.slide() : spec_.first_window(pane.start).start;
      if (covered && from <= *covered) from = *covered + spec_.slide();
      const std::int64_t span = (to - from).count();
      n += (span == 0 ? 0 : span == slide ? 1 : span / slide) + 1;
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
