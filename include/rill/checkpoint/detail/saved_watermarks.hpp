#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "rill/core/serialization.hpp"
#include "rill/core/time.hpp"

namespace rill::detail {

/// The watermarks a checkpoint holds (docs/checkpoint-format.md), as one entry named
/// `rill.watermarks` of kind `watermark`: written and read by the WatermarkTracker
/// (dstream/detail/watermark_tracker.hpp), read offline by rill::CheckpointReader.
struct SavedWatermarks {
  /// One input: its stream name, watermark, last batch with a record, and whether it is idle.
  using Input = std::tuple<std::string, std::optional<Time>, std::optional<Time>, bool>;
  static constexpr std::string_view kName = "rill.watermarks";
  static constexpr std::string_view kKind = "watermark";

  std::vector<Input> inputs;
  std::optional<Time> first_batch;
  std::optional<Time> global;      // at the end of the batch: the next batch's wm(t)
  std::optional<Time> in_force;    // wm(t) of the batch
  std::optional<Time> late_bound;  // wm(t - interval) of the batch

  [[nodiscard]] static std::uint64_t fingerprint() {
    return type_fingerprint<std::vector<Input>, std::optional<Time>>();
  }
  [[nodiscard]] std::string encode() const {
    return to_bytes(inputs, first_batch, global, in_force, late_bound);
  }
  /// Throws cereal::Exception on malformed bytes.
  [[nodiscard]] static SavedWatermarks decode(std::string_view bytes) {
    SavedWatermarks saved;
    from_bytes(bytes, saved.inputs, saved.first_batch, saved.global, saved.in_force,
               saved.late_bound);
    return saved;
  }
};

}  // namespace rill::detail
