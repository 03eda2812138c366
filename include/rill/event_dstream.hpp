#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <variant>

#include "rill/core/concepts.hpp"
#include "rill/core/errors.hpp"
#include "rill/core/time.hpp"
#include "rill/dstream.hpp"
#include "rill/dstream/aggregators.hpp"
#include "rill/dstream/detail/dedup.hpp"
#include "rill/dstream/detail/interval_join.hpp"
#include "rill/dstream/detail/late_rows.hpp"
#include "rill/dstream/detail/session_aggregate.hpp"
#include "rill/dstream/detail/watermark_node.hpp"
#include "rill/dstream/detail/watermark_tracker.hpp"
#include "rill/dstream/detail/window_aggregate.hpp"
#include "rill/dstream/output_mode.hpp"
#include "rill/dstream/time_window.hpp"
#include "rill/dstream/window_spec.hpp"
#include "rill/interval_joined_dstream.hpp"
#include "rill/windowed_dstream.hpp"

namespace rill {

/// A DStream<T> whose records carry an event time (Structured Streaming's event-time column),
/// read by `TimeOf` (`const T& -> rill::Time`, ms since the epoch), with or without a watermark.
/// Made by DStream::with_watermark / with_event_time. Every DStream operation works on it and
/// returns an ordinary DStream; name() keeps the type; the event-time operators
/// (docs/event-time.md) are its own.
///
/// `EventDStream<T>` (the default `TimeOf`) holds the time reader behind a std::function, so a
/// stream of any reader converts to it: write `auto` (or `EventDStream<T, F>`) to keep the
/// reader's own type, which the event-time operators then call directly, per record.
///
/// Thread-safety: as DStream (a handle; build the graph from one thread, before start()).
template <class T, class TimeOf>
class EventDStream : public DStream<T> {
 public:
  EventDStream(std::shared_ptr<detail::Graph> graph, std::shared_ptr<detail::Node<T>> node,
               TimeOf time_of, std::optional<Duration> delay)
      : DStream<T>(std::move(graph), std::move(node)),
        time_of_(std::move(time_of)),
        delay_(delay) {}

  /// Any event-time stream of T converts to `EventDStream<T>` (its reader type-erased).
  template <class F>
  requires(!std::is_same_v<F, TimeOf> && std::is_constructible_v<TimeOf, const F&>)
      EventDStream(const EventDStream<T, F>& other)  // NOLINT(google-explicit-constructor)
      : EventDStream(other.graph(), other.node(), TimeOf(other.time_of()),
                     other.watermark_delay()) {}

  /// Gives the stream a stable, unique name (checkpoints, metrics; with_watermark's per-input
  /// watermark is checkpointed under it) and keeps its type.
  EventDStream name(std::string name) const {
    DStream<T>::name(std::move(name));
    return *this;
  }
  using DStream<T>::name;

  /// The event-time reader.
  [[nodiscard]] const TimeOf& time_of() const noexcept { return time_of_; }
  /// The watermark delay (ms), or nullopt for a stream made by with_event_time.
  [[nodiscard]] std::optional<Duration> watermark_delay() const noexcept { return delay_; }
  /// True when the stream was made by with_watermark.
  [[nodiscard]] bool has_watermark() const noexcept { return delay_.has_value(); }
  // ---- event-time aggregation (docs/event-time.md) ----

