#pragma once

#include <vector>

#include "rill/checkpoint/detail/checkpointed_state.hpp"
#include "rill/dstream/detail/node.hpp"
#include "rill/dstream/detail/table_versions.hpp"
#include "rill/dstream/detail/watermark_tracker.hpp"
#include "rill/sinks/detail/output.hpp"
#include "rill/sources/detail/input_source.hpp"

namespace rill::detail {

/// What the engine runs: the frozen graph, as the three contracts it drives. The graph (owned by
/// the context, which outlives the engine's threads) owns every object pointed to.
struct Plan {
  /// Nodes an output reaches, parents before children.
  std::vector<OperatorNode*> live;
  /// The input streams, in creation order.
  std::vector<InputSource*> inputs;
  /// The output operations, in registration order.
  std::vector<OutputOperation*> outputs;
  /// What checkpoints hold: inputs first, then live nodes, each once.
  std::vector<CheckpointedState*> stateful;
  /// The event-time watermarks, when an output depends on one; else null.
  WatermarkTracker* watermarks = nullptr;
  /// The static tables, in creation order: loaded at start(), pinned at every seal, reloaded
  /// (not checkpointed).
  std::vector<TableVersions*> tables;
};

}  // namespace rill::detail
