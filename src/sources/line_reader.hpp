#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace rill::detail {

/// Which lines read_line_range() takes.
struct LineLimits {
  /// Bytes of the file a call may take (lines with their '\n'): lines are taken whole while
  /// the range stays within it, and the first line always, so a range advances.
  std::uint64_t budget = std::numeric_limits<std::uint64_t>::max();
  /// The first byte not to read: a replay reads the exact range a seal took.
  std::uint64_t limit = std::numeric_limits<std::uint64_t>::max();
  /// A longer line (without its '\n' and '\r') is skipped and counted, not buffered.
  std::size_t max_line_bytes = std::size_t{1} << 20;
  /// The budget may be exceeded by the first line (the batch holds nothing yet).
  bool take_one = true;
};

/// What read_line_range() took: the range [begin, end) of whole lines.
struct LineRange {
  std::uint64_t end = 0;
  /// The range ends at the end of the file.
  bool at_end = false;
  /// Lines longer than max_line_bytes, skipped.
  std::int64_t too_long = 0;
};

/// Appends the lines of `file` from byte `begin` (the start of a line), read in chunks of
/// 1 MiB: lines end at '\n', a trailing '\r' is dropped, and a last line without '\n' counts.
/// Memory: one chunk, one line of at most max_line_bytes, and the lines taken. nullopt when
/// the file cannot be opened or read (then `lines` may hold part of the range: the caller drops
/// it). Not thread-safe on `lines`.
std::optional<LineRange> read_line_range(const std::filesystem::path& file, std::uint64_t begin,
                                         const LineLimits& limits, std::vector<std::string>& lines);

}  // namespace rill::detail
