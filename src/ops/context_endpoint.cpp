// /context: what the status page draws besides the progress records: the context's state, its
// batch interval, the operator graph and the totals.
#include <boost/json.hpp>

#include "ops/context_state_name.hpp"
#include "ops/json_endpoints.hpp"
#include "rill/core/errors.hpp"
#include "rill/streaming_context.hpp"

namespace rill::ops::detail {
namespace {}  // namespace

std::string context_json(const StreamingContext& ctx) {
  const ContextState state = ctx.state();
  OperatorGraph graph;
  if (state != ContextState::initialized) {
    try {
      graph = ctx.operator_graph();
    } catch (const IllegalState&) {
      // start() is fixing the graph right now: served empty, the page asks again.
    }
  }
  const ProgressTotals totals = ctx.progress_totals();

  boost::json::object o;
  o["state"] = context_state_name(state);
  o["batch_interval_ms"] = ctx.config().batch_interval().count();
  boost::json::array operators;
  for (const auto& node : graph.operators) {
    boost::json::array parents;
    for (const auto& p : node.parents)
      parents.emplace_back(p);
    operators.emplace_back(boost::json::object{
        {"name", node.name}, {"kind", node.kind}, {"parents", std::move(parents)}});
  }
  o["operators"] = std::move(operators);
  boost::json::array outputs;
  for (const auto& out : graph.outputs)
    outputs.emplace_back(boost::json::object{{"name", out.name}, {"parent", out.parent}});
  o["outputs"] = std::move(outputs);
  o["totals"] = boost::json::object{
      {"batches", totals.batches},
      {"records", totals.records},
      {"back_pressured_batches", totals.back_pressured_batches},
      {"checkpoints", totals.checkpoints},
      {"checkpoint_bytes", totals.checkpoint_bytes},
  };
  return boost::json::serialize(o);
}

}  // namespace rill::ops::detail
