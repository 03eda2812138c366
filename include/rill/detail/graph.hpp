#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rill/checkpoint/detail/checkpointed_state.hpp"
#include "rill/core/config.hpp"
#include "rill/dstream/detail/node.hpp"
#include "rill/dstream/detail/table_versions.hpp"
#include "rill/dstream/detail/watermark_tracker.hpp"
#include "rill/sinks/detail/output.hpp"
#include "rill/sources/detail/input_source.hpp"

namespace rill::detail {

/// The lazily built operator graph of one context (Spark's DStreamGraph). Shared by the context
/// and every DStream handle; closed for changes once the context starts or is destroyed.
class Graph {
 public:
  explicit Graph(Config config);

  [[nodiscard]] const Config& config() const noexcept { return config_; }
  [[nodiscard]] Duration interval() const noexcept { return config_.batch_interval(); }
  [[nodiscard]] std::size_t parallelism() const noexcept { return parallelism_; }

  /// Throws rill::IllegalState when operators can no longer be added; `what` names the call.
  void check_open(std::string_view what) const;
  /// Adds a node under the name `<kind>#<n>` (n counts that kind from 1, in creation order).
  /// `call` names the user's call in errors (default `DStream::<kind>`). Every node goes through
  /// here, so this is where the rule of multi-input operators is kept, once: all the parents of a
  /// node must have the same slide duration (Spark's "the slide duration of the streams must be
  /// the same"; otherwise the node would build batches at times a parent is not defined). Throws
  /// rill::InvalidArgument naming the call and both slides in ms, leaving the graph unchanged.
  void add_node(const std::shared_ptr<OperatorNode>& node, std::string_view call = {});
  /// Adds an input stream: `node` is its operator node, `source` the same object as an input.
  void add_input(const std::shared_ptr<OperatorNode>& node, InputSource& source);
  void add_output(const std::shared_ptr<OutputOperation>& op);
  /// Adds a static table of the context (StreamingContext::static_table) under the name
  /// `static_table#<n>`: the engine loads, pins and reloads it.
  void add_table(const std::shared_ptr<TableVersions>& table);
  /// Gives a node a stable name; names are unique within a graph, among streams and tables.
  void rename(OperatorNode& node, std::string name);
  /// Gives a table of this graph a name (StaticTable::name), unique as rename()'s.
  void rename_table(TableVersions& table, std::string name);

  /// Closes the graph and works out consumers and remember durations (start()).
  void freeze(Duration user_remember);
  /// Closes the graph for good (the context was destroyed).
  void close();
  [[nodiscard]] bool frozen() const;
  /// The zero time, once the context has started.
  void set_zero_time(Time zero);
  [[nodiscard]] std::optional<Time> zero_time() const;

  /// The input streams, in creation order.
  [[nodiscard]] const std::vector<InputSource*>& inputs() const noexcept { return sources_; }
  [[nodiscard]] const std::vector<std::shared_ptr<OutputOperation>>& outputs() const noexcept {
    return outputs_;
  }
  /// The context's static tables, in creation order (every one, used by a live stream or not:
  /// each loads at start()).
  [[nodiscard]] std::vector<TableVersions*> tables() const;
  /// Inputs, the watermarks (when an output depends on one) and live nodes that keep something
  /// across batches (have a state descriptor), each once, in that order (valid after freeze()).
  [[nodiscard]] std::vector<CheckpointedState*> stateful_nodes() const;
  /// The context's event-time watermarks (with_watermark streams register at freeze()).
  [[nodiscard]] const std::shared_ptr<WatermarkTracker>& watermarks() const noexcept {
    return watermarks_;
  }
  /// Nodes reachable from an output, parents before children (valid after freeze()).
  [[nodiscard]] const std::vector<OperatorNode*>& live_nodes() const noexcept { return live_; }

 private:
  Config config_;
  std::size_t parallelism_;
  mutable std::mutex mutex_;
  bool frozen_ = false;
  bool closed_ = false;
  std::optional<Time> zero_;
  std::map<std::string, std::size_t, std::less<>> kind_counts_;
  std::map<std::string, OperatorNode*, std::less<>> names_;
  std::map<std::string, TableVersions*, std::less<>> table_names_;
  std::vector<std::shared_ptr<TableVersions>> tables_;
  std::vector<std::shared_ptr<OperatorNode>> inputs_;
  std::vector<InputSource*> sources_;  // inputs_, as inputs
  std::vector<std::shared_ptr<OutputOperation>> outputs_;
  std::vector<OperatorNode*> live_;
  std::shared_ptr<WatermarkTracker> watermarks_;
};

}  // namespace rill::detail
