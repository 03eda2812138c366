#pragma once

#include <string>
#include <vector>

namespace rill {

/// One operator of a running context's graph (StreamingContext::operator_graph()).
struct OperatorGraphNode {
  /// Its stable name (DStream::name(), else `<kind>#<n>`).
  std::string name;
  /// Its kind (`map`, `reduce_by_key`, `queue_stream`...).
  std::string kind;
  /// The names of the operators it reads, in order (none for an input stream).
  std::vector<std::string> parents;
};

/// One output operation and the operator it writes.
struct OperatorGraphOutput {
  /// `<sink kind>#<n>`, as OutputProgress::name.
  std::string name;
  std::string parent;
};

/// The operators that run (those some output depends on), parents before children, and the
/// outputs in registration order: a read-only description for status pages (the DAG of Spark's
/// UI). A value: it holds no reference into the context.
struct OperatorGraph {
  std::vector<OperatorGraphNode> operators;
  std::vector<OperatorGraphOutput> outputs;
};

}  // namespace rill
