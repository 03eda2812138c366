#include "checkpoint/write_ahead_log.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <boost/crc.hpp>

#include "checkpoint/durable_file.hpp"
#include "rill/core/errors.hpp"
#include "rill/core/logging.hpp"

namespace rill::detail {

namespace fs = std::filesystem;

namespace {
constexpr std::size_t kFrameHeader = 8 + 4 + 4;

std::uint32_t crc32(std::string_view data) {
  boost::crc_32_type crc;
  crc.process_bytes(data.data(), data.size());
  return crc.checksum();
}

/// Reads the valid frames of a segment; stops at the first torn or corrupt one.
std::vector<std::pair<std::uint64_t, std::string>> read_segment(const fs::path& path) {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  std::ifstream in(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t pos = 0;
  while (data.size() - pos >= kFrameHeader) {
    std::uint64_t seq;
    std::uint32_t length;
    std::uint32_t crc;
    std::memcpy(&seq, data.data() + pos, 8);
    std::memcpy(&length, data.data() + pos + 8, 4);
    std::memcpy(&crc, data.data() + pos + 12, 4);
    if (data.size() - pos - kFrameHeader < length) break;
    const std::string_view payload(data.data() + pos + kFrameHeader, length);
    if (crc32(payload) != crc) break;
    out.emplace_back(seq, std::string(payload));
    pos += kFrameHeader + length;
  }
  if (pos != data.size()) {
    logger().warn("write-ahead log '{}': ignoring {} bytes of a torn or corrupt last frame",
                  path.string(), data.size() - pos);
  }
  return out;
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
  for (const auto& entry : fs::directory_iterator(dir_)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("log-") || !name.ends_with(".wal")) continue;
    std::uint64_t first = 0;
    const auto digits = std::string_view(name).substr(4, name.size() - 8);
    if (std::from_chars(digits.data(), digits.data() + digits.size(), first).ec != std::errc{}) {
      continue;
    }
    segments_.push_back(Segment{first, entry.path()});
  }
  std::sort(segments_.begin(), segments_.end(),
            [](const Segment& a, const Segment& b) { return a.first < b.first; });
  next_ = segments_.empty() ? 0 : segments_.back().first;
  if (!segments_.empty()) {
    for (const auto& [seq, block] : read_segment(segments_.back().path))
      next_ = seq + 1;
  }
}

WriteAheadLog::~WriteAheadLog() {
  if (fd_ >= 0) ::close(fd_);
}

void WriteAheadLog::roll() {
  if (fd_ >= 0) ::close(fd_);
  // Each run of the log appends to a segment of its own: a torn tail stays at the end of its file.
  const fs::path path = dir_ / fmt::format("log-{}.wal", next_);
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw CheckpointError(
        fmt::format("cannot create write-ahead log '{}': {}", path.string(), std::strerror(errno)));
  }
  sync_directory(dir_);
  segments_.erase(std::remove_if(segments_.begin(), segments_.end(),
                                 [&](const Segment& s) { return s.path == path; }),
                  segments_.end());
  segments_.push_back(Segment{next_, path});
  size_ = 0;
  opened_ = std::chrono::steady_clock::now();
}

std::uint64_t WriteAheadLog::append(std::string_view block) {
  std::lock_guard lock(mutex_);
  if (fd_ < 0 || size_ >= roll_bytes_ || std::chrono::steady_clock::now() - opened_ >= roll_age_) {
    roll();
  }
  const std::uint64_t seq = next_;
  const auto length = static_cast<std::uint32_t>(block.size());
  const std::uint32_t crc = crc32(block);
  std::string frame;
  frame.reserve(kFrameHeader + block.size());
  frame.append(reinterpret_cast<const char*>(&seq), 8);
  frame.append(reinterpret_cast<const char*>(&length), 4);
  frame.append(reinterpret_cast<const char*>(&crc), 4);
  frame.append(block);
  std::size_t done = 0;
  while (done < frame.size()) {
    const auto n = ::write(fd_, frame.data() + done, frame.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw CheckpointError(fmt::format("cannot append to the write-ahead log in '{}': {}",
                                        dir_.string(), std::strerror(errno)));
    }
    done += static_cast<std::size_t>(n);
  }
  crash_point("wal");
  if (::fdatasync(fd_) != 0) {
    throw CheckpointError(fmt::format("cannot fsync the write-ahead log in '{}': {}", dir_.string(),
                                      std::strerror(errno)));
  }
  size_ += frame.size();
  ++next_;
  return seq;
}

std::vector<std::pair<std::uint64_t, std::string>> WriteAheadLog::read_from(
    std::uint64_t first) const {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    if (i + 1 < segments_.size() && segments_[i + 1].first <= first) continue;
    for (auto& [seq, block] : read_segment(segments_[i].path)) {
      if (seq >= first) out.emplace_back(seq, std::move(block));
    }
  }
  return out;
}

std::optional<std::pair<std::uint64_t, std::string>> WriteAheadLog::last() const {
  std::lock_guard lock(mutex_);
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    auto blocks = read_segment(it->path);
    if (!blocks.empty()) return std::move(blocks.back());
  }
  return std::nullopt;
}

void WriteAheadLog::truncate_before(std::uint64_t first) {
  std::lock_guard lock(mutex_);
  std::error_code ec;
  // A segment can go when the next one starts at or before `first`; the open one stays.
  while (segments_.size() > 1 && segments_[1].first <= first) {
    fs::remove(segments_.front().path, ec);
    segments_.erase(segments_.begin());
  }
}

}  // namespace rill::detail
