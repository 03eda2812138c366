#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "rill/dstream.hpp"
#include "rill/dstream/time_window.hpp"

namespace rill {

/// The result of EventDStream::aggregate_by_window: a `DStream<Windowed<K, R>>` (one element per
/// emitted (window, key), as the output mode says), plus late_records(), the input rows of type T
/// that came too late for every window they belong to (Spark drops them silently).
///
/// Thread-safety: as DStream (a handle; build the graph from one thread, before start()).
template <class K, class R, class T>
class WindowedDStream : public DStream<Windowed<K, R>> {
 public:
  /// `make_late` builds the late_records() node when it is first asked for.
  WindowedDStream(std::shared_ptr<detail::Graph> graph,
                  std::shared_ptr<detail::Node<Windowed<K, R>>> node,
                  std::function<std::shared_ptr<detail::Node<T>>()> make_late)
      : DStream<Windowed<K, R>>(std::move(graph), std::move(node)),
        make_late_(std::make_shared<LateFactory>(std::move(make_late))) {}

  /// Gives the stream a stable, unique name (its state is checkpointed under it), keeping the
  /// type.
  WindowedDStream name(std::string name) const {
    DStream<Windowed<K, R>>::name(std::move(name));
    return *this;
  }
  using DStream<Windowed<K, R>>::name;

  /// Each input row that contributed to none of its windows (all had ended by the previous
  /// batch's watermark), in the batch that dropped it, partitioned as the input was. Their count
  /// is the operator's StateInfo::late_records. The same stream on every call.
  DStream<T> late_records() const {
    if (!make_late_->node) {
      this->graph()->check_open("WindowedDStream::late_records");
      make_late_->node = make_late_->make();
      this->graph()->add_node(make_late_->node, "WindowedDStream::late_records");
    }
    return DStream<T>(this->graph(), make_late_->node);
  }

 private:
  struct LateFactory {
    explicit LateFactory(std::function<std::shared_ptr<detail::Node<T>>()> m)
        : make(std::move(m)) {}
    std::function<std::shared_ptr<detail::Node<T>>()> make;
    std::shared_ptr<detail::Node<T>> node;
  };
  std::shared_ptr<LateFactory> make_late_;
};

}  // namespace rill
