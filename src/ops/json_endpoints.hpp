#pragma once

#include <string>

namespace rill {
class StreamingContext;
}

namespace rill::ops::detail {

/// /progress: ctx.recent_progress() (up to 100 records, oldest first) as a JSON array of
/// rill::to_json() objects. Thread-safe; throws only std::bad_alloc.
[[nodiscard]] std::string progress_json(const StreamingContext& ctx);

/// /context: the context's lifecycle state, batch interval, operator graph (empty before
/// start()) and totals, as one JSON object (docs/operations.md gives its keys). Thread-safe;
/// throws only std::bad_alloc.
[[nodiscard]] std::string context_json(const StreamingContext& ctx);

}  // namespace rill::ops::detail
