// The write-ahead log on its own: order, segments, the frame format, a torn tail after a crash,
// damage that no crash leaves, truncation.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include <fmt/format.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "checkpoint/wal_segment.hpp"
#include "checkpoint/write_ahead_log.hpp"
#include "rill/core/errors.hpp"

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
std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write_all(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}
void overwrite(const fs::path& path, std::size_t offset, const std::string& bytes) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

constexpr std::size_t kHeader = rill::detail::kSegmentHeaderSize;  // 24
constexpr std::size_t kFrame = rill::detail::kFrameHeaderSize;     // 20

/// Opening `dir` throws rill::CheckpointError whose message holds every one of `parts`.
void expect_refused(const fs::path& dir, std::initializer_list<std::string> parts) {
  try {
    rill::detail::WriteAheadLog log(dir);
    ADD_FAILURE() << "expected rill::CheckpointError";
  } catch (const rill::CheckpointError& e) {
    for (const auto& part : parts)
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
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
  EXPECT_EQ(again.next(), 3u);
  EXPECT_EQ(again.append("d"), 3u);  // numbering goes on in a new segment
  EXPECT_EQ(again.read_from(3).at(0).second, "d");
  EXPECT_EQ(segments(dir).size(), 2u);
  EXPECT_EQ(again.last()->second, "d");
  fs::remove_all(dir);
}

TEST(WriteAheadLog, TheFrameFormatIsAsDocumented) {
  const auto dir = fresh_dir("format");
  {
    rill::detail::WriteAheadLog log(dir);
    log.append("xyz");
  }
  const std::string bytes = read_all(dir / "log-0.wal");
  ASSERT_EQ(bytes.size(), kHeader + kFrame + 3);
  EXPECT_EQ(bytes.substr(0, 4), "RWAL");
  std::uint32_t version = 0;
  std::memcpy(&version, bytes.data() + 4, 4);
  EXPECT_EQ(version, rill::detail::kWalVersion);
  EXPECT_EQ(bytes.substr(kHeader, 4), "RWBK");
  std::uint32_t length = 0;
  std::uint64_t seq = 99;
  std::memcpy(&length, bytes.data() + kHeader + 4, 4);
  std::memcpy(&seq, bytes.data() + kHeader + 8, 8);
  EXPECT_EQ(length, 3u);
  EXPECT_EQ(seq, 0u);
  EXPECT_EQ(bytes.substr(kHeader + kFrame), "xyz");
  fs::remove_all(dir);
}

TEST(WriteAheadLog, ATornLastFrameIsDroppedAndItsNumberNeverReused) {
  const auto dir = fresh_dir("torn");
  {
    rill::detail::WriteAheadLog log(dir);
    log.append("first");
    log.append("second");
  }
  const auto segment = segments(dir).back();
  fs::resize_file(segment, fs::file_size(segment) - 3);  // the process died mid-append
  {
    rill::detail::WriteAheadLog log(dir);
    const auto blocks = log.read_from(0);
    ASSERT_EQ(blocks.size(), 1u);
    EXPECT_EQ(blocks[0].second, "first");
    EXPECT_EQ(log.last()->second, "first");
    ASSERT_TRUE(log.torn(1).has_value());
    EXPECT_NE(log.torn(1)->find(segment.string()), std::string::npos) << *log.torn(1);
    EXPECT_NE(log.torn(1)->find(fmt::format("at byte {}", kHeader + kFrame + 5)), std::string::npos)
        << *log.torn(1);
    EXPECT_FALSE(log.torn(0).has_value());
    EXPECT_EQ(log.next(), 2u);
    // A seal record that took block 1 must never find another block under its number.
    EXPECT_EQ(log.append("again"), 2u);
    EXPECT_EQ(log.read_from(1).at(0).first, 2u);
  }
  // The torn segment is no longer the newest: the next one's header says it skipped block 1.
  rill::detail::WriteAheadLog log(dir);
  EXPECT_TRUE(log.torn(1).has_value());
  const auto blocks = log.read_from(0);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[1], (std::pair<std::uint64_t, std::string>{2, "again"}));
  EXPECT_EQ(log.append("more"), 3u);
  fs::remove_all(dir);
}

