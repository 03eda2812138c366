#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rill::detail {

/// The file format of one write-ahead log segment, `log-<first>.wal` (docs/checkpoint-format.md,
/// "Write-ahead log segments"): a 24-byte header, then one frame per block. Integers are in the
/// machine's byte order. No all-zero bytes decode as a header or a frame: both start with a magic,
/// and both checksums (Boost.CRC `crc_32_type`) cover their length and sequence fields.
///
/// header: magic `RWAL` | version u32 | first sequence u64 | flags u32 | CRC-32 of the 20 bytes
///         before it. Flag bit 0: the append that would have held sequence `first - 1` was torn by
///         a crash, so this segment skips that number.
/// frame:  magic `RWBK` | payload length u32 | sequence u64 | CRC-32 of (length, sequence,
///         payload) u32 | payload.
inline constexpr std::uint32_t kWalVersion = 1;
inline constexpr std::size_t kSegmentHeaderSize = 4 + 4 + 8 + 4 + 4;
inline constexpr std::size_t kFrameHeaderSize = 4 + 4 + 8 + 4;
/// The largest payload one frame holds (its length field is 32 bits).
inline constexpr std::size_t kMaxFramePayload = 0xffffffffU;

/// The header of a segment whose first block is `first`; `skipped_before` sets flag bit 0.
[[nodiscard]] std::string encode_segment_header(std::uint64_t first, bool skipped_before);

/// Appends to `out` the frame of block `seq`. The payload must not exceed kMaxFramePayload bytes.
void encode_frame(std::string& out, std::uint64_t seq, std::string_view payload);

/// What one segment file holds, as scan_segment() read it.
struct SegmentScan {
  std::uint64_t first = 0;  // the sequence of its first block (the file name's)
  /// Header flag bit 0; nullopt when the header itself is torn (the file is shorter than a header
  /// or the header does not decode) or the file is empty.
  std::optional<bool> skipped_before;
  std::uint64_t end = 0;          // first + the number of whole frames
  std::uint64_t valid_bytes = 0;  // the header and the whole frames
  std::uint64_t size = 0;         // the file's size in bytes
  /// Why the bytes from valid_bytes to size are not a whole frame; nullopt when there are none.
  /// Such bytes at the end of a segment are what a crash inside an append leaves: the caller
  /// decides whether this segment could have been torn.
  std::optional<std::string> torn;
  std::vector<std::pair<std::uint64_t, std::string>> blocks;  // the blocks with seq >= keep_from
};

/// Reads segment `path`, named for sequence `first`, and returns its blocks with sequence >=
/// `keep_from` (none when nullopt). Throws rill::CheckpointError naming the file and the byte
/// offset for what no crash inside an append leaves: a file that cannot be read, a segment of an
/// earlier format (rill before the segment header: refused, the format changed) or of another
/// version, a header naming another first sequence (a renamed file), a whole frame whose sequence
/// is not the next one (a copied frame), and bytes that are no frame followed by a whole frame (a
/// damaged frame in the middle).
[[nodiscard]] SegmentScan scan_segment(const std::filesystem::path& path, std::uint64_t first,
                                       std::optional<std::uint64_t> keep_from);

}  // namespace rill::detail
