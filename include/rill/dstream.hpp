#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "rill/core/batch.hpp"
#include "rill/core/concepts.hpp"
#include "rill/core/errors.hpp"
#include "rill/detail/graph.hpp"
#include "rill/detail/parse_step.hpp"
#include "rill/dstream/detail/aggregate.hpp"
#include "rill/dstream/detail/narrow.hpp"
#include "rill/dstream/detail/shuffle.hpp"
#include "rill/dstream/detail/stateful.hpp"
#include "rill/dstream/detail/table_join.hpp"
#include "rill/dstream/detail/traits.hpp"
#include "rill/dstream/detail/watermark_node.hpp"
#include "rill/dstream/detail/window.hpp"
#include "rill/dstream/state.hpp"
#include "rill/dstream/watermark.hpp"
#include "rill/formats/csv.hpp"
#include "rill/formats/json.hpp"
#include "rill/sinks/detail/output.hpp"
#include "rill/sinks/detail/outputs.hpp"
#include "rill/sinks/sink.hpp"
#include "rill/static_table.hpp"

namespace rill {

template <class T>
class DStream;
template <class T, class N>
class StepDStream;
template <class K, class V, class S, class M, class F>
class MapWithStateDStream;
template <class T, class N>
class ParsedDStream;
template <class T>
using AnyEventTime = std::function<Time(const T&)>;
template <class T, class TimeOf = AnyEventTime<T>>
class EventDStream;

/// foreach_batch(f, rill::idempotent): f is idempotent per batch time.
struct idempotent_t {
  explicit idempotent_t() = default;
};
inline constexpr idempotent_t idempotent{};

namespace detail {
/// The five per-record steps, written once for DStream and StepDStream: each adds a StepNode
/// reading `Self`'s node with the node's static type, so that the StepDStream it returns fuses
/// the next step into the same loop (a chain of steps is one pass per partition).
template <class Self, class T>
class StepOps {
 public:
  /// f(const T&) -> U, one output per record.
  template <class F>
  requires std::invocable<F&, const T&>
  auto map(F f) const {
    using U = std::remove_cvref_t<std::invoke_result_t<F&, const T&>>;
    return self().template add_step<U>("map", MapStep<F>{std::move(f)});
  }

  /// f(const T&) -> any range; its elements are the output.
  template <class F>
  requires std::invocable<F&, const T&> && std::ranges::range<std::invoke_result_t<F&, const T&>>
  auto flat_map(F f) const {
    using U = range_element_t<std::invoke_result_t<F&, const T&>>;
    return self().template add_step<U>("flat_map", FlatMapStep<F>{std::move(f)});
  }

  /// Keeps the records for which f(const T&) is true.
  template <class F>
  requires std::predicate<F&, const T&>
  auto filter(F f) const {
    return self().template add_step<T>("filter", FilterStep<F>{std::move(f)});
  }

  /// (k, f(v)) for every (k, v).
  template <class F>
  requires KeyValue<T>
  auto map_values(F f) const {
    using K = typename T::first_type;
    using V = typename T::second_type;
    using W = std::remove_cvref_t<std::invoke_result_t<F&, const V&>>;
    return self().template add_step<std::pair<K, W>>("map_values", MapValuesStep<F>{std::move(f)});
  }

  /// (k, w) for every w of the range f(v).
  template <class F>
  requires KeyValue<T>
  auto flat_map_values(F f) const {
    using K = typename T::first_type;
    using V = typename T::second_type;
    using W = range_element_t<std::invoke_result_t<F&, const V&>>;
    return self().template add_step<std::pair<K, W>>("flat_map_values",
                                                     FlatMapValuesStep<F>{std::move(f)});
  }

  /// Spark's stream-static join: `(k, (v, w))` for every row `(k, w)` of `table` whose key is
  /// the record's (none when the key has no row), in input order, then the table's row order.
  /// A per-record step: it runs in the same pass per partition as the narrow steps before and
  /// after it, one hash probe per record, no shuffle. Each batch reads the table's version
  /// pinned when the batch was sealed. Throws rill::InvalidArgument for a table of another
  /// context.
  template <class W, class P = T>
  requires KeyValue<P>
  auto join(const StaticTable<typename P::first_type, W>& table) const {
    return table_join<W, false>("join", table);
  }