TEST(WriteAheadLog, ARunThatTornItsFirstAppendLeavesATornHeader) {
  const auto dir = fresh_dir("torn-header");
  {
    rill::detail::WriteAheadLog log(dir);
    log.append("zero");
  }
  {
    rill::detail::WriteAheadLog log(dir);
    log.append("one");
  }
  const auto newest = segments(dir).back();
  ASSERT_EQ(newest.filename(), "log-1.wal");
  fs::resize_file(newest, 10);  // not even the segment header made it
  {
    rill::detail::WriteAheadLog log(dir);
    EXPECT_EQ(log.next(), 2u);
    EXPECT_TRUE(log.torn(1).has_value());
    EXPECT_EQ(log.append("two"), 2u);
  }
  rill::detail::WriteAheadLog log(dir);
  const auto blocks = log.read_from(0);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].second, "zero");
  EXPECT_EQ(blocks[1].second, "two");
  fs::remove_all(dir);
}

TEST(WriteAheadLog, ZerosNeverDecodeAsAFrame) {
  // CRC-32 of an empty payload is 0: without a magic, zeros would be a valid empty block.
  const auto dir = fresh_dir("zeros");
  {
    rill::detail::WriteAheadLog log(dir);
    log.append("one");
    log.append("two");
  }
  const auto segment = segments(dir).back();
  const auto size = fs::file_size(segment);
  {
    // Zeros over the newest segment's last frame: a torn append, dropped.
    overwrite(segment, kHeader + kFrame + 3, std::string(kFrame + 3, '\0'));
    rill::detail::WriteAheadLog log(dir);
    ASSERT_EQ(log.read_from(0).size(), 1u);
    EXPECT_TRUE(log.torn(1).has_value());
  }
  // Zeros over the first frame with a whole frame after it: damage at byte 24.
  fs::remove_all(dir);
  {
    rill::detail::WriteAheadLog log(dir);
    log.append("one");
    log.append("two");
  }
  overwrite(segment, kHeader, std::string(kFrame + 3, '\0'));
  expect_refused(dir, {segment.string(), "damaged at byte 24", "whole frame follows at byte 47"});
  // A segment of zeros is no frame at all: as the newest it is a torn first append...
  write_all(segment, std::string(size, '\0'));
  {
    rill::detail::WriteAheadLog log(dir);
    EXPECT_TRUE(log.read_from(0).empty());
    EXPECT_FALSE(log.last().has_value());
    EXPECT_EQ(log.next(), 1u);
    log.append("after");
  }
  // ...and with a segment after it that does not say so, damage naming the file.
  fs::remove_all(dir);
  {
    rill::detail::WriteAheadLog log(dir);
    log.append("one");
  }
  {
    rill::detail::WriteAheadLog log(dir);
    log.append("two");
  }
  write_all(segment, std::string(size, '\0'));
  expect_refused(dir, {segment.string(), "only the newest segment can end in a torn append"});
  fs::remove_all(dir);
}

