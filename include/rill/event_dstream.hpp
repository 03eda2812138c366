#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "rill/core/time.hpp"
#include "rill/dstream.hpp"
#include "rill/dstream/detail/watermark_node.hpp"
#include "rill/dstream/detail/watermark_tracker.hpp"

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
  /// Internal: the context's watermarks.
  [[nodiscard]] std::shared_ptr<detail::WatermarkTracker> watermarks() const {
    return this->graph()->watermarks();
  }

 private:
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