  /// As join(table), keeping the records whose key has no row: `(k, (v, None))` for them,
  /// `(k, (v, Some(w)))` per matching row otherwise.
  template <class W, class P = T>
  requires KeyValue<P>
  auto left_outer_join(const StaticTable<typename P::first_type, W>& table) const {
    return table_join<W, true>("left_outer_join", table);
  }

  // ---- record formats (docs/formats.md) ----

  /// On a stream of lines: each line parsed as one JSON value into a U (rill::json::parse<U>'s
  /// rules), in the same pass per partition as the narrow steps around it. A line that does
  /// not parse does not fail the batch: it is counted (malformed_count()), logged with its
  /// reason (the first 10 in full, then a summary at most every 10 s) and passed to the
  /// result's malformed() stream (Spark's from_json in PERMISSIVE mode with a corrupt-record
  /// column, as a side output). U must be default-constructible.
  template <class U, class S = T>
  requires std::same_as<S, std::string> && json::Readable<U> && std::default_initializable<U>
  auto parse_json() const { return parse_with<U>("parse_json", JsonLineParser<U>{}); }

  /// The same for CSV records (rill::csv::parse<U>'s rules): a line equal to
  /// rill::csv::header<U>() is a header and is dropped, neither a record nor malformed (so
  /// files written with a header, or concatenated, read back). A record must fit on its line:
  /// a quoted field holding a line break arrives as two lines, and both are malformed.
  template <class U, class S = T>
  requires std::same_as<S, std::string> && csv::Record<U> && std::default_initializable<U>
  auto parse_csv() const {
    return parse_with<U>("parse_csv",
                         CsvLineParser<U>{std::make_shared<const std::string>(csv::header<U>())});
  }

 private:
  template <class U, class Parser>
  auto parse_with(const char* kind, Parser parser) const {
    auto lines = std::make_shared<MalformedLines>(self().num_partitions());
    auto parsed = self().template add_step<U>(kind, ParseStep<U, Parser>{lines, std::move(parser)});
    lines->set_node(parsed.node().get());
    return ParsedDStream<U, typename decltype(parsed)::node_type>(std::move(parsed),
                                                                  std::move(lines));
  }

  template <class W, bool Outer, class Table>
  auto table_join(const char* kind, const Table& table) const {
    using K = typename T::first_type;
    using V = typename T::second_type;
    using Step = TableJoinStep<K, V, W, Outer>;
    if (table.graph() && table.graph() != self().graph()) {
      throw InvalidArgument(fmt::format(
          "DStream::{}: the static table '{}' belongs to another StreamingContext; create it with "
          "this stream's context (or use StaticTable::of)",
          kind, table.name()));
    }
    return self().template add_step<typename Step::Out>(kind, Step{table.core(), nullptr});
  }

  [[nodiscard]] const Self& self() const noexcept { return static_cast<const Self&>(*this); }
};
}  // namespace detail

/// A handle on one stream of the lazily built graph. Cheap to copy; the operators return new
/// streams; nothing runs before StreamingContext::start(), and only what an output reaches runs.
/// Functions passed to operators are copied for every partition task and may run concurrently on
/// several threads; they must not throw for normal input (a throw stops the context).
template <class T>
class DStream : public detail::StepOps<DStream<T>, T> {
  static_assert(!std::is_same_v<T, bool>,
                "rill: a stream cannot carry bool (std::vector<bool> packs bits, so a batch "
                "could not hand out std::span<const bool>); map to char, int or a struct");
  static_assert(!std::is_const_v<T> && !std::is_reference_v<T>,
                "rill: stream elements are plain values, neither const nor references");

 public:
  using value_type = T;

  DStream(std::shared_ptr<detail::Graph> graph, std::shared_ptr<detail::Node<T>> node)
      : graph_(std::move(graph)), node_(std::move(node)) {}

  /// Gives the stream a stable, unique name (used by checkpoints and metrics).
  DStream name(std::string name) const {
    graph_->rename(*node_, std::move(name));
    return *this;
  }
  [[nodiscard]] const std::string& name() const noexcept { return node_->name(); }
  [[nodiscard]] Duration slide_duration() const noexcept { return node_->slide(); }
  [[nodiscard]] std::size_t num_partitions() const noexcept { return node_->num_partitions(); }

  // ---- event time (docs/event-time.md) ----

