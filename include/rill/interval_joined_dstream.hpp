#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "rill/dstream.hpp"

namespace rill {

/// The result of EventDStream::interval_join and its outer forms: a `DStream<Out>` of the joined
/// rows, plus the rows each side dropped as late (`time <= wm(t − interval)`, on a side with a
/// watermark) as side outputs, as Flink's interval join offers `sideOutputLeftLateData` and
/// `sideOutputRightLateData` (Spark drops them silently). `L` is the left input's row type
/// (`std::pair<K, V>`), `R` the right one's (`std::pair<K, W>`).
///
/// Thread-safety: as DStream (a handle; build the graph from one thread, before start()).
template <class Out, class L, class R>
class IntervalJoinedDStream : public DStream<Out> {
 public:
  /// `make_left` / `make_right` build the side-output nodes when first asked for.
  IntervalJoinedDStream(std::shared_ptr<detail::Graph> graph,
                        std::shared_ptr<detail::Node<Out>> node,
                        std::function<std::shared_ptr<detail::Node<L>>()> make_left,
                        std::function<std::shared_ptr<detail::Node<R>>()> make_right)
      : DStream<Out>(std::move(graph), std::move(node)),
        left_(std::make_shared<Side<L>>(std::move(make_left))),
        right_(std::make_shared<Side<R>>(std::move(make_right))) {}

  /// Gives the stream a stable, unique name (its state is checkpointed under it), keeping the
  /// type.
  IntervalJoinedDStream name(std::string name) const {
    DStream<Out>::name(std::move(name));
    return *this;
  }
  using DStream<Out>::name;

  /// The left rows the join dropped as late, in the batch that dropped them, partitioned by key
  /// as the join routes them (one partition per join partition, arrival order within each).
  /// Together with right_late_records() they are the operator's StateInfo::late_records. The
  /// same stream on every call; call it before start(). Without a call the rows are only counted.
  DStream<L> left_late_records() const { return side(*left_, "left_late_records"); }
  /// The right rows the join dropped as late; as left_late_records().
  DStream<R> right_late_records() const { return side(*right_, "right_late_records"); }

 private:
  template <class Row>
  struct Side {
    explicit Side(std::function<std::shared_ptr<detail::Node<Row>>()> m) : make(std::move(m)) {}
    std::function<std::shared_ptr<detail::Node<Row>>()> make;
    std::shared_ptr<detail::Node<Row>> node;
  };
  template <class Row>
  DStream<Row> side(Side<Row>& s, const char* what) const {
    const std::string call = std::string("IntervalJoinedDStream::") + what;
    if (!s.node) {
      this->graph()->check_open(call);
      s.node = s.make();
      this->graph()->add_node(s.node, call);
    }
    return DStream<Row>(this->graph(), s.node);
  }
  std::shared_ptr<Side<L>> left_;
  std::shared_ptr<Side<R>> right_;
};

}  // namespace rill
