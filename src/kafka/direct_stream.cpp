#include <rill/kafka/direct_stream.hpp>

#include "kafka/direct_source.hpp"

#include <memory>
#include <utility>

namespace rill::kafka {

DStream<Record> direct_stream(StreamingContext& ctx, SourceOptions options) {
  return ctx.add_source<Record>(std::make_shared<detail::DirectSource>(std::move(options)));
}

}  // namespace rill::kafka
