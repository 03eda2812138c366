#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "rill/core/time.hpp"

namespace rill {

/// Options of socket_text_stream.
struct SocketOptions {
  /// A longer line is skipped, counted and logged instead of buffered.
  std::size_t max_line_bytes = std::size_t{1} << 20;
  /// First wait before reconnecting after a refused or closed connection; doubles up to the max.
  Duration reconnect_backoff{100};
  Duration max_reconnect_backoff{2000};
};

/// Options of text_file_stream (Spark's textFileStream / FileInputDStream).
struct FileStreamOptions {
  /// Ignore the files already in the directory at start(). Not under Trigger::available_now,
  /// whose input is exactly the files in the directory at start() (less those a checkpoint
  /// says were processed).
  bool new_files_only = true;
  /// Spark's minRememberDuration. Under the system clock, a file modified longer ago than this
  /// is skipped (counted, logged), and a file name is remembered (and checkpointed) for this
  /// long after it was first listed; see docs/operators.md.
  Duration remember{std::chrono::seconds(60)};
  /// A longer line (bytes, without its line end) is skipped, counted and logged instead of
  /// buffered, as SocketOptions::max_line_bytes. Must be positive.
  std::size_t max_line_bytes = std::size_t{1} << 20;
  /// Bytes of files one batch reads at most (whole lines; the first line of a batch is taken
  /// even if longer): a larger file, or many files, are read over consecutive batches, each
  /// batch's seal record naming the byte range it took. Must be positive. Default 64 MiB.
  std::uint64_t max_bytes_per_batch = std::uint64_t{64} << 20;
  /// Files one batch reads at most (Spark's maxFilesPerTrigger), in every trigger mode: the files
  /// listed beyond it wait, in name order, for the next batches. A file a batch goes on reading
  /// from where the batch before stopped counts as one of its files, and so does a file that
  /// turns out empty or unreadable. nullopt (the default): no limit; 0 is refused
  /// (rill::InvalidArgument from text_file_stream).
  std::optional<std::size_t> max_files_per_batch = std::nullopt;
};

/// Options of rate_stream.
struct RateOptions {
  std::int64_t rows_per_second = 1000;
  /// The rate grows linearly from 0 to rows_per_second over this time.
  Duration ramp_up{0};
  /// Partitions of each batch; 0 means the context's parallelism.
  std::size_t num_partitions = 0;
};

/// One row of rate_stream: values 0, 1, 2, ... with no gaps or repeats.
struct RateRow {
  Time timestamp;
  std::int64_t value = 0;
  friend bool operator==(const RateRow&, const RateRow&) = default;
};

}  // namespace rill

template <>
struct fmt::formatter<rill::RateRow> : fmt::formatter<std::int64_t> {
  template <typename FormatContext>
  auto format(const rill::RateRow& r, FormatContext& ctx) const -> decltype(ctx.out()) {
    return fmt::format_to(ctx.out(), "RateRow({},{})", r.timestamp.milliseconds(), r.value);
  }
};
