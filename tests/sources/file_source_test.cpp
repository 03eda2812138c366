// Unit tests of the file source (src/sources/file_source.*) driven batch by batch: byte-bounded
// batches, over-long lines, seal records and positions (current and first layouts), and how long
// file names are remembered. The integration tests are in file_stream_test.cpp.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <spdlog/sinks/ostream_sink.h>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

#include "rill/sources/detail/runtime.hpp"
#include "sources/file_source.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using Lines = std::vector<std::string>;
using rill::detail::FileSource;

/// A clock that is not manual (so file ages are checked) but is set by the test.
class SetClock final : public rill::Clock {
 public:
  [[nodiscard]] rill::Time now() const override { return rill::Time{ms_.load()}; }
  void set(rill::Time t) { ms_ = t.milliseconds(); }
  void advance(rill::Duration d) { ms_ += d.count(); }

 private:
  std::atomic<std::int64_t> ms_{0};
};

/// The engine as a source sees it, with checkpointing on and no write-ahead log.
class FakeRuntime final : public rill::detail::Runtime {
 public:
  explicit FakeRuntime(rill::Clock& clock) : clock_(clock) {}
  rill::Clock& clock() override { return clock_; }
  [[nodiscard]] const rill::Config& config() const override { return config_; }
  void run_at(rill::Time, std::function<void()>) override {}
  void post(std::function<void()>) override {}
  void fail(std::exception_ptr) override {}
  void records_stored(std::int64_t) override {}
  [[nodiscard]] bool checkpointing() const override { return true; }
  std::unique_ptr<rill::detail::BlockLog> open_block_log(std::string_view) override {
    return nullptr;
  }

 private:
  rill::Clock& clock_;
  rill::Config config_;
};

class FileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    root_ = fs::temp_directory_path() /
            fmt::format("rill-filesource-{}-{}-{}", ::getpid(),
                        ::testing::UnitTest::GetInstance()->current_test_info()->name(), counter++);
    fs::remove_all(root_);
    fs::create_directories(root_ / "in");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  [[nodiscard]] fs::path dir() const { return root_ / "in"; }
  void write(const std::string& name, const std::string& content) const {
    std::ofstream(root_ / name, std::ios::binary) << content;
    fs::rename(root_ / name, dir() / name);
  }
  std::unique_ptr<FileSource> started(rill::FileStreamOptions options, rill::Clock& clock) {
    auto source = std::make_unique<FileSource>(dir(), options);
    runtimes_.push_back(std::make_unique<FakeRuntime>(clock));
    rill::SourceContext ctx("files", rill::Time{0}, *runtimes_.back());
    source->start(ctx);
    return source;
  }

  fs::path root_;
  std::vector<std::unique_ptr<FakeRuntime>> runtimes_;
};

/// "line-00\n" ... : n lines of 8 bytes.
std::string numbered(int n) {
  std::string out;
  for (int i = 0; i < n; ++i)
    out += fmt::format("line-{:02}\n", i);
  return out;
}
Lines numbered_lines(int from, int to) {
  Lines out;
  for (int i = from; i < to; ++i)
    out.push_back(fmt::format("line-{:02}", i));
  return out;
}

}  // namespace

TEST_F(FileSourceTest, ALargeFileIsSplitIntoBatchesOfWholeLinesWithinTheByteLimit) {
  auto clock = rill::ManualClock::create();
  auto source = started({.max_bytes_per_batch = 100}, *clock);
  write("big.txt", numbered(30));  // 240 bytes: 12 lines (96 bytes) fit in a batch
  write("small.txt", "tail\n");
  EXPECT_EQ(source->seal(rill::Time{1000}, true).records, numbered_lines(0, 12));
  EXPECT_TRUE(source->has_buffered_input());
  EXPECT_EQ(source->seal(rill::Time{2000}, true).records, numbered_lines(12, 24));
  Lines third = numbered_lines(24, 30);
  third.push_back("tail");
  EXPECT_EQ(source->seal(rill::Time{3000}, true).records, third);
  EXPECT_FALSE(source->has_buffered_input());
  EXPECT_TRUE(source->seal(rill::Time{4000}, true).records.empty());
  // While batches wait (take_buffered false) nothing is read.
  write("later.txt", "x\n");
  EXPECT_TRUE(source->seal(rill::Time{5000}, false).records.empty());
  EXPECT_EQ(source->seal(rill::Time{6000}, true).records, Lines{"x"});
}

