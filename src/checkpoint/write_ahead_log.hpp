#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <vector>

#include "rill/checkpoint/detail/block_log.hpp"

namespace rill::detail {

/// An append-only log of framed blocks in segments `log-<first seq>.wal` of one directory:
/// each frame is [sequence u64][length u32][crc32 u32][payload], fdatasync'ed before append()
/// returns. A segment rolls by size and by age; a torn last frame (the process died while
/// appending) is ignored when the log is opened again.
class WriteAheadLog final : public BlockLog {
 public:
  WriteAheadLog(std::filesystem::path dir, std::uint64_t roll_bytes = 64ULL << 20,
                std::chrono::seconds roll_age = std::chrono::seconds(60));
  ~WriteAheadLog() override;

  std::uint64_t append(std::string_view block) override;
  [[nodiscard]] std::vector<std::pair<std::uint64_t, std::string>> read_from(
      std::uint64_t first) const override;
  [[nodiscard]] std::optional<std::pair<std::uint64_t, std::string>> last() const override;
  void truncate_before(std::uint64_t first) override;

 private:
  struct Segment {
    std::uint64_t first = 0;  // sequence of its first block
    std::filesystem::path path;
  };
  void roll();

  std::filesystem::path dir_;
  std::uint64_t roll_bytes_;
  std::chrono::seconds roll_age_;
  mutable std::mutex mutex_;
  std::vector<Segment> segments_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::chrono::steady_clock::time_point opened_;
  std::uint64_t next_ = 0;
};

}  // namespace rill::detail
