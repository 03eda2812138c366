#pragma once

#include <string>

namespace rill {
class StreamingContext;
}

namespace rill::ops {

/// The context's metrics in Prometheus' text exposition format 0.0.4: what `/metrics` serves
/// (Content-Type `text/plain; version=0.0.4`). Names start with `rill_`, carry their unit
/// (`_seconds`, `_bytes`, `_total` for counters), and label series by `source`, `operator` or
/// `output` name (escaped as the format says). Counters and histograms count every batch since
/// ctx.start() (StreamingContext::progress_totals()); gauges show the last completed batch.
/// docs/operations.md lists every metric. Thread-safe (reads the context's thread-safe
/// accessors); throws only std::bad_alloc.
[[nodiscard]] std::string prometheus_text(const StreamingContext& ctx);

}  // namespace rill::ops
