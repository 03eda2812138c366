#include "rill/dstream/node.hpp"

namespace rill::detail {

NodeBase::NodeBase(std::string kind, std::vector<std::shared_ptr<NodeBase>> parents, Duration slide,
                   std::size_t num_partitions)
    : kind_(std::move(kind)),
      parents_(std::move(parents)),
      slide_(slide),
      num_partitions_(num_partitions) {}

NodeBase::~NodeBase() = default;

}  // namespace rill::detail
