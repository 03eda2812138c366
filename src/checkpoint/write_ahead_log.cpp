#include "checkpoint/write_ahead_log.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "checkpoint/durable_file.hpp"
#include "checkpoint/wal_segment.hpp"
#include "rill/core/errors.hpp"
#include "rill/core/logging.hpp"

namespace rill::detail {

namespace fs = std::filesystem;

namespace {

/// The first sequence of a segment file name `log-<seq>.wal`; nullopt for other names.
std::optional<std::uint64_t> segment_first(const std::string& name) {
  if (!name.starts_with("log-") || !name.ends_with(".wal") || name.size() <= 8) return std::nullopt;
  const std::string_view digits = std::string_view(name).substr(4, name.size() - 8);
  std::uint64_t first = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), first);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return first;
}

}  // namespace

WriteAheadLog::WriteAheadLog(fs::path dir, std::uint64_t roll_bytes, std::chrono::seconds roll_age)
    : dir_(std::move(dir)), roll_bytes_(roll_bytes), roll_age_(roll_age) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) {
    throw CheckpointError(fmt::format("cannot create write-ahead log directory '{}': {}",
                                      dir_.string(), ec.message()));
  }
  open_segments();
}

void WriteAheadLog::open_segments() {
  std::error_code ec;
  fs::directory_iterator it(dir_, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const auto first = segment_first(it->path().filename().string());
    if (!first) continue;
    for (const Segment& other : segments_) {
      if (other.first == *first) {
        throw CheckpointError(fmt::format(
            "write-ahead log segments '{}' and '{}' both claim to start at block {}: one was "
            "copied or renamed",
            other.path.string(), it->path().string(), *first));
      }
    }
    segments_.push_back(Segment{*first, *first, it->path(), std::nullopt});
  }
  if (ec) {
    throw CheckpointError(
        fmt::format("cannot list write-ahead log directory '{}': {}", dir_.string(), ec.message()));
  }
  std::sort(segments_.begin(), segments_.end(),
            [](const Segment& a, const Segment& b) { return a.first < b.first; });
  // Every segment reads on its own first (a renamed file is named as such), then they chain.
  std::vector<std::optional<bool>> skipped_before;
  for (Segment& segment : segments_) {
    SegmentScan scan = scan_segment(segment.path, segment.first, std::nullopt);
    segment.end = scan.end;
    segment.torn = std::move(scan.torn);
    skipped_before.push_back(scan.skipped_before);
  }
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    const Segment& segment = segments_[i];
    if (i > 0) check_chain(segments_[i - 1], segment, skipped_before[i]);
    if (segment.torn) {
      torn_.emplace(segment.end,
                    fmt::format("'{}' ends in {}, where block {} would be: a crash tore its "
                                "append, or the file was damaged",
                                segment.path.string(), *segment.torn, segment.end));
    }
  }
  if (segments_.empty()) return;
  const Segment& newest = segments_.back();
  next_ = newest.end;
  if (newest.torn) {
    logger().warn(
        "write-ahead log '{}': dropping block {}, whose append a crash tore ({}); its number "
        "is not used again",
        newest.path.string(), newest.end, *newest.torn);
    next_ = newest.end + 1;
  }
}

void WriteAheadLog::check_chain(const Segment& before, const Segment& after,
                                std::optional<bool> after_skipped) const {
  if (before.torn) {
    // Only a crash inside an append tears a segment, and the next run skips the torn number.
    if (after.first == before.end + 1 && after_skipped.value_or(true)) return;
    throw CheckpointError(fmt::format(
        "write-ahead log segment '{}' is damaged: {}, yet segment '{}' follows it{}; only the "
        "newest segment can end in a torn append",
        before.path.string(), *before.torn, after.path.string(),
        after.first == before.end + 1 ? " without saying the append before it was torn"
                                      : fmt::format(" starting at block {}", after.first)));
  }
  if (after_skipped.value_or(false)) {
    throw CheckpointError(fmt::format(
        "write-ahead log segment '{}' is damaged at byte 16: its header says the append before "
        "it was torn, but segment '{}' before it ends with a whole frame",
        after.path.string(), before.path.string()));
  }
  if (after.first > before.end) {
    std::error_code ec;
    const auto size = fs::file_size(before.path, ec);
    throw CheckpointError(fmt::format(
        "write-ahead log '{}' is missing blocks {} to {}: segment '{}' ends at byte {} with block "
        "{}, and the next segment is '{}' (a segment between them was deleted or truncated)",
        dir_.string(), before.end, after.first - 1, before.path.string(), ec ? 0 : size,
        before.end - 1, after.path.string()));
  }
  if (after.first < before.end) {
    throw CheckpointError(fmt::format(
        "write-ahead log segment '{}' starts at block {}, but segment '{}' before it holds blocks "
        "up to {}: one of them was copied or renamed",
        after.path.string(), after.first, before.path.string(), before.end - 1));
  }
}

WriteAheadLog::~WriteAheadLog() {
  if (fd_ >= 0) ::close(fd_);
}