  /// Declares the records' event time, read by `time_of` (`const T& -> rill::Time`, ms since the
  /// epoch; a member pointer works), and a watermark `delay` ms behind the largest event time
  /// seen (Spark's `withWatermark`): the result is this stream, unchanged (nothing is dropped
  /// here), on which the event-time operators work. The input's watermark: none until its first
  /// record; after each batch with records, max(previous, largest event time - delay). The
  /// global watermark (Config::watermark_policy) is formed over every such stream an output
  /// depends on. Throws rill::InvalidArgument for a negative delay or idle timeout.
  template <class F>
  requires detail::EventTimeOf<F, T> EventDStream<T, F> with_watermark(F time_of, Duration delay,
                                                                       WatermarkOptions opts = {})
  const;
  /// Declares the records' event time without a watermark: event-time operators that need one
  /// (append mode, outer joins, drop_duplicates_within_watermark) refuse the stream; the others
  /// never drop rows as late and keep their state.
  template <class F>
  requires detail::EventTimeOf<F, T> EventDStream<T, F> with_event_time(F time_of)
  const;

  // ---- transformations of every stream ----

  /// f(std::span<const T>) -> std::vector<U>, once per partition.
  template <class F>
  requires std::invocable<F&, std::span<const T>>
  auto map_partitions(F f) const {
    using R = std::remove_cvref_t<std::invoke_result_t<F&, std::span<const T>>>;
    using U = typename detail::vector_element<R>::type;
    return add_node<U>(
        std::make_shared<detail::PartitionNode<T, U, F>>("map_partitions", node_, std::move(f)));
  }

  /// Each partition as one vector.
  DStream<std::vector<T>> glom() const {
    auto whole = [](std::span<const T> part) {
      return std::vector<std::vector<T>>{std::vector<T>(part.begin(), part.end())};
    };
    return add_node<std::vector<T>>(
        std::make_shared<detail::PartitionNode<T, std::vector<T>, decltype(whole)>>("glom", node_,
                                                                                    whole));
  }

  /// The records in order, cut into n contiguous partitions.
  DStream<T> repartition(std::size_t n) const {
    if (n == 0)
      throw InvalidArgument("DStream::repartition: the partition count must be at least 1");
    return add_node<T>(std::make_shared<detail::RepartitionNode<T>>(node_, n));
  }

  /// This stream's records, then other's, in each batch. Both need the same slide (as every
  /// operator of two streams: rill::InvalidArgument otherwise, naming both slides).
  DStream<T> union_with(const DStream<T>& other) const {
    check_same_graph(other.graph_, "DStream::union_with");
    return add_node<T>(std::make_shared<detail::UnionNode<T>>(node_, other.node_),
                       "DStream::union_with");
  }

  /// f(const Batch<T>&, Time) -> std::vector<U>, on the batch thread.
  template <class F>
  requires detail::BatchFunction<F, T>
  auto transform(F f) const {
    using R = std::remove_cvref_t<std::invoke_result_t<F&, const Batch<T>&, Time>>;
    using U = typename detail::vector_element<R>::type;
    return add_node<U>(std::make_shared<detail::TransformNode<T, U, F>>(node_, std::move(f),
                                                                        graph_->parallelism()));
  }

  /// f(const Batch<T>&, const Batch<U>&, Time) -> std::vector<V>, on the batch thread. Both
  /// streams need the same slide (rill::InvalidArgument otherwise, naming both slides).
  template <class U, class F>
  requires detail::BatchPairFunction<F, T, U>
  auto transform_with(const DStream<U>& other, F f) const {
    check_same_graph(other.graph(), "DStream::transform_with");
    using R = std::remove_cvref_t<std::invoke_result_t<F&, const Batch<T>&, const Batch<U>&, Time>>;
    using V = typename detail::vector_element<R>::type;
    return add_node<V>(std::make_shared<detail::TransformWithNode<T, U, V, F>>(
        node_, other.node(), std::move(f), graph_->parallelism()));
  }

  /// One element per batch: f folded over the records (none for an empty batch).
  template <class F>
  requires std::invocable<F&, T, T> && std::convertible_to<std::invoke_result_t<F&, T, T>, T>
  auto reduce(F f) const -> DStream<T> {
    return add_node<T>(std::make_shared<detail::ReduceNode<T, F>>(node_, std::move(f)));
  }

  /// One element per batch: the record count (0 for an empty batch).
  DStream<std::int64_t> count() const {
    return add_node<std::int64_t>(std::make_shared<detail::CountNode<T>>(node_));
  }

  /// (record, occurrences) for every distinct record.
  DStream<std::pair<T, std::int64_t>> count_by_value(std::size_t num_partitions = 0) const {
    auto ones = add_step<std::pair<T, std::int64_t>>("count_by_value", detail::MapStep<One>{One{}});
    return ones.reduce_by_key(std::plus<std::int64_t>{}, num_partitions);
  }

