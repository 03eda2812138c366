#pragma once

#include <string>

#include "rill/core/listener.hpp"

namespace rill {

/// One batch's progress record (BatchInfo) as one line of JSON, without a trailing newline: the
/// format of Config::progress_log() and of what an HTTP endpoint serves (Spark's
/// StreamingQueryProgress.json). Keys are snake_case with their unit in the name (`_ms`, `_us`,
/// `_bytes`, `_per_second`), in a fixed order; absent values are `null` (`watermark_ms`,
/// `checkpoint`, a source's `queue`). Rates are rounded to 3 decimals and written as integers
/// when whole. docs/operations.md gives the schema with an example line. Built with Boost.JSON
/// (strings escaped per RFC 8259); pure and thread-safe. Throws only std::bad_alloc.
[[nodiscard]] std::string to_json(const BatchInfo& info);

}  // namespace rill