TEST_F(FileSourceTest, TheFirstLineOfABatchIsTakenEvenIfLongerThanTheByteLimit) {
  auto clock = rill::ManualClock::create();
  auto source = started({.max_bytes_per_batch = 4}, *clock);
  write("f.txt", "abcdefgh\nij\nkl\n");
  EXPECT_EQ(source->seal(rill::Time{1000}, true).records, Lines{"abcdefgh"});
  EXPECT_EQ(source->seal(rill::Time{2000}, true).records, Lines{"ij"});
  EXPECT_EQ(source->seal(rill::Time{3000}, true).records, Lines{"kl"});
}

TEST_F(FileSourceTest, OverLongLinesAreSkippedAndCountedAndLinesSpanningReadChunksAreWhole) {
  auto clock = rill::ManualClock::create();
  auto source = started({.max_line_bytes = 2'000'000}, *clock);
  const std::string spanning(1'500'000, 's');  // crosses the 1 MiB read chunks
  const std::string too_long(2'000'001, 'x');
  write("f.txt", "a\n" + too_long + "\nb\n" + spanning + "\n" + too_long);
  EXPECT_EQ(source->seal(rill::Time{1000}, true).records, (Lines{"a", "b", spanning}));
  EXPECT_EQ(source->counts().skipped, 2);
  EXPECT_EQ(source->counts().errors, 0);
}

TEST_F(FileSourceTest, ARestartReplaysTheExactRangeOfEachBatchAndContinuesAPartlyReadFile) {
  auto clock = rill::ManualClock::create();
  const rill::FileStreamOptions options{.max_bytes_per_batch = 80};
  auto first = started(options, *clock);
  write("a.txt", numbered(25));  // 200 bytes: 10 lines a batch
  const auto b1 = first->seal(rill::Time{1000}, true);
  const std::string position = first->save_position(rill::Time{1000});
  first->release(rill::Time{1000});
  const auto b2 = first->seal(rill::Time{2000}, true);
  EXPECT_EQ(b1.records, numbered_lines(0, 10));
  EXPECT_EQ(b2.records, numbered_lines(10, 20));

  // A new process: checkpoint 1000 restored, batch 2000 replayed from its seal record, then
  // new batches go on from where 2000 stopped.
  auto second = started(options, *clock);
  second->load_position(position);
  EXPECT_TRUE(second->has_buffered_input());
  EXPECT_EQ(second->replay(rill::Time{2000}, b2.seal_record), numbered_lines(10, 20));
  EXPECT_EQ(second->seal(rill::Time{3000}, true).records, numbered_lines(20, 25));
  EXPECT_TRUE(second->seal(rill::Time{4000}, true).records.empty());

  // Restored from checkpoint 1000 without the seal record of 2000 (it was never written): the
  // position alone continues the file.
  auto third = started(options, *clock);
  third->load_position(position);
  EXPECT_EQ(third->seal(rill::Time{2000}, true).records, numbered_lines(10, 20));
  EXPECT_EQ(third->save_position(rill::Time{2000}), second->save_position(rill::Time{2000}));
}

TEST_F(FileSourceTest, SealRecordsAndPositionsOfTheFirstLayoutStillRestore) {
  auto clock = rill::ManualClock::create();
  write("a.txt", "a1\na2");
  write("b.txt", "b1\n");
  auto source = started({.new_files_only = false}, *clock);
  // Before byte ranges, a seal record was the names of the files a batch read whole, and the
  // position the set of names seen.
  source->load_position(rill::detail::to_bytes(std::set<std::string>{"a.txt", "b.txt"}));
  EXPECT_EQ(source->replay(rill::Time{1000}, rill::detail::to_bytes(Lines{"a.txt"})),
            (Lines{"a1", "a2"}));
  write("c.txt", "c1\n");
  EXPECT_EQ(source->seal(rill::Time{2000}, true).records, Lines{"c1"});  // a, b remembered
}