  // ---- windows ----

  /// The batches of the last w, every slide (default: this stream's slide).
  DStream<T> window(Duration w) const { return window(w, slide_duration()); }
  DStream<T> window(Duration w, Duration slide) const {
    detail::check_window("window", w, slide, slide_duration());
    return add_node<T>(std::make_shared<detail::WindowNode<T>>(node_, w, slide));
  }

  /// window(w, slide).reduce(f), reducing each batch first.
  template <class F>
  requires std::invocable<F&, T, T>
  auto reduce_by_window(F f, Duration w, Duration slide) const -> DStream<T> {
    detail::check_window("reduce_by_window", w, slide, slide_duration());
    return reduce(f).window(w, slide).reduce(f);
  }

  /// The same result as reduce_by_window(f, w, slide), updated incrementally: f adds the
  /// batches sliding in, inv_f removes those sliding out (inv_f(f(a, b), b) == a).
  template <class F, class InvF>
  requires std::invocable<F&, T, T> && std::invocable<InvF&, T, T>
  auto reduce_by_window(F f, InvF inv_f, Duration w, Duration slide) const -> DStream<T> {
    detail::check_window("reduce_by_window", w, slide, slide_duration());
    return add_node<T>(std::make_shared<detail::ReduceWindowNode<T, F, InvF>>(
        node_, std::move(f), std::move(inv_f), w, slide));
  }

  /// window(w, slide).count(), kept incrementally: one count per window, 0 when it is empty.
  DStream<std::int64_t> count_by_window(Duration w, Duration slide) const {
    detail::check_window("count_by_window", w, slide, slide_duration());
    return add_node<std::int64_t>(std::make_shared<detail::CountWindowNode<T>>(node_, w, slide));
  }

  /// window(w, slide).count_by_value(), kept incrementally.
  DStream<std::pair<T, std::int64_t>> count_by_value_and_window(
      Duration w, Duration slide, std::size_t num_partitions = 0) const {
    detail::check_window("count_by_value_and_window", w, slide, slide_duration());
    auto ones = add_step<std::pair<T, std::int64_t>>("count_by_value_and_window",
                                                     detail::MapStep<One>{One{}});
    return ones.reduce_by_key_and_window(std::plus<std::int64_t>{}, std::minus<std::int64_t>{}, w,
                                         slide, num_partitions);
  }

  /// The batches between from and to (both inclusive, floored to the slide grid) that the stream
  /// still remembers (see StreamingContext::remember). Only after start().
  std::vector<Batch<T>> slice(Time from, Time to) const {
    const auto zero = graph_->zero_time();
    if (!zero) throw IllegalState("DStream::slice: the context has not started");
    if (to < from) {
      throw InvalidArgument(fmt::format("DStream::slice: from ({}) is after to ({})", from, to));
    }
    const Duration slide = slide_duration();
    const auto align = [&](Time x) { return *zero + (x - *zero) / slide * slide; };
    std::vector<Batch<T>> out;
    for (Time t = align(from); t <= align(to); t += slide) {
      if (t <= *zero) continue;
      if (auto batch = node_->cached(t)) out.push_back(*batch);
    }
    return out;
  }

  // ---- operations of key-value streams (T = std::pair<K, V>) ----

  /// (k, f(f(v1, v2), v3)...) per key; f associative and commutative; combined map-side.
  template <class F>
  requires KeyValue<T>
  auto reduce_by_key(F f, std::size_t num_partitions = 0) const -> DStream<T> {
    using K = typename T::first_type;
    using V = typename T::second_type;
    using Policy = detail::ReducePolicy<V, F>;
    return add_node<T>(std::make_shared<detail::CombineByKeyNode<K, V, V, Policy>>(
        "reduce_by_key", node_, Policy{std::move(f)}, partitions(num_partitions)));
  }

  /// (k, [v...]) per key, values in input order.
  template <class P = T>
  requires KeyValue<P>
  auto group_by_key(std::size_t num_partitions = 0) const {
    using K = typename T::first_type;
    using V = typename T::second_type;
    return add_node<std::pair<K, std::vector<V>>>(
        std::make_shared<detail::CombineByKeyNode<K, V, std::vector<V>, detail::GroupPolicy<V>>>(
            "group_by_key", node_, detail::GroupPolicy<V>{}, partitions(num_partitions)));
  }

