// The write-ahead log on its own: order, segments, a torn tail after a crash, truncation.
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "checkpoint/write_ahead_log.hpp"

namespace fs = std::filesystem;

namespace {
fs::path fresh_dir(const char* name) {
  auto dir = fs::temp_directory_path() / fmt::format("rill-wal-{}-{}", name, ::getpid());
  fs::remove_all(dir);
  return dir;
}
std::vector<fs::path> segments(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

TEST(WriteAheadLog, AppendsInOrderAndReadsBackAfterReopening) {
  const auto dir = fresh_dir("order");
  {
    rill::detail::WriteAheadLog log(dir);
    EXPECT_EQ(log.append("a"), 0u);
    EXPECT_EQ(log.append("bb"), 1u);
    EXPECT_EQ(log.append("ccc"), 2u);
    const auto from1 = log.read_from(1);
    ASSERT_EQ(from1.size(), 2u);
    EXPECT_EQ(from1[0], (std::pair<std::uint64_t, std::string>{1, "bb"}));
  }
  rill::detail::WriteAheadLog again(dir);
  EXPECT_EQ(again.read_from(0).size(), 3u);
  EXPECT_EQ(again.append("d"), 3u);  // numbering goes on in a new segment
  EXPECT_EQ(again.read_from(3).at(0).second, "d");
  fs::remove_all(dir);
}

TEST(WriteAheadLog, ATornLastFrameIsIgnored) {
  const auto dir = fresh_dir("torn");
  {
    rill::detail::WriteAheadLog log(dir);
    log.append("first");
    log.append("second");
  }
  const auto segment = segments(dir).back();
  fs::resize_file(segment, fs::file_size(segment) - 3);  // the process died mid-append
  rill::detail::WriteAheadLog log(dir);
  const auto blocks = log.read_from(0);
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].second, "first");
  EXPECT_EQ(log.append("again"), 1u);  // the torn block's number is reused: it never was durable
  EXPECT_EQ(log.read_from(1).at(0).second, "again");
  fs::remove_all(dir);
}

TEST(WriteAheadLog, ACorruptFrameEndsTheSegment) {
  const auto dir = fresh_dir("corrupt");
  {
    rill::detail::WriteAheadLog log(dir);
    log.append("one");
    log.append("two");
  }
  {
    std::fstream f(segments(dir).back(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(16);  // the first payload byte
    f.put('X');
  }
  rill::detail::WriteAheadLog log(dir);
  EXPECT_TRUE(log.read_from(0).empty());
  fs::remove_all(dir);
}

TEST(WriteAheadLog, RollsBySizeAndTruncatesWholeSegments) {
  const auto dir = fresh_dir("roll");
  rill::detail::WriteAheadLog log(dir, /*roll_bytes=*/40);
  for (int i = 0; i < 6; ++i)
    log.append(std::string(30, static_cast<char>('a' + i)));
  EXPECT_EQ(segments(dir).size(), 6u);  // each append filled a segment past 40 bytes
  log.truncate_before(4);
  EXPECT_EQ(segments(dir).size(), 2u);
  const auto left = log.read_from(0);
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].first, 4u);
  fs::remove_all(dir);
}