  /// Aggregates the rows of each event-time window and key: `spec` is rill::tumbling,
  /// rill::sliding or rill::session; `key_of(const T&)` (callable or member pointer) gives the
  /// key, hashed as in reduce_by_key; `agg` is a rill::agg aggregator or a user's (see
  /// rill::Aggregator). Returns a WindowedDStream<K, R, T> of `Windowed{window, key, value}`
  /// in `mode` (Structured Streaming's output modes, Spark >= 3.4's rules: late rows are judged
  /// against the previous batch's watermark, emission and eviction use the current one), plus
  /// late_records(). Tumbling and sliding windows keep an accumulator per pane (gcd(size, slide)
  /// ms) and key, merged into a window's value when it is emitted; session windows keep per key
  /// the open sessions with an accumulator each, merged as rows bridge them (Spark's
  /// session_window). The state is checkpointed incrementally (the keys a batch changed).
  /// Throws rill::InvalidArgument for append mode on a stream without a watermark
  /// (with_event_time) and for update mode with session windows.
  template <class Spec, class KeyOf, class Agg>
  requires WindowSpecFor<Spec, T> && std::invocable<const KeyOf&, const T&> && AggregatorFor<Agg, T>
  auto aggregate_by_window(Spec spec, KeyOf key_of, Agg agg, OutputMode mode = OutputMode::append,
                           std::size_t num_partitions = 0) const {
    using K = std::remove_cvref_t<std::invoke_result_t<const KeyOf&, const T&>>;
    return aggregate<K>(std::move(spec), std::move(key_of), std::move(agg), mode,
                        num_partitions == 0 ? this->graph()->parallelism() : num_partitions);
  }
  /// aggregate_by_window without a key: one value per window (`K` is std::monostate), computed
  /// in one partition. Session windows need a key: rill::InvalidArgument.
  template <class Spec, class Agg>
  requires WindowSpecFor<Spec, T> && AggregatorFor<Agg, T>
  auto aggregate_by_window(Spec spec, Agg agg, OutputMode mode = OutputMode::append) const {
    if constexpr (is_session_windows_v<Spec>) {
      throw InvalidArgument(
          "EventDStream::aggregate_by_window: session windows need a key (sessions are per "
          "key); pass key_of");
    }
    return aggregate<std::monostate>(std::move(spec), NoKey{}, std::move(agg), mode, 1);
  }

  /// Internal: the context's watermarks.
  [[nodiscard]] std::shared_ptr<detail::WatermarkTracker> watermarks() const {
    return this->graph()->watermarks();
  }

  // ---- deduplication (docs/event-time.md, "Deduplication") ----

  /// Spark's `dropDuplicates` on a stream with a watermark: the first row of each key
  /// (`key_of(const T&)`, a callable or member pointer; hashed as reduce_by_key's keys) passes,
  /// later rows with that key are dropped while the key is remembered. A key is forgotten in the
  /// first batch t with `wm(t) >=` the event time of the row that passed, so a key that includes
  /// the event time behaves exactly as Spark's; rows with `time <= wm(t - interval)` are dropped
  /// as late. "First" is arrival order within a key. On a stream without a watermark
  /// (with_event_time) nothing is late and every key is remembered forever. Batch t: late rows
  /// out, then dedupe against the remembered keys, then forget with wm(t) (Spark >= 3.4).
  /// StateInfo: keys remembered after the batch, late_records. Throws rill::IllegalState after
  /// start().
  template <class KeyOf>
  requires detail::DedupKeyOf<KeyOf, T> DStream<T> drop_duplicates(KeyOf key_of)
  const { return deduplicated("drop_duplicates", std::move(key_of), Duration{0}); }

  /// Spark's `dropDuplicatesWithinWatermark`: as drop_duplicates, but a key is forgotten in the
  /// first batch t with `wm(t) >=` the event time of the row that passed + the watermark delay
  /// (ms). Throws rill::InvalidArgument on a stream without a watermark (with_event_time).
  template <class KeyOf>
  requires detail::DedupKeyOf<KeyOf, T> DStream<T> drop_duplicates_within_watermark(KeyOf key_of)
  const {
    if (!delay_) {
      throw InvalidArgument(
          "EventDStream::drop_duplicates_within_watermark: the stream has no watermark (it was "
          "made by with_event_time); declare one with with_watermark(time_of, delay): keys are "
          "remembered until the watermark passes their first event time + delay");
    }
    return deduplicated("drop_duplicates_within_watermark", std::move(key_of), *delay_);
  }

  // ---- interval joins (docs/event-time.md, "Interval joins") ----