  /// Spark's combineByKey: create(v) -> C, merge_value(C, v) -> C, merge_combiners(C, C) -> C.
  template <class Create, class MergeValue, class MergeCombiners>
  requires KeyValue<T>
  auto combine_by_key(Create create, MergeValue merge_value, MergeCombiners merge_combiners,
                      std::size_t num_partitions = 0) const {
    using K = typename T::first_type;
    using V = typename T::second_type;
    using C = std::remove_cvref_t<std::invoke_result_t<Create&, const V&>>;
    using Policy = detail::CombinePolicy<V, C, Create, MergeValue, MergeCombiners>;
    return add_node<std::pair<K, C>>(std::make_shared<detail::CombineByKeyNode<K, V, C, Policy>>(
        "combine_by_key", node_,
        Policy{std::move(create), std::move(merge_value), std::move(merge_combiners)},
        partitions(num_partitions)));
  }

  /// (k, ([v...], [w...])) for every key of either stream. Like the joins below, it needs both
  /// streams to have the same slide (rill::InvalidArgument otherwise, naming both slides).
  template <class W, class P = T>
  requires KeyValue<P>
  auto cogroup(const DStream<std::pair<typename P::first_type, W>>& other,
               std::size_t num_partitions = 0) const {
    return cogrouped<W>("DStream::cogroup", other, num_partitions);
  }

  // join(table) and left_outer_join(table), with a StaticTable: detail::StepOps.
  using detail::StepOps<DStream<T>, T>::join;
  using detail::StepOps<DStream<T>, T>::left_outer_join;

  /// (k, (v, w)) for every pair of values with the same key.
  template <class W, class P = T>
  requires KeyValue<P>
  auto join(const DStream<std::pair<typename P::first_type, W>>& other,
            std::size_t num_partitions = 0) const {
    return joined<W, false, false>("join", other, num_partitions);
  }
  /// (k, (v, Some(w) or None)).
  template <class W, class P = T>
  requires KeyValue<P>
  auto left_outer_join(const DStream<std::pair<typename P::first_type, W>>& other,
                       std::size_t num_partitions = 0) const {
    return joined<W, true, false>("left_outer_join", other, num_partitions);
  }
  /// (k, (Some(v) or None, w)).
  template <class W, class P = T>
  requires KeyValue<P>
  auto right_outer_join(const DStream<std::pair<typename P::first_type, W>>& other,
                        std::size_t num_partitions = 0) const {
    return joined<W, false, true>("right_outer_join", other, num_partitions);
  }
  /// (k, (Some(v) or None, Some(w) or None)).
  template <class W, class P = T>
  requires KeyValue<P>
  auto full_outer_join(const DStream<std::pair<typename P::first_type, W>>& other,
                       std::size_t num_partitions = 0) const {
    return joined<W, true, true>("full_outer_join", other, num_partitions);
  }

  /// window(w, slide).reduce_by_key(f), reducing each batch by key first.
  template <class F>
  requires KeyValue<T>
  auto reduce_by_key_and_window(F f, Duration w, Duration slide,
                                std::size_t num_partitions = 0) const -> DStream<T> {
    detail::check_window("reduce_by_key_and_window", w, slide, slide_duration());
    return reduce_by_key(f, num_partitions).window(w, slide).reduce_by_key(f, num_partitions);
  }

  /// The same result as reduce_by_key_and_window(f, w, slide), updated incrementally with the
  /// inverse inv_f; a key with no record left in the window disappears (unlike Spark).
  template <class F, class InvF>
  requires KeyValue<T> && detail::NotDuration<InvF>
  auto reduce_by_key_and_window(F f, InvF inv_f, Duration w, Duration slide,
                                std::size_t num_partitions = 0) const -> DStream<T> {
    return keyed_window<F, InvF, bool (*)(const T&)>(std::move(f), std::move(inv_f), std::nullopt,
                                                     w, slide, num_partitions);
  }

  /// As above, keeping only the (k, v) for which filter_fn is true.
  template <class F, class InvF, class Filter>
  requires KeyValue<T> && std::predicate<Filter&, const T&>
  auto reduce_by_key_and_window(F f, InvF inv_f, Duration w, Duration slide, Filter filter_fn,
                                std::size_t num_partitions = 0) const -> DStream<T> {
    return keyed_window<F, InvF, Filter>(std::move(f), std::move(inv_f), std::move(filter_fn), w,
                                         slide, num_partitions);
  }