void WriteAheadLog::roll() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  // Each run of the log appends to a segment of its own: a torn tail stays at the end of its file.
  // An empty newest segment of an earlier run has the same name: it is started again.
  const fs::path path = dir_ / fmt::format("log-{}.wal", next_);
  segments_.erase(std::remove_if(segments_.begin(), segments_.end(),
                                 [&](const Segment& s) { return s.path == path; }),
                  segments_.end());
  const bool skipped_before = !segments_.empty() && segments_.back().torn.has_value();
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw CheckpointError(
        fmt::format("cannot create write-ahead log '{}': {}", path.string(), std::strerror(errno)));
  }
  const std::string header = encode_segment_header(next_, skipped_before);
  if (::write(fd_, header.data(), header.size()) != static_cast<ssize_t>(header.size())) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    throw CheckpointError(fmt::format("cannot write the header of write-ahead log '{}': {}",
                                      path.string(), std::strerror(err)));
  }
  sync_directory(dir_);
  segments_.push_back(Segment{next_, next_, path, std::nullopt});
  size_ = header.size();
  opened_ = std::chrono::steady_clock::now();
}

void WriteAheadLog::fail_append(const std::string& what) {
  broken_ = what;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  throw CheckpointError(what);
}

std::uint64_t WriteAheadLog::append(std::string_view block) {
  if (block.size() > kMaxFramePayload) {
    throw InvalidArgument(fmt::format(
        "a block of {} bytes exceeds the write-ahead log's limit of {} bytes per block; store "
        "smaller blocks",
        block.size(), kMaxFramePayload));
  }
  std::lock_guard lock(mutex_);
  if (broken_) {
    throw CheckpointError(fmt::format(
        "the write-ahead log in '{}' refuses appends after a failed one ({}); restart the context",
        dir_.string(), *broken_));
  }
  if (fd_ < 0 || size_ >= roll_bytes_ || std::chrono::steady_clock::now() - opened_ >= roll_age_) {
    roll();
  }
  const std::uint64_t seq = next_;
  std::string frame;
  frame.reserve(kFrameHeaderSize + block.size());
  encode_frame(frame, seq, block);
  std::size_t done = 0;
  while (done < frame.size()) {
    const auto n = ::write(fd_, frame.data() + done, frame.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      // A partial frame in the middle of this run's segment would read as damage: the segment
      // is cut back, and no later block goes after it.
      const int err = errno;
      const bool cut = ::ftruncate(fd_, static_cast<off_t>(size_)) == 0;
      fail_append(fmt::format("cannot append block {} to '{}' at byte {}: {}{}", seq,
                              segments_.back().path.string(), size_, std::strerror(err),
                              cut ? "" : " (and the partial frame could not be cut off)"));
    }
    done += static_cast<std::size_t>(n);
  }
  crash_point("wal");
  if (::fdatasync(fd_) != 0) {
    // After a failed fdatasync what reached the disk is unknown (fsyncgate): no more appends.
    fail_append(fmt::format("cannot fdatasync block {} of '{}': {}", seq,
                            segments_.back().path.string(), std::strerror(errno)));
  }
  size_ += frame.size();
  ++next_;
  segments_.back().end = next_;
  return seq;
}

std::vector<std::pair<std::uint64_t, std::string>> WriteAheadLog::read_from(
    std::uint64_t first) const {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  std::lock_guard lock(mutex_);
  for (const Segment& segment : segments_) {
    if (segment.end <= first) continue;
    SegmentScan scan = scan_segment(segment.path, segment.first, first);
    if (scan.end < segment.end) {
      throw CheckpointError(fmt::format(
          "write-ahead log segment '{}' held blocks up to {} when the log was opened or "
          "appended to, and now ends at byte {} with block {}: it was changed while the context "
          "ran",
          segment.path.string(), segment.end - 1, scan.valid_bytes,
          static_cast<std::int64_t>(scan.end) - 1));
    }
    for (auto& [seq, block] : scan.blocks) {
      if (seq < segment.end) out.emplace_back(seq, std::move(block));
    }
  }
  return out;
}

std::optional<std::pair<std::uint64_t, std::string>> WriteAheadLog::last() const {
  std::lock_guard lock(mutex_);
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    if (it->end == it->first) continue;
    SegmentScan scan = scan_segment(it->path, it->first, it->end - 1);
    if (scan.blocks.empty() || scan.blocks.front().first != it->end - 1) {
      throw CheckpointError(fmt::format(
          "write-ahead log segment '{}' held block {} when the log was opened, and now ends at "
          "byte {} without it: it was changed while the context ran",
          it->path.string(), it->end - 1, scan.valid_bytes));
    }
    return std::move(scan.blocks.front());
  }
  return std::nullopt;
}

std::uint64_t WriteAheadLog::next() const {
  std::lock_guard lock(mutex_);
  return next_;
}

std::optional<std::string> WriteAheadLog::torn(std::uint64_t seq) const {
  std::lock_guard lock(mutex_);
  auto it = torn_.find(seq);
  if (it == torn_.end()) return std::nullopt;
  return it->second;
}

void WriteAheadLog::truncate_before(std::uint64_t first) {
  std::lock_guard lock(mutex_);
  // A segment can go when the next one starts at or before `first`; the newest one stays, and
  // so does the newest that holds a whole block (the segments after it may hold none: a torn
  // first append), since last() tells a reliable receiver where its source stands from it.
  const auto holds_blocks_after = [&](std::size_t i) {
    for (std::size_t j = i + 1; j < segments_.size(); ++j) {
      if (segments_[j].end > segments_[j].first) return true;
    }
    return false;
  };
  while (segments_.size() > 1 && segments_[1].first <= first && holds_blocks_after(0)) {
    std::error_code ec;
    fs::remove(segments_.front().path, ec);
    if (ec) {
      logger().warn("write-ahead log: cannot delete '{}' ({}); it is tried again later",
                    segments_.front().path.string(), ec.message());
      return;
    }
    segments_.erase(segments_.begin());
  }
}

}  // namespace rill::detail
