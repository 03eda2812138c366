#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "rill/checkpoint/detail/block_log.hpp"

namespace rill::detail {

/// An append-only log of blocks in segments `log-<first seq>.wal` of one directory (the segment
/// format is in wal_segment.hpp), each append fdatasync'ed before append() returns. A segment
/// rolls by size and by age, and each run of the log starts a new one.
///
/// Opening the log reads every segment and checks that they chain: each segment's first block
/// follows the last whole frame of the one before. Only the newest segment may end in bytes that
/// are not a whole frame: what a crash inside an append leaves. Such a torn block is dropped with
/// a warning, and its number is skipped for good (the next segment's header says so), so that a
/// batch whose seal record took it can never read another block under its number. Anything else
/// (a damaged frame with whole frames after it, a torn segment that is not the newest, a copied
/// frame, a renamed or missing segment in the middle, a segment of the earlier format) is damage:
/// the constructor throws rill::CheckpointError naming the file and the byte offset.
/// Thread-safe (one mutex).
class WriteAheadLog final : public BlockLog {
 public:
  /// `roll_bytes`: a segment rolls once it holds this many bytes; `roll_age`: or once it is this
  /// old. Throws rill::CheckpointError when the directory cannot be created or read, or a
  /// segment in it is damaged.
  WriteAheadLog(std::filesystem::path dir, std::uint64_t roll_bytes = 64ULL << 20,
                std::chrono::seconds roll_age = std::chrono::seconds(60));
  ~WriteAheadLog() override;
  WriteAheadLog(const WriteAheadLog&) = delete;
  WriteAheadLog& operator=(const WriteAheadLog&) = delete;

  std::uint64_t append(std::string_view block) override;
  [[nodiscard]] std::vector<std::pair<std::uint64_t, std::string>> read_from(
      std::uint64_t first) const override;
  [[nodiscard]] std::optional<std::pair<std::uint64_t, std::string>> last() const override;
  [[nodiscard]] std::uint64_t next() const override;
  [[nodiscard]] std::optional<std::string> torn(std::uint64_t seq) const override;
  [[nodiscard]] std::string location() const override { return dir_.string(); }
  void truncate_before(std::uint64_t first) override;

 private:
  struct Segment {
    std::uint64_t first = 0;  // sequence of its first block
    std::uint64_t end = 0;    // 1 + the sequence of its last whole frame (first when empty)
    std::filesystem::path path;
    std::optional<std::string> torn;  // why its last bytes are no whole frame
  };
  void open_segments();
  void check_chain(const Segment& before, const Segment& after,
                   std::optional<bool> after_skipped) const;
  void roll();
  [[noreturn]] void fail_append(const std::string& what);

  std::filesystem::path dir_;
  std::uint64_t roll_bytes_;
  std::chrono::seconds roll_age_;
  mutable std::mutex mutex_;
  std::vector<Segment> segments_;
  std::map<std::uint64_t, std::string> torn_;  // skipped numbers -> where their append tore
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::chrono::steady_clock::time_point opened_;
  std::uint64_t next_ = 0;
  std::optional<std::string> broken_;  // why appends are refused after a failed one
};

}  // namespace rill::detail
