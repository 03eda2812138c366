#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rill::detail {

/// A receiver's write-ahead log, seen from the (templated) receiver input: opaque blocks with
/// increasing sequence numbers, durable when append() returns (Spark's receiver write-ahead
/// log). Implemented in src/checkpoint/write_ahead_log.cpp; thread-safe. Every method throws
/// rill::CheckpointError naming the file and byte offset when the log cannot be written or read,
/// or is damaged in a way no crash leaves (docs/checkpoint-format.md, "Write-ahead log segments").
class BlockLog {
 public:
  virtual ~BlockLog() = default;
  /// Writes the block durably (fdatasync) and returns its sequence number.
  virtual std::uint64_t append(std::string_view block) = 0;
  /// The blocks with sequence numbers >= first, in order. A number the log skipped (see torn())
  /// or dropped by truncate_before() is absent.
  [[nodiscard]] virtual std::vector<std::pair<std::uint64_t, std::string>> read_from(
      std::uint64_t first) const = 0;
  /// The newest block, if any.
  [[nodiscard]] virtual std::optional<std::pair<std::uint64_t, std::string>> last() const = 0;
  /// The sequence number the next append() gets. Every block below it that the log still holds
  /// was written before this log was opened or by this object.
  [[nodiscard]] virtual std::uint64_t next() const = 0;
  /// When the append that got (or would have got) number `seq` was torn by a crash and its block
  /// lost: where the log found the torn bytes (file and byte offset). Such a number is never
  /// reused. nullopt otherwise.
  [[nodiscard]] virtual std::optional<std::string> torn(std::uint64_t seq) const = 0;
  /// Where the log lives (its directory), for messages.
  [[nodiscard]] virtual std::string location() const = 0;
  /// Forgets the blocks before `first` (deleting whole segments).
  virtual void truncate_before(std::uint64_t first) = 0;
};

}  // namespace rill::detail