TEST_F(FileSourceTest, UnderTheManualClockNamesAreForgottenOnceTheirFileIsGone) {
  auto clock = rill::ManualClock::create();
  auto source = started({}, *clock);
  write("a.txt", "a\n");
  write("b.txt", "b\n");
  EXPECT_EQ(source->seal(rill::Time{1000}, true).records, (Lines{"a", "b"}));
  const auto with_both = source->save_position(rill::Time{1000}).size();
  fs::remove(dir() / "a.txt");
  EXPECT_TRUE(source->seal(rill::Time{2000}, true).records.empty());
  source->release(rill::Time{2000});
  EXPECT_LT(source->save_position(rill::Time{2000}).size(), with_both);
  EXPECT_TRUE(source->seal(rill::Time{3000}, true).records.empty());  // b is still remembered
}

TEST_F(FileSourceTest, UnderTheSystemClockNamesAreForgottenAfterTheRememberWindow) {
  SetClock clock;
  const auto wall_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  clock.set(rill::Time{wall_ms()});
  auto source = started({.remember = 60s}, clock);
  std::size_t first_size = 0;
  for (int i = 0; i < 50; ++i) {
    const std::string name = fmt::format("f{:03}.txt", i);
    write(name, "x\n");
    const rill::Time t = clock.now();
    // Modified when listed, on the test's clock.
    fs::last_write_time(dir() / name, std::chrono::file_clock::from_sys(
                                          std::chrono::sys_time<std::chrono::milliseconds>(
                                              std::chrono::milliseconds(t.milliseconds()))));
    ASSERT_EQ(source->seal(t, true).records.size(), 1U) << i;
    source->release(t);
    if (i == 0) first_size = source->save_position(t).size();
    clock.advance(10s);
  }
  // About 6 names are within 60 s, not 50: the position stays small.
  const auto position = source->save_position(clock.now());
  EXPECT_LT(position.size(), 8 * first_size);
  // Forgotten files stay in the directory and are not read again, nor counted again.
  EXPECT_TRUE(source->seal(clock.now(), true).records.empty());
  EXPECT_EQ(source->counts().skipped, 0);

  // A restart from that position does not read them either.
  auto restarted = started({.remember = 60s}, clock);
  restarted->load_position(position);
  EXPECT_TRUE(restarted->seal(clock.now(), true).records.empty());
  EXPECT_EQ(restarted->counts().skipped, 0);
}

TEST_F(FileSourceTest, DirectoriesAndFifosAreSkippedAndCountedOnceAndLoggedRateLimited) {
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  rill::get_logger()->sinks().push_back(sink);
  auto clock = rill::ManualClock::create();
  auto source = started({}, *clock);
  for (int i = 0; i < 5; ++i)
    fs::create_directories(dir() / fmt::format("subdir{}", i));
  ASSERT_EQ(::mkfifo((dir() / "pipe").c_str(), 0600), 0);
  for (int i = 0; i < 3; ++i)
    fs::create_symlink(root_ / "missing", dir() / fmt::format("dangling{}.txt", i));
  write("ok.txt", "ok\n");
  EXPECT_EQ(source->seal(rill::Time{1000}, true).records, Lines{"ok"});
  EXPECT_TRUE(source->seal(rill::Time{2000}, true).records.empty());
  auto& sinks = rill::get_logger()->sinks();
  sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
  EXPECT_EQ(source->counts().skipped, 9);  // the directories, the FIFO, the dangling links
  EXPECT_EQ(source->counts().errors, 3);   // the dangling links
  const std::string text = log.str();
  const auto lines_with = [&](std::string_view what) {
    std::size_t n = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1))
      ++n;
    return n;
  };
  EXPECT_EQ(lines_with("not a regular file"), 1U) << text;
  EXPECT_EQ(lines_with("cannot read"), 1U) << text;
}