TEST(WriteAheadLog, DamageThatNoCrashLeavesIsRefusedNamingFileAndOffset) {
  struct Case {
    std::string what;
    std::function<void(const fs::path& dir)> damage;
    std::vector<std::string> message;
  };
  const auto dir = fresh_dir("damage");
  const std::vector<Case> cases = {
      {"flipped payload byte in the middle",
       [](const fs::path& d) { overwrite(d / "log-0.wal", kHeader + kFrame, "X"); },
       {"log-0.wal", "damaged at byte 24"}},
      {"flipped length in the middle",
       [](const fs::path& d) { overwrite(d / "log-0.wal", kHeader + 4, "\x07"); },
       {"log-0.wal", "damaged at byte 24"}},
      {"flipped segment header",
       [](const fs::path& d) { overwrite(d / "log-0.wal", 9, "\x01"); },
       {"log-0.wal", "damaged at byte 0"}},
      {"a frame copied to the end",
       [](const fs::path& d) {
         const std::string bytes = read_all(d / "log-0.wal");
         write_all(d / "log-0.wal", bytes + bytes.substr(kHeader, kFrame + 1));
       },
       {"log-0.wal", "damaged at byte 66", "block 0 where block 2 belongs"}},
      {"a segment renamed",
       [](const fs::path& d) { fs::rename(d / "log-2.wal", d / "log-7.wal"); },
       {"log-7.wal", "damaged at byte 8", "first block is 2"}},
      {"a segment deleted in the middle",
       [](const fs::path& d) { fs::remove(d / "log-2.wal"); },
       {"missing blocks 2 to 2", "log-0.wal", "log-3.wal"}},
      {"the last frame of an older segment truncated",
       [](const fs::path& d) {
         fs::resize_file(d / "log-0.wal", fs::file_size(d / "log-0.wal") - 1);
       },
       {"log-0.wal", "at byte 45", "only the newest segment"}},
      {"an older segment truncated at a frame boundary",
       [](const fs::path& d) { fs::resize_file(d / "log-0.wal", kHeader + kFrame + 1); },
       {"missing blocks 1 to 1", "log-0.wal", "byte 45"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    fs::remove_all(dir);
    {
      rill::detail::WriteAheadLog log(dir);
      log.append("a");
      log.append("b");
    }
    for (int run = 0; run < 2; ++run) {  // segments log-2.wal and log-3.wal
      rill::detail::WriteAheadLog log(dir);
      log.append("c");
    }
    c.damage(dir);
    std::vector<std::string> parts = c.message;
    try {
      rill::detail::WriteAheadLog log(dir);
      ADD_FAILURE() << "expected rill::CheckpointError";
    } catch (const rill::CheckpointError& e) {
      for (const auto& part : parts)
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  }
  fs::remove_all(dir);
}

TEST(WriteAheadLog, ASegmentOfTheEarlierFormatIsRefused) {
  // [sequence u64][length u32][CRC-32 of the payload u32][payload], no segment header.
  const auto dir = fresh_dir("old");
  fs::create_directories(dir);
  const std::string payload = "payload";
  std::string old(8, '\0');
  const auto length = static_cast<std::uint32_t>(payload.size());
  const std::uint32_t crc = 0x422c6a15;  // CRC-32 of "payload"
  old.append(reinterpret_cast<const char*>(&length), 4);
  old.append(reinterpret_cast<const char*>(&crc), 4);
  old += payload;
  write_all(dir / "log-0.wal", old);
  expect_refused(dir, {"log-0.wal", "format changed", "new checkpoint directory"});
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

TEST(WriteAheadLog, TruncatingKeepsTheNewestWholeBlockWhenLaterSegmentsHoldNone) {
  // The newest segment holds no whole block (its first append was torn): truncating must not
  // delete the segment with the last block, or a restart would not know where the source
  // stands (last() is how a reliable receiver learns it).
  const auto dir = fresh_dir("truncate-torn");
  {
    rill::detail::WriteAheadLog log(dir);
    log.append("zero");
  }
  {
    rill::detail::WriteAheadLog log(dir);
    log.append("one");
  }
  const auto newest = segments(dir).back();
  ASSERT_EQ(newest.filename(), "log-1.wal");
  fs::resize_file(newest, fs::file_size(newest) - 2);  // the first append of log-1 torn
  {
    rill::detail::WriteAheadLog log(dir);
    ASSERT_EQ(log.next(), 2u);
    log.truncate_before(2);  // every block taken by checkpointed batches
    ASSERT_TRUE(log.last().has_value());
    EXPECT_EQ(log.last()->second, "zero");
  }
  rill::detail::WriteAheadLog log(dir);
  ASSERT_TRUE(log.last().has_value());
  EXPECT_EQ(log.last()->second, "zero");
  fs::remove_all(dir);
}
