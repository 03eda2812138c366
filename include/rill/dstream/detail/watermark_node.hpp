#pragma once

#include <concepts>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include "rill/core/time.hpp"
#include "rill/dstream/detail/node.hpp"
#include "rill/dstream/detail/watermark_tracker.hpp"

namespace rill::detail {

/// A callable reading a record's event time: `const T& -> rill::Time` (a member pointer works).
template <class F, class T>
concept EventTimeOf = std::invocable<const F&, const T&> &&
    std::convertible_to<std::invoke_result_t<const F&, const T&>, Time>;

/// Passes a partition's chunks on unchanged, noting the largest event time among them.
template <class T, class TimeOf>
class EventTimeSink final : public ChunkSink<T> {
 public:
  EventTimeSink(ChunkSink<T>& down, const TimeOf& time_of) : down_(down), time_of_(time_of) {}

  void push(std::span<const T> items) override {
    note(items);
    down_.push(items);
  }
  void push_owned(std::span<T> items) override {
    note(std::span<const T>(items.data(), items.size()));
    down_.push_owned(items);
  }
  /// The largest event time seen, if any record passed.
  [[nodiscard]] std::optional<Time> max() const noexcept {
    if (!seen_) return std::nullopt;
    return max_;
  }

 private:
  void note(std::span<const T> items) {
    for (const T& x : items) {
      const Time e = std::invoke(time_of_, x);
      if (!seen_ || e > max_) max_ = e;
      seen_ = true;
    }
  }

  ChunkSink<T>& down_;
  const TimeOf& time_of_;
  Time max_{};
  bool seen_ = false;
};

/// `with_watermark(time_of, delay)`: the parent's records unchanged (nothing is dropped here), in
/// the same pass as the narrow operators around it, while the largest event time of each batch
/// goes to the context's WatermarkTracker (Spark's EventTimeWatermark node). Registered with the
/// tracker when the graph freezes, so only inputs some output depends on count.
template <class T, class TimeOf>
class WatermarkNode final : public Node<T> {
 public:
  WatermarkNode(std::shared_ptr<Node<T>> parent, TimeOf time_of, Duration delay,
                Duration idle_timeout, std::shared_ptr<WatermarkTracker> tracker)
      : Node<T>("with_watermark", {parent}, parent->slide(), parent->num_partitions()),
        parent_(std::move(parent)),
        time_of_(std::move(time_of)),
        delay_(delay),
        idle_timeout_(idle_timeout),
        tracker_(std::move(tracker)) {}

  [[nodiscard]] bool fusable() const noexcept override { return true; }
  void on_freeze() override { probe_ = &tracker_->add_input(this->name(), delay_, idle_timeout_); }

 protected:
  void prepare_stream(Time t, Exec& ex) override { parent_->prepare(t, ex); }
  void stream_partition(Time t, std::size_t p, ChunkSink<T>& down) override {
    EventTimeSink<T, TimeOf> sink(down, time_of_);
    parent_->stream(t, p, sink);
    if (auto max = sink.max(); max && probe_ != nullptr) probe_->observe(*max);
  }

 private:
  std::shared_ptr<Node<T>> parent_;
  TimeOf time_of_;
  Duration delay_;
  Duration idle_timeout_;
  std::shared_ptr<WatermarkTracker> tracker_;
  EventTimeProbe* probe_ = nullptr;
};

}  // namespace rill::detail