  /// Spark's stream-stream join with a time-range condition (Flink's interval join), on two
  /// event-time streams of pairs, each with its own event time: (k, (v, w)) for every left row
  /// (k, v) at time tl and right row (k, w) at time tr with `tl + lower <= tr <= tl + upper`
  /// (ms), emitted once, in the batch in which the later of the two rows arrived. Rows of a side
  /// with a watermark with `time <= wm(t - interval)` are dropped as late. While both sides have
  /// watermarks, a left row leaves the state in the first batch with `wm(t) > tl + upper`, a
  /// right row in the first with `wm(t) > tr - lower` (wm: the context's global watermark);
  /// otherwise rows are kept forever. StateInfo: rows kept by both sides, late_records. Returns
  /// an IntervalJoinedDStream: the joined rows, plus left_late_records() and
  /// right_late_records(), the rows each side dropped as late (Flink's late-data side outputs).
  /// Throws rill::InvalidArgument for a stream of another context or of another slide,
  /// rill::IllegalState after start().
  template <class W, class RTimeOf, class P = T>
  requires KeyValue<P>
  auto interval_join(const EventDStream<std::pair<typename P::first_type, W>, RTimeOf>& other,
                     Duration lower, Duration upper) const {
    return interval_joined<W, false, false>("interval_join", other, lower, upper);
  }
  /// interval_join, plus (k, (v, nullopt)) for each left row that never matched, in the batch
  /// in which it leaves the state. Needs watermarks on both sides and `lower <= upper`
  /// (rill::InvalidArgument otherwise).
  template <class W, class RTimeOf, class P = T>
  requires KeyValue<P>
  auto interval_left_outer_join(
      const EventDStream<std::pair<typename P::first_type, W>, RTimeOf>& other, Duration lower,
      Duration upper) const {
    return interval_joined<W, true, false>("interval_left_outer_join", other, lower, upper);
  }
  /// interval_join with (k, (optional v, w)), plus (k, (nullopt, w)) for each right row that
  /// never matched, when it leaves the state. Needs watermarks on both sides and `lower <=
  /// upper` (rill::InvalidArgument otherwise).
  template <class W, class RTimeOf, class P = T>
  requires KeyValue<P>
  auto interval_right_outer_join(
      const EventDStream<std::pair<typename P::first_type, W>, RTimeOf>& other, Duration lower,
      Duration upper) const {
    return interval_joined<W, false, true>("interval_right_outer_join", other, lower, upper);
  }
  /// Both outer forms at once: (k, (optional v, optional w)). Needs watermarks on both sides and
  /// `lower <= upper` (rill::InvalidArgument otherwise).
  template <class W, class RTimeOf, class P = T>
  requires KeyValue<P>
  auto interval_full_outer_join(
      const EventDStream<std::pair<typename P::first_type, W>, RTimeOf>& other, Duration lower,
      Duration upper) const {
    return interval_joined<W, true, true>("interval_full_outer_join", other, lower, upper);
  }

 private:
  struct NoKey {
    std::monostate operator()(const T& /*row*/) const noexcept { return {}; }
  };

  template <class K, class Spec, class KeyOf, class Agg>
  auto aggregate(Spec spec, KeyOf key_of, Agg agg, OutputMode mode, std::size_t partitions) const {
    constexpr std::string_view call = "EventDStream::aggregate_by_window";
    if (mode == OutputMode::append && !has_watermark()) {
      throw InvalidArgument(fmt::format(
          "{}: append mode emits a window once the watermark passes its end, and this stream "
          "has no watermark; use with_watermark(time_of, delay), or OutputMode::update / "
          "complete",
          call));
    }
    if (is_session_windows_v<Spec> && mode == OutputMode::update) {
      throw InvalidArgument(fmt::format(
          "{}: OutputMode::update is not supported for session windows (as in Spark: a session "
          "can still merge with others until the watermark passes its end); use "
          "OutputMode::append or OutputMode::complete",
          call));
    }
    auto bound = detail::bind_aggregator<T>(std::move(agg));
    using Bound = decltype(bound);
    using Node = std::conditional_t<is_session_windows_v<Spec>,
                                    detail::SessionAggregateNode<T, K, KeyOf, TimeOf, Spec, Bound>,
                                    detail::TimeWindowAggregateNode<T, K, KeyOf, TimeOf, Bound>>;
    auto node = std::make_shared<Node>(this->node(), std::move(spec), std::move(key_of), time_of_,
                                       std::move(bound), mode, watermarks(), partitions);
    this->graph()->check_open(call);
    this->graph()->add_node(node, call);
    using R = typename Node::R;
    auto graph = this->graph();
    return WindowedDStream<K, R, T>(graph, node, [node] {
      return std::make_shared<detail::LateRecordsNode<T, Node>>(node, node->input_partitions());
    });
  }

