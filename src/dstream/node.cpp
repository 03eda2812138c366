#include "rill/dstream/detail/node.hpp"

namespace rill::detail {

OperatorNode::OperatorNode(std::string kind, std::vector<std::shared_ptr<OperatorNode>> parents,
                           Duration slide, std::size_t num_partitions)
    : kind_(std::move(kind)),
      parents_(std::move(parents)),
      slide_(slide),
      num_partitions_(num_partitions) {}

OperatorNode::~OperatorNode() = default;

}  // namespace rill::detail