  /// window(w, slide).group_by_key(): values in input order.
  template <class P = T>
  requires KeyValue<P>
  auto group_by_key_and_window(Duration w, Duration slide, std::size_t num_partitions = 0) const {
    detail::check_window("group_by_key_and_window", w, slide, slide_duration());
    return window(w, slide).group_by_key(num_partitions);
  }

  // ---- state ----

  /// fn(const std::vector<V>& new_values, std::optional<S> state) -> std::optional<S>, every
  /// batch, for every key with new values or state; std::nullopt removes the key. S is deduced
  /// from fn's return type; write update_state_by_key<S>(...) for a generic lambda.
  template <class S = void, class F>
  requires KeyValue<T>
  auto update_state_by_key(F fn, std::size_t num_partitions = 0) const {
    using St = detail::state_type_of<S, F>;
    return update_state_by_key<St>(
        std::move(fn), std::vector<std::pair<typename T::first_type, St>>{}, num_partitions);
  }

  /// As above, starting from `initial` states.
  template <class S = void, class F, class P = T>
  requires KeyValue<P>
  auto update_state_by_key(
      F fn, std::vector<std::pair<typename P::first_type, detail::state_type_of<S, F>>> initial,
      std::size_t num_partitions = 0) const {
    using K = typename T::first_type;
    using V = typename T::second_type;
    using St = detail::state_type_of<S, F>;
    static_assert(
        std::is_invocable_r_v<std::optional<St>, F&, const std::vector<V>&, std::optional<St>>,
        "update_state_by_key: fn must be callable as fn(const std::vector<V>&, "
        "std::optional<S>) -> std::optional<S>");
    return add_node<std::pair<K, St>>(std::make_shared<detail::UpdateStateNode<K, V, St, F>>(
        node_, std::move(fn), std::move(initial), partitions(num_partitions)));
  }

  /// Spark's mapWithState: fn(key, value, State<S>&) -> M once per record, plus one call with
  /// std::nullopt for a key that timed out. The result also has state_snapshots().
  template <class K, class V, class S, class F>
  requires KeyValue<T> && std::same_as<T, std::pair<K, V>>
  auto map_with_state(const StateSpec<K, V, S, F>& spec) const {
    using M = std::remove_cvref_t<std::invoke_result_t<F&, const K&, std::optional<V>, State<S>&>>;
    static_assert(!std::is_void_v<M>, "map_with_state: fn must return the value to emit");
    auto node = std::make_shared<detail::MapWithStateNode<K, V, S, M, F>>(
        node_, spec, partitions(spec.num_partitions()));
    graph_->check_open("DStream::map_with_state");
    graph_->add_node(node);
    return MapWithStateDStream<K, V, S, M, F>(graph_, std::move(node));
  }

  // ---- output operations ----

  /// f(const Batch<T>&, Time) on the batch thread, at every batch time of this stream. After a
  /// crash f may see a batch again (same time, same contents): at least once.
  template <class F>
  requires detail::BatchFunction<F, T>
  void foreach_batch(F f) const {
    to(std::make_shared<detail::ForeachSink<T, F>>(std::move(f), false));
  }
  /// The same, with the user's promise that f is idempotent per batch time (running batch t
  /// twice leaves what running it once does): counts as exactly once.
  template <class F>
  requires detail::BatchFunction<F, T>
  void foreach_batch(F f, idempotent_t) const {
    to(std::make_shared<detail::ForeachSink<T, F>>(std::move(f), true));
  }

  /// Writes the first n records of every batch to stdout in Spark's layout, flushed per batch.
  void print(std::size_t n = 10) const { to(std::make_shared<detail::PrintSink<T>>(n)); }

  /// One text file per batch, `prefix-<ms>[.suffix]`, one record a line, written atomically.
  void save_as_text_files(std::string prefix, std::string suffix = "") const {
    if (prefix.empty()) throw InvalidArgument("DStream::save_as_text_files: the prefix is empty");
    to(std::make_shared<detail::TextFilesSink<T>>(std::move(prefix), std::move(suffix)));
  }

