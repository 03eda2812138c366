#include "checkpoint/wal_segment.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "checkpoint/frame_bytes.hpp"
#include "rill/core/errors.hpp"

namespace rill::detail {

namespace fs = std::filesystem;

namespace {

constexpr char kSegmentMagic[4] = {'R', 'W', 'A', 'L'};
constexpr char kFrameMagic[4] = {'R', 'W', 'B', 'K'};
constexpr std::uint32_t kSkippedBefore = 1;

struct Frame {
  std::uint64_t seq = 0;
  std::uint32_t length = 0;
};

/// The whole frame at `pos`, or nullopt when the bytes there are not one.
std::optional<Frame> decode_frame(std::string_view data, std::size_t pos) {
  if (data.size() - pos < kFrameHeaderSize) return std::nullopt;
  if (std::memcmp(data.data() + pos, kFrameMagic, 4) != 0) return std::nullopt;
  const auto length = get<std::uint32_t>(data, pos + 4);
  if (data.size() - pos - kFrameHeaderSize < length) return std::nullopt;
  const std::string_view covered = data.substr(pos + 4, 12);  // length and sequence
  const std::string_view payload = data.substr(pos + kFrameHeaderSize, length);
  if (crc32(covered, payload) != get<std::uint32_t>(data, pos + 16)) return std::nullopt;
  return Frame{get<std::uint64_t>(data, pos + 8), length};
}

/// Why the bytes at `pos` are not a whole frame.
std::string why_not_a_frame(std::string_view data, std::size_t pos) {
  const std::size_t left = data.size() - pos;
  if (left < kFrameHeaderSize) {
    return fmt::format("{} bytes, less than a frame header of {}", left, kFrameHeaderSize);
  }
  if (std::memcmp(data.data() + pos, kFrameMagic, 4) != 0) return "no frame magic";
  const auto length = get<std::uint32_t>(data, pos + 4);
  if (left - kFrameHeaderSize < length) {
    return fmt::format("a frame of {} payload bytes with {} left in the file", length,
                       left - kFrameHeaderSize);
  }
  return "a frame that fails its checksum";
}

/// The offset of the first whole frame after `pos`, if any.
std::optional<std::size_t> next_whole_frame(std::string_view data, std::size_t pos) {
  for (std::size_t at = data.find(std::string_view(kFrameMagic, 4), pos + 1);
       at != std::string_view::npos; at = data.find(std::string_view(kFrameMagic, 4), at + 1)) {
    if (decode_frame(data, at)) return at;
  }
  return std::nullopt;
}

/// True when the file starts with a frame of the format before the segment header:
/// [sequence u64][length u32][CRC-32 of the payload u32][payload], numbered `first`.
bool is_headerless_segment(std::string_view data, std::uint64_t first) {
  constexpr std::size_t kOldHeader = 8 + 4 + 4;
  if (data.size() < kOldHeader) return false;
  const auto length = get<std::uint32_t>(data, 8);
  if (length == 0 || data.size() - kOldHeader < length) return false;
  return get<std::uint64_t>(data, 0) == first &&
         crc32(data.substr(kOldHeader, length)) == get<std::uint32_t>(data, 12);
}

[[noreturn]] void damaged(const fs::path& path, std::size_t offset, std::string_view what) {
  throw CheckpointError(fmt::format("write-ahead log segment '{}' is damaged at byte {}: {}",
                                    path.string(), offset, what));
}

}  // namespace

std::string encode_segment_header(std::uint64_t first, bool skipped_before) {
  std::string out(kSegmentMagic, 4);
  put(out, kWalVersion);
  put(out, first);
  put(out, skipped_before ? kSkippedBefore : std::uint32_t{0});
  put(out, crc32(out));
  return out;
}

void encode_frame(std::string& out, std::uint64_t seq, std::string_view payload) {
  const std::size_t start = out.size();
  out.append(kFrameMagic, 4);
  put(out, static_cast<std::uint32_t>(payload.size()));
  put(out, seq);
  put(out, crc32(std::string_view(out).substr(start + 4, 12), payload));
  out.append(payload);
}

SegmentScan scan_segment(const fs::path& path, std::uint64_t first,
                         std::optional<std::uint64_t> keep_from) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw CheckpointError(fmt::format("cannot open write-ahead log segment '{}': {}", path.string(),
                                      std::strerror(errno)));
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    throw CheckpointError(fmt::format("cannot read write-ahead log segment '{}'", path.string()));
  }
  const std::string_view data(bytes);
  SegmentScan scan;
  scan.first = first;
  scan.end = first;
  scan.size = data.size();
  if (data.empty()) return scan;  // created, and the process died before its first append

  // Bytes that are no frame are a torn tail only when no whole frame follows them.
  const auto not_a_frame = [&](std::size_t pos, std::string why) {
    if (auto next = next_whole_frame(data, pos)) {
      damaged(path, pos,
              fmt::format("{}, yet a whole frame follows at byte {}: a frame in the middle of the "
                          "segment was damaged, which no crash inside an append does",
                          why, *next));
    }
    scan.torn = fmt::format("{} bytes at byte {} that are no whole frame ({})", data.size() - pos,
                            pos, why);
  };

  if (data.size() >= kSegmentHeaderSize && std::memcmp(data.data(), kSegmentMagic, 4) == 0 &&
      crc32(data.substr(0, 20)) == get<std::uint32_t>(data, 20)) {
    const auto version = get<std::uint32_t>(data, 4);
    if (version != kWalVersion) {
      damaged(path, 4,
              fmt::format("segment format version {}, this rill reads version {}", version,
                          kWalVersion));
    }
    const auto header_first = get<std::uint64_t>(data, 8);
    if (header_first != first) {
      damaged(path, 8,
              fmt::format("its header says its first block is {}, its name says {}: the file "
                          "was renamed or copied",
                          header_first, first));
    }
    scan.skipped_before = (get<std::uint32_t>(data, 16) & kSkippedBefore) != 0;
  } else if (is_headerless_segment(data, first)) {
    throw CheckpointError(fmt::format(
        "write-ahead log segment '{}' has the format of an earlier rill (frames without a "
        "segment header); the log format changed and this rill reads only version {}: start it "
        "with a new checkpoint directory",
        path.string(), kWalVersion));
  } else {
    not_a_frame(0, data.size() < kSegmentHeaderSize
                       ? fmt::format("{} bytes, less than a segment header", data.size())
                       : std::string("no segment header: bad magic or checksum"));
    return scan;
  }

  std::size_t pos = kSegmentHeaderSize;
  while (pos < data.size()) {
    const auto frame = decode_frame(data, pos);
    if (!frame) {
      not_a_frame(pos, why_not_a_frame(data, pos));
      break;
    }
    if (frame->seq != scan.end) {
      damaged(path, pos,
              fmt::format("a frame of block {} where block {} belongs: a frame was copied from "
                          "another place or the sequence is not consecutive",
                          frame->seq, scan.end));
    }
    if (keep_from && frame->seq >= *keep_from) {
      scan.blocks.emplace_back(frame->seq,
                               std::string(data.substr(pos + kFrameHeaderSize, frame->length)));
    }
    ++scan.end;
    pos += kFrameHeaderSize + frame->length;
  }
  scan.valid_bytes = scan.torn ? pos : data.size();
  return scan;
}

}  // namespace rill::detail