TEST_F(FileSourceTest, AMissingDirectoryIsCountedOncePerChange) {
  auto clock = rill::ManualClock::create();
  fs::remove_all(dir());
  auto source = started({}, *clock);
  for (int i = 1; i <= 5; ++i)
    EXPECT_TRUE(source->seal(rill::Time{i * 1000}, true).records.empty());
  EXPECT_EQ(source->counts().errors, 1);
  fs::create_directories(dir());
  write("a.txt", "a\n");
  EXPECT_EQ(source->seal(rill::Time{6000}, true).records, Lines{"a"});
  fs::remove_all(dir());
  for (int i = 7; i <= 9; ++i)
    EXPECT_TRUE(source->seal(rill::Time{i * 1000}, true).records.empty());
  EXPECT_EQ(source->counts().errors, 2);
}

TEST(LogLimiter, LogsTheFirstEventThenOnePerIntervalWithTheCountSuppressed) {
  rill::detail::LogLimiter limiter(std::chrono::seconds(10));
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  EXPECT_EQ(limiter.allow(t0), 0);
  EXPECT_EQ(limiter.allow(t0 + 1s), std::nullopt);
  EXPECT_EQ(limiter.allow(t0 + 9s), std::nullopt);
  EXPECT_EQ(limiter.allow(t0 + 10s), 2);
  EXPECT_EQ(limiter.allow(t0 + 30s), 0);
}

TEST_F(FileSourceTest, ASealRecordOrPositionOfANewerLayoutIsRefusedWithCheckpointError) {
  auto clock = rill::ManualClock::create();
  auto source = started({}, *clock);
  EXPECT_THROW(
      source->replay(rill::Time{1000}, rill::detail::to_bytes(std::uint64_t{0xF11E5EA100000003ULL},
                                                              std::vector<FileSource::Taken>{})),
      rill::CheckpointError);
  EXPECT_THROW(source->load_position(rill::detail::to_bytes(std::uint64_t{0xF11E905100000003ULL})),
               rill::CheckpointError);
}

namespace {

/// Drives a source as the checkpoint coordinator does: a whole position first, then a delta
/// after each batch, each made durable (position_saved) once encoded.
struct Checkpoints {
  FileSource& source;
  std::string snapshot;
  std::vector<std::string> deltas;

  void whole(rill::Time t) {
    snapshot = source.save_position(t);
    deltas.clear();
    source.position_saved(t);
  }
  /// The delta of batch t, kept in the chain; its size in bytes.
  std::size_t delta(rill::Time t) {
    auto bytes = source.save_position_delta(t);
    EXPECT_TRUE(bytes.has_value()) << t;
    deltas.push_back(bytes.value_or(std::string()));
    source.position_saved(t);
    return deltas.back().size();
  }
  /// Restores the chain into `into` (started, not sealed yet).
  void restore(FileSource& into) const {
    into.load_position(snapshot);
    for (const auto& d : deltas)
      into.load_position_delta(d);
  }
};

}  // namespace

TEST_F(FileSourceTest, APositionDeltaHoldsOnlyTheChangedNamesHoweverManyAreRemembered) {
  auto clock = rill::ManualClock::create();
  auto source = started({}, *clock);
  source->track_position_changes();
  Checkpoints checkpoints{*source, {}, {}};
  checkpoints.whole(rill::Time{0});
  const auto batch = [&](int i, std::size_t files) {
    const rill::Time t{i * 1000};
    EXPECT_EQ(source->seal(t, true).records.size(), files) << i;
    const std::size_t size = checkpoints.delta(t);
    source->release(t);
    return size;
  };
  write("f00000.txt", "x\n");
  const std::size_t one_file = batch(1, 1);
  EXPECT_LT(one_file, 200U);
  // 3,000 files remembered (they stay in the directory): the whole position holds every name,
  // a delta only the batch's.
  for (int f = 1; f < 3000; ++f)
    write(fmt::format("f{:05}.txt", f), "x\n");
  EXPECT_GT(batch(2, 2999), 2999 * 20U);
  for (int i = 3; i <= 6; ++i) {
    write(fmt::format("f{:05}.txt", 3000 + i), "x\n");
    EXPECT_EQ(batch(i, 1), one_file) << i;
  }
  const std::size_t nothing_new = batch(7, 0);
  EXPECT_LT(nothing_new, one_file);
  const std::string whole = source->save_position(rill::Time{7000});
  EXPECT_GT(whole.size(), 3000 * 20U);

  // The snapshot and the deltas restore exactly the whole position, which goes on reading.
  auto restored = started({}, *clock);
  checkpoints.restore(*restored);
  EXPECT_EQ(restored->save_position(rill::Time{7000}), whole);
  write("new.txt", "new\n");
  EXPECT_EQ(restored->seal(rill::Time{8000}, true).records, Lines{"new"});
}

