#pragma once

namespace rill {

/// What an event-time aggregation emits each batch: Structured Streaming's output modes.
/// - `append`: a (window, key) once, in the first batch whose watermark is at or past the
///   window's end; then it leaves the state. Needs a watermark.
/// - `update`: every batch, the (window, key) entries that received a row, with their new values;
///   they leave the state silently once the watermark passes their end. Not for sessions.
/// - `complete`: every batch, every (window, key) in the state; nothing is dropped or evicted.
enum class OutputMode { append, update, complete };

}  // namespace rill
