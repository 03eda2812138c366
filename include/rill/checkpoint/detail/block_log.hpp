#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rill::detail {

/// A receiver's write-ahead log, seen from the (templated) receiver input: opaque blocks with
/// increasing sequence numbers, durable when append() returns. Implemented in
/// src/checkpoint/write_ahead_log.cpp; thread-safe.
class BlockLog {
 public:
  virtual ~BlockLog() = default;
  /// Writes the block durably (fsync) and returns its sequence number.
  virtual std::uint64_t append(std::string_view block) = 0;
  /// The blocks with sequence numbers >= first, in order.
  [[nodiscard]] virtual std::vector<std::pair<std::uint64_t, std::string>> read_from(
      std::uint64_t first) const = 0;
  /// The newest block, if any.
  [[nodiscard]] virtual std::optional<std::pair<std::uint64_t, std::string>> last() const = 0;
  /// Forgets the blocks before `first` (deleting whole segments).
  virtual void truncate_before(std::uint64_t first) = 0;
};

}  // namespace rill::detail
