// /progress: the recent progress records as one JSON array.
#include "ops/json_endpoints.hpp"

#include <vector>

#include "rill/core/progress_json.hpp"
#include "rill/streaming_context.hpp"

namespace rill::ops::detail {

std::string progress_json(const StreamingContext& ctx) {
  const std::vector<BatchInfo> records = ctx.recent_progress();
  std::string out = "[";
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i > 0) out += ',';
    out += rill::to_json(records[i]);
  }
  out += ']';
  return out;
}

}  // namespace rill::ops::detail