TEST_F(FileSourceTest, PositionDeltasCarryForgottenNamesAndTheOffsetOfAPartlyReadFile) {
  auto clock = rill::ManualClock::create();
  const rill::FileStreamOptions options{.max_bytes_per_batch = 80};
  auto source = started(options, *clock);
  source->track_position_changes();
  Checkpoints checkpoints{*source, {}, {}};
  write("a.txt", "a\n");
  ASSERT_EQ(source->seal(rill::Time{1000}, true).records, Lines{"a"});
  checkpoints.whole(rill::Time{1000});
  source->release(rill::Time{1000});
  // b.txt (25 lines of 8 bytes) is read 10 lines a batch; c.txt waits behind it in the queue;
  // a.txt leaves the directory and its name is forgotten.
  write("b.txt", numbered(25));
  write("c.txt", "c\n");
  fs::remove(dir() / "a.txt");
  std::vector<Lines> batches;
  std::vector<std::string> wholes;
  for (int i = 2; i <= 5; ++i) {
    const rill::Time t{i * 1000};
    batches.push_back(source->seal(t, true).records);
    checkpoints.delta(t);
    source->release(t);
    wholes.push_back(source->save_position(t));
    // Each prefix of the chain restores the whole position of its batch, and goes on reading
    // from there.
    auto restored = started(options, *clock);
    checkpoints.restore(*restored);
    EXPECT_EQ(restored->save_position(t), wholes.back()) << i;
    EXPECT_EQ(restored->has_buffered_input(), source->has_buffered_input()) << i;
  }
  EXPECT_EQ(batches[0], numbered_lines(0, 10));
  EXPECT_EQ(batches[1], numbered_lines(10, 20));
  Lines third = numbered_lines(20, 25);
  third.push_back("c");
  EXPECT_EQ(batches[2], third);
  EXPECT_TRUE(batches[3].empty());

  // Restored after batch 3000 ms (b.txt read to line 20), the rest comes once.
  auto restored = started(options, *clock);
  restored->load_position(checkpoints.snapshot);
  restored->load_position_delta(checkpoints.deltas[0]);
  restored->load_position_delta(checkpoints.deltas[1]);
  EXPECT_EQ(restored->seal(rill::Time{4000}, true).records, third);
  write("a.txt", "a again\n");  // forgotten: a new file of the same name is read
  EXPECT_EQ(restored->seal(rill::Time{5000}, true).records, Lines{"a again"});
}