  template <class KeyOf>
  DStream<T> deduplicated(const char* kind, KeyOf key_of, Duration keep_for) const {
    using Key = detail::dedup_key_t<KeyOf, T>;
    using Node = detail::DropDuplicatesNode<T, Key, KeyOf, TimeOf>;
    const std::string call = fmt::format("EventDStream::{}", kind);
    this->graph()->check_open(call);
    auto node = std::make_shared<Node>(kind, this->node(), std::move(key_of), time_of_, keep_for,
                                       has_watermark(), watermarks(), this->graph()->parallelism());
    this->graph()->add_node(node, call);
    return DStream<T>(this->graph(), std::move(node));
  }

  template <class W, bool KeepLeft, bool KeepRight, class RTimeOf, class P = T>
  auto interval_joined(const char* kind,
                       const EventDStream<std::pair<typename P::first_type, W>, RTimeOf>& other,
                       Duration lower, Duration upper) const {
    using K = typename P::first_type;
    using V = typename P::second_type;
    using Node = detail::IntervalJoinNode<K, V, W, TimeOf, RTimeOf, KeepLeft, KeepRight>;
    const std::string call = fmt::format("EventDStream::{}", kind);
    if (other.graph() != this->graph()) {
      throw InvalidArgument(
          fmt::format("{}: the streams belong to different contexts; join streams of one", call));
    }
    if constexpr (KeepLeft || KeepRight) {
      if (!has_watermark() || !other.has_watermark()) {
        throw InvalidArgument(fmt::format(
            "{}: an outer join needs watermarks on both sides, but the {} stream has none (made "
            "by with_event_time); declare it with with_watermark(time_of, delay)",
            call, has_watermark() ? "right" : "left"));
      }
      if (lower > upper) {
        throw InvalidArgument(fmt::format(
            "{}: lower ({} ms) is above upper ({} ms): no row could ever match; give lower <= "
            "upper",
            call, lower.count(), upper.count()));
      }
    }
    this->graph()->check_open(call);
    auto node =
        std::make_shared<Node>(kind, this->node(), other.node(), time_of_, other.time_of(), lower,
                               upper, typename Node::Sides{has_watermark(), other.has_watermark()},
                               watermarks(), this->graph()->parallelism());
    this->graph()->add_node(node, call);
    using L = std::pair<K, V>;
    using R = std::pair<K, W>;
    return IntervalJoinedDStream<typename Node::Out, L, R>(
        this->graph(), node,
        [node] { return std::make_shared<detail::IntervalJoinLateNode<L, Node, true>>(node); },
        [node] { return std::make_shared<detail::IntervalJoinLateNode<R, Node, false>>(node); });
  }

  TimeOf time_of_;
  std::optional<Duration> delay_;
};

template <class T>
template <class F>
requires detail::EventTimeOf<F, T> EventDStream<T, F> DStream<T>::with_watermark(
    F time_of, Duration delay, WatermarkOptions opts)
const {
  if (delay.count() < 0) {
    throw InvalidArgument(fmt::format(
        "DStream::with_watermark: the delay must not be negative, got {} ms", delay.count()));
  }
  if (opts.idle_timeout.count() < 0) {
    throw InvalidArgument(fmt::format(
        "DStream::with_watermark: WatermarkOptions::idle_timeout must not be negative, got {} ms "
        "(0 means never idle)",
        opts.idle_timeout.count()));
  }
  auto node = std::make_shared<detail::WatermarkNode<T, F>>(
      node_, time_of, delay, opts.idle_timeout, graph_->watermarks());
  graph_->check_open("DStream::with_watermark");
  graph_->add_node(node, "DStream::with_watermark");
  return EventDStream<T, F>(graph_, std::move(node), std::move(time_of), delay);
}

template <class T>
template <class F>
requires detail::EventTimeOf<F, T> EventDStream<T, F> DStream<T>::with_event_time(F time_of)
const {
  graph_->check_open("DStream::with_event_time");
  return EventDStream<T, F>(graph_, node_, std::move(time_of), std::nullopt);
}

}  // namespace rill