  /// One file of JSON Lines per batch (`prefix-<ms>[.suffix]`, one record a line as
  /// rill::json::format writes it), written as save_as_text_files writes its files: atomically,
  /// exactly once across restarts, an empty file for an empty batch. Throws
  /// rill::InvalidArgument for an empty prefix.
  template <class S = T>
  requires json::Writable<S>
  void save_as_json_files(std::string prefix, std::string suffix = "") const {
    if (prefix.empty()) throw InvalidArgument("DStream::save_as_json_files: the prefix is empty");
    to(std::make_shared<detail::TextFilesSink<T, formats::detail::JsonLine>>(
        std::move(prefix), std::move(suffix), "save_as_json_files"));
  }

  /// One CSV file per batch (`prefix-<ms>[.suffix]`, one record a line as rill::csv::format
  /// writes it), as save_as_text_files writes its files; with csv::Header::write every file,
  /// an empty batch's too, starts with rill::csv::header<T>() (Spark's default is no header:
  /// csv::Header::omit). Throws rill::InvalidArgument for an empty prefix.
  template <class S = T>
  requires csv::Record<S>
  void save_as_csv_files(std::string prefix, std::string suffix = "",
                         csv::Header header = csv::Header::omit) const {
    if (prefix.empty()) throw InvalidArgument("DStream::save_as_csv_files: the prefix is empty");
    to(std::make_shared<detail::TextFilesSink<T, formats::detail::CsvLine>>(
        std::move(prefix), std::move(suffix), "save_as_csv_files",
        header == csv::Header::write ? csv::header<T>() : std::string()));
  }

  /// Writes every batch of this stream to `sink` (an output operation, like print): rill's own
  /// outputs are registered this way too (Kafka Streams' `to`, Flink's `sinkTo`). Before
  /// start(); throws rill::InvalidArgument for a null sink, rill::IllegalState after start().
  void to(std::shared_ptr<Sink<T>> sink) const {
    if (!sink) throw InvalidArgument("DStream::to: the sink is null");
    graph_->check_open(fmt::format("DStream::{}", sink->kind()));
    graph_->add_output(std::make_shared<detail::SinkOutput<T>>(node_, std::move(sink)));
  }

  /// Internal.
  [[nodiscard]] const std::shared_ptr<detail::Node<T>>& node() const noexcept { return node_; }
  [[nodiscard]] const std::shared_ptr<detail::Graph>& graph() const noexcept { return graph_; }

 private:
  struct One {
    std::pair<T, std::int64_t> operator()(const T& x) const { return {x, 1}; }
  };

  template <class U, class Step>
  auto add_step(const char* kind, Step step) const {
    return add_step_on<U>(node_, kind, std::move(step));
  }
  /// A step node reading `parent` (node_, with its static type when known): the stream it
  /// returns keeps the new node's static type, so that the next step fuses into it.
  template <class U, class Step, class Parent>
  auto add_step_on(std::shared_ptr<Parent> parent, const char* kind, Step step) const {
    using N = detail::StepNode<T, U, Step, Parent>;
    auto node = std::make_shared<N>(kind, std::move(parent), std::move(step));
    graph_->check_open(fmt::format("DStream::{}", node->kind()));
    graph_->add_node(node);
    return StepDStream<U, N>(graph_, std::move(node));
  }

  /// Adds `node` to the graph; `call` names the user's call in errors (default
  /// `DStream::<kind>`). Graph::add_node checks that a node of several parents has one slide.
  template <class U>
  DStream<U> add_node(std::shared_ptr<detail::Node<U>> node, std::string_view call = {}) const {
    const std::string what =
        call.empty() ? fmt::format("DStream::{}", node->kind()) : std::string(call);
    graph_->check_open(what);
    graph_->add_node(node, what);
    return DStream<U>(graph_, std::move(node));
  }

  [[nodiscard]] std::size_t partitions(std::size_t requested) const noexcept {
    return requested == 0 ? graph_->parallelism() : requested;
  }

  void check_same_graph(const std::shared_ptr<detail::Graph>& other, std::string_view what) const {
    if (other != graph_) {
      throw InvalidArgument(fmt::format(
          "{}: the streams belong to different contexts; combine streams of one", what));
    }
  }

  /// cogroup(other), with `call` naming the user's call (cogroup or a join) in errors.
  template <class W, class Other>
  auto cogrouped(std::string_view call, const Other& other, std::size_t num_partitions) const {
    check_same_graph(other.graph(), call);
    using K = typename T::first_type;
    using V = typename T::second_type;
    using Node = detail::CoGroupNode<K, V, W>;
    return add_node<typename Node::Out>(
        std::make_shared<Node>(node_, other.node(), partitions(num_partitions)), call);
  }