TEST_F(FileSourceTest,
       APositionDeltaIsWrittenOnlyOverADurablePositionAndRefusedWhenItDoesNotApply) {
  auto clock = rill::ManualClock::create();
  auto source = started({}, *clock);
  // Without tracking, or before a position is durable, only whole positions are written.
  EXPECT_FALSE(source->save_position_delta(rill::Time{0}).has_value());
  source->track_position_changes();
  EXPECT_FALSE(source->save_position_delta(rill::Time{0}).has_value());
  const std::string empty = source->save_position(rill::Time{0});
  source->position_saved(rill::Time{0});
  write("a.txt", "a\n");
  ASSERT_EQ(source->seal(rill::Time{1000}, true).records, Lines{"a"});
  const auto adds_a = source->save_position_delta(rill::Time{1000});
  ASSERT_TRUE(adds_a.has_value());
  // Until the checkpoint is durable (position_saved), changes count from the one before.
  EXPECT_EQ(source->save_position_delta(rill::Time{1000}), adds_a);
  source->position_saved(rill::Time{1000});
  fs::remove(dir() / "a.txt");
  write("b.txt", "b\n");
  ASSERT_EQ(source->seal(rill::Time{2000}, true).records, Lines{"b"});
  const auto forgets_a = source->save_position_delta(rill::Time{2000});
  ASSERT_TRUE(forgets_a.has_value());

  auto restored = started({}, *clock);
  restored->load_position(empty);
  // Over the wrong position (a.txt was never remembered there): refused, naming the stream.
  EXPECT_THROW(restored->load_position_delta(*forgets_a), rill::CheckpointError);
  EXPECT_THROW(restored->load_position_delta(adds_a->substr(0, adds_a->size() - 3)),
               rill::CheckpointError);                                        // truncated
  EXPECT_THROW(restored->load_position_delta(empty), rill::CheckpointError);  // not a delta
  EXPECT_THROW(
      restored->load_position_delta(rill::detail::to_bytes(std::uint64_t{0xF11EDE1700000002ULL})),
      rill::CheckpointError);  // a newer layout
  // Nothing refused changed the position; the right chain applies.
  EXPECT_EQ(restored->save_position(rill::Time{0}), empty);
  restored->load_position_delta(*adds_a);
  restored->load_position_delta(*forgets_a);
  EXPECT_EQ(restored->save_position(rill::Time{2000}), source->save_position(rill::Time{2000}));

  // position_saved of a time whose position was not encoded: the base is unknown, so the next
  // checkpoint is whole.
  source->position_saved(rill::Time{3000});
  EXPECT_FALSE(source->save_position_delta(rill::Time{3000}).has_value());
}

TEST_F(FileSourceTest,
       AFileMovedInOlderThanTheRememberWindowAfterTheFirstBatchIsSkippedCountedAndLogged) {
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  rill::get_logger()->sinks().push_back(sink);
  SetClock clock;  // the wall clock's reading, moved on by the test
  const auto wall =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  clock.set(rill::Time{wall.time_since_epoch().count()});
  const auto set_modified = [&](const std::string& name, std::chrono::system_clock::duration ago) {
    fs::last_write_time(dir() / name, std::chrono::file_clock::from_sys(wall - ago));
  };
  auto source = started({.remember = 60s}, clock);
  write("fresh.txt", "fresh\n");
  set_modified("fresh.txt", 0s);
  EXPECT_EQ(source->seal(clock.now(), true).records, Lines{"fresh"});
  source->release(clock.now());  // names listed before now - 60 s are forgotten from here

  // Moved in now with a modification time an hour ago: before the remember window, and before
  // the oldest name remembered. Skipped, counted once each, logged once (rate-limited).
  clock.advance(1s);
  for (const char* name : {"old1.txt", "old2.txt", "old3.txt"}) {
    write(name, "old\n");
    set_modified(name, 1h);
  }
  EXPECT_TRUE(source->seal(clock.now(), true).records.empty());
  source->release(clock.now());
  EXPECT_EQ(source->counts().skipped, 3);
  clock.advance(1s);
  EXPECT_TRUE(source->seal(clock.now(), true).records.empty());
  source->release(clock.now());
  EXPECT_EQ(source->counts().skipped, 3);

  // Once their names are forgotten (60 s after they were listed), they and fresh.txt stay in the
  // directory as forgotten files: passed over without being counted or logged again.
  clock.advance(120s);
  EXPECT_TRUE(source->seal(clock.now(), true).records.empty());
  source->release(clock.now());
  clock.advance(1s);
  EXPECT_TRUE(source->seal(clock.now(), true).records.empty());
  EXPECT_EQ(source->counts().skipped, 3);
  EXPECT_EQ(source->counts().errors, 0);

  auto& sinks = rill::get_logger()->sinks();
  sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
  const std::string text = log.str();
  std::size_t logged = 0;
  for (auto pos = text.find("modified before the remember window"); pos != std::string::npos;
       pos = text.find("modified before the remember window", pos + 1))
    ++logged;
  EXPECT_EQ(logged, 1U) << text;
  EXPECT_NE(text.find("old1.txt"), std::string::npos) << text;
}
