#pragma once
// The text a grouped direct stream's claim commits as a partition's offset metadata
// (rd_kafka_topic_partition_t::metadata; docs/kafka.md, "Consumer groups"): which process claimed
// which offsets of the partition for which batch, and the claims of killed processes carried
// forward by the partition's later owners, so that a killed process, restarted on its
// checkpoint, finds the claims it made and never sealed.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rill::kafka::detail {

/// One claim of a partition: process `token` (32 lowercase hex digits, the token its checkpoint
/// keeps) claimed the offsets [from, until) for its batch `batch_ms` (the batch time, ms since
/// the epoch).
struct Claim {
  std::string token;
  std::int64_t batch_ms = 0;
  std::int64_t from = 0;
  std::int64_t until = 0;

  friend bool operator==(const Claim&, const Claim&) = default;
};

/// The metadata of a partition's committed offset: the claim that committed it (none when the
/// commit names none: a process without a checkpoint) and the claims carried forward ("owed"),
/// oldest first. Text, version 1:
///
///     rill1 <primary> [<owed> ...]     each claim "<token>:<batch_ms>:<from>:<until>", "-" for
///                                      no primary
///
/// At most 1 + kMaxOwed claims, about 90 bytes each: well under Kafka's default
/// offset.metadata.max.bytes (4096). A value type; not thread-safe to share while modified.
class ClaimMetadata {
 public:
  /// Claims carried forward at most; the oldest are dropped beyond it (carry()).
  static constexpr std::size_t kMaxOwed = 8;

  /// What a new claim carries forward, and what did not fit.
  struct Carried {
    std::vector<Claim> owed;     // oldest first, at most kMaxOwed
    std::vector<Claim> dropped;  // the oldest, beyond kMaxOwed
  };

  std::optional<Claim> primary;
  std::vector<Claim> owed;

  /// The text above.
  [[nodiscard]] std::string format() const;
  /// Reads format()'s text; nullopt for text that is not this format (empty metadata, another
  /// client's, a later version): such a partition names no claim.
  [[nodiscard]] static std::optional<ClaimMetadata> parse(std::string_view text);
  /// The owed list of the next claim of the same partition by process `token`, whose batches up
  /// to `sealed_through` (ms) are known to be durably sealed: every claim of `found` (its owed
  /// ones, then its primary) except this process's own claims for batches up to
  /// `sealed_through` (sealed: nothing owed), without repeats; the oldest beyond kMaxOwed are
  /// dropped.
  [[nodiscard]] static Carried carry(const ClaimMetadata& found, std::string_view token,
                                     std::int64_t sealed_through);
  /// Every claim (owed ones, then the primary).
  [[nodiscard]] std::vector<Claim> claims() const;
};

/// A new random token (128 bits as 32 lowercase hex digits), from std::random_device.
[[nodiscard]] std::string new_claim_token();

/// True when `token` has the shape new_claim_token() gives.
[[nodiscard]] bool is_claim_token(std::string_view token) noexcept;

}  // namespace rill::kafka::detail