  template <class W, bool KeepLeft, bool KeepRight, class Other>
  auto joined(const char* kind, const Other& other, std::size_t num_partitions) const {
    using K = typename T::first_type;
    using V = typename T::second_type;
    using Step = detail::JoinStep<K, V, W, KeepLeft, KeepRight>;
    auto groups = cogrouped<W>(fmt::format("DStream::{}", kind), other, num_partitions);
    return groups.template add_step<typename Step::Out>(kind, Step{});
  }

  template <class F, class InvF, class Filter>
  DStream<T> keyed_window(F f, InvF inv_f, std::optional<Filter> filter, Duration w, Duration slide,
                          std::size_t num_partitions) const {
    using K = typename T::first_type;
    using V = typename T::second_type;
    detail::check_window("reduce_by_key_and_window", w, slide, slide_duration());
    return add_node<T>(std::make_shared<detail::KeyedWindowNode<K, V, F, InvF, Filter>>(
        node_, std::move(f), std::move(inv_f), std::move(filter), w, slide,
        partitions(num_partitions)));
  }

  template <class U>
  friend class DStream;
  template <class U, class N>
  friend class StepDStream;
  friend class detail::StepOps<DStream<T>, T>;

  std::shared_ptr<detail::Graph> graph_;
  std::shared_ptr<detail::Node<T>> node_;
};

/// The stream a per-record step returns (map, filter, flat_map, map_values, flat_map_values):
/// a DStream<T> that also knows its node's type N, so that the steps applied to it compose
/// statically: a chain of them runs as one loop per partition, without a buffer between steps.
template <class T, class N>
class StepDStream : public DStream<T>, public detail::StepOps<StepDStream<T, N>, T> {
 public:
  using node_type = N;

  StepDStream(std::shared_ptr<detail::Graph> graph, std::shared_ptr<N> node)
      : DStream<T>(graph, node), typed_(std::move(node)) {}

  StepDStream name(std::string name) const {
    DStream<T>::name(std::move(name));
    return *this;
  }
  using DStream<T>::name;

  using detail::StepOps<StepDStream, T>::map;
  using detail::StepOps<StepDStream, T>::flat_map;
  using detail::StepOps<StepDStream, T>::filter;
  using detail::StepOps<StepDStream, T>::map_values;
  using detail::StepOps<StepDStream, T>::flat_map_values;
  using detail::StepOps<StepDStream, T>::parse_json;
  using detail::StepOps<StepDStream, T>::parse_csv;
  // Joins with a stream (shuffled) as DStream's; joins with a static table fuse into this node
  // (these two hide DStream's, which would read the node without its type).
  using DStream<T>::join;
  using DStream<T>::left_outer_join;
  template <class W, class P = T>
  requires KeyValue<P>
  auto join(const StaticTable<typename P::first_type, W>& table) const {
    return detail::StepOps<StepDStream, T>::join(table);
  }
  template <class W, class P = T>
  requires KeyValue<P>
  auto left_outer_join(const StaticTable<typename P::first_type, W>& table) const {
    return detail::StepOps<StepDStream, T>::left_outer_join(table);
  }

 private:
  friend class detail::StepOps<StepDStream, T>;
  /// The steps fuse into this node, whose type they know.
  template <class U, class Step>
  auto add_step(const char* kind, Step step) const {
    return this->template add_step_on<U>(typed_, kind, std::move(step));
  }

  std::shared_ptr<N> typed_;
};

/// The stream map_with_state returns: the mapped values, plus the state itself.
template <class K, class V, class S, class M, class F>
class MapWithStateDStream : public DStream<M> {
 public:
  MapWithStateDStream(std::shared_ptr<detail::Graph> graph,
                      std::shared_ptr<detail::MapWithStateNode<K, V, S, M, F>> node)
      : DStream<M>(graph, node), state_node_(std::move(node)) {}

  /// Every key and its state after each batch.
  DStream<std::pair<K, S>> state_snapshots() const {
    auto node = std::make_shared<detail::StateSnapshotNode<K, V, S, M, F>>(state_node_);
    this->graph()->check_open("DStream::state_snapshots");
    this->graph()->add_node(node);
    return DStream<std::pair<K, S>>(this->graph(), std::move(node));
  }

 private:
  std::shared_ptr<detail::MapWithStateNode<K, V, S, M, F>> state_node_;
};

}  // namespace rill

#include "rill/event_dstream.hpp"   // IWYU pragma: export
#include "rill/parsed_dstream.hpp"  // IWYU pragma: export
