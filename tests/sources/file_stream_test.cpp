// Integration tests of text_file_stream on a real temporary directory.

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

#include "support/sequences.hpp"
#include "support/temp_dirs.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using Lines = std::vector<std::string>;

using rill_test::TempDirs;

using rill_test::flatten;

}  // namespace

TEST(FileStream, FileMovedInAppearsInTheNextBatchAndIsReadOnce) {
  TempDirs dirs;
  fs::create_directories(dirs.watched());
  rill::testing::Harness h{1s};
  auto out = h.collect(h.context().text_file_stream(dirs.watched()));
  h.run_batches(1);

  dirs.move_in("a.txt", "alpha\nbeta\n");
  h.run_batches(1);
  h.run_batches(1);  // nothing new: a.txt is not read again

  dirs.move_in("b.txt", "gamma\n");
  // A change to a file already read is ignored (Spark: files must be moved in whole).
  {
    std::ofstream append(dirs.watched() / "a.txt", std::ios::app);
    append << "late\n";
  }
  h.run_batches(2);

  EXPECT_EQ(out.batches(), (std::vector<Lines>{{}, {"alpha", "beta"}, {}, {"gamma"}, {}}));
  EXPECT_EQ(out.times(),
            (std::vector<rill::Time>{rill::Time{1000}, rill::Time{2000}, rill::Time{3000},
                                     rill::Time{4000}, rill::Time{5000}}));
  const auto stats = h.context().source_stats();
  ASSERT_EQ(stats.size(), 1U);
  EXPECT_EQ(stats[0].records, 3);
  EXPECT_EQ(stats[0].errors, 0);
  EXPECT_EQ(stats[0].skipped, 0);
}

TEST(FileStream, SeveralFilesInOneBatchAreReadWholeInNameOrder) {
  TempDirs dirs;
  fs::create_directories(dirs.watched());
  rill::testing::Harness h{1s};
  auto out = h.collect(h.context().text_file_stream(dirs.watched()));
  h.run_batches(1);
  dirs.move_in("2.txt", "c\nd\n");
  dirs.move_in("1.txt", "a\nb\n");
  dirs.move_in("empty.txt", "");
  h.run_batches(1);
  const auto batches = out.batches();
  ASSERT_EQ(batches.size(), 2U);
  EXPECT_EQ(batches[1], (Lines{"a", "b", "c", "d"}));
}

TEST(FileStream, HiddenUnderscoreFilesAndDirectoriesAreIgnored) {
  TempDirs dirs;
  fs::create_directories(dirs.watched());
  rill::testing::Harness h{1s};
  auto out = h.collect(h.context().text_file_stream(dirs.watched()));
  h.run_batches(1);

  dirs.move_in(".hidden", "hidden\n");
  dirs.move_in("_COPYING_", "copying\n");
  dirs.move_in("visible.txt", "visible\n");
  fs::create_directories(dirs.watched() / "subdir");
  TempDirs::write(dirs.watched() / "subdir" / "nested.txt", "nested\n");
  h.run_batches(2);

  EXPECT_EQ(out.batches(), (std::vector<Lines>{{}, {"visible"}, {}}));
  EXPECT_EQ(h.context().source_stats().at(0).errors, 0);
}

TEST(FileStream, ExistingFilesAreIgnoredByDefault) {
  TempDirs dirs;
  fs::create_directories(dirs.watched());
  dirs.move_in("old.txt", "old\n");
  rill::testing::Harness h{1s};
  auto out = h.collect(h.context().text_file_stream(dirs.watched()));
  h.run_batches(1);
  dirs.move_in("new.txt", "new\n");
  h.run_batches(2);
  EXPECT_EQ(out.batches(), (std::vector<Lines>{{}, {"new"}, {}}));
}

TEST(FileStream, ExistingFilesAreReadWithNewFilesOnlyFalse) {
  TempDirs dirs;
  fs::create_directories(dirs.watched());
  dirs.move_in("old.txt", "old 1\nold 2\n");
  rill::testing::Harness h{1s};
  auto out = h.collect(h.context().text_file_stream(
      dirs.watched(), rill::FileStreamOptions{.new_files_only = false}));
  h.run_batches(1);
  dirs.move_in("new.txt", "new\n");
  h.run_batches(2);
  EXPECT_EQ(out.batches(), (std::vector<Lines>{{"old 1", "old 2"}, {"new"}, {}}));
}

TEST(FileStream, UnreadableFileIsCountedAndTheStreamGoesOn) {
  TempDirs dirs;
  fs::create_directories(dirs.watched());
  rill::testing::Harness h{1s};
  auto out = h.collect(h.context().text_file_stream(dirs.watched()));
  h.run_batches(1);

  // A dangling symlink: listed, but cannot be opened (root ignores permissions, not this).
  fs::create_symlink(dirs.missing(), dirs.watched() / "broken.txt");
  dirs.move_in("good.txt", "good\n");
  h.run_batches(1);
  dirs.move_in("later.txt", "later\n");
  h.run_batches(2);

  EXPECT_EQ(out.batches(), (std::vector<Lines>{{}, {"good"}, {"later"}, {}}));
  const auto stats = h.context().source_stats();
  ASSERT_EQ(stats.size(), 1U);
  EXPECT_EQ(stats[0].errors, 1);  // counted once: the file is not retried every batch
  EXPECT_EQ(stats[0].records, 2);
  EXPECT_EQ(h.context().state(), rill::ContextState::active);
}

TEST(FileStream, MissingDirectoryDoesNotCrashAndIsPickedUpWhenCreated) {
  TempDirs dirs;  // watched() does not exist
  rill::testing::Harness h{1s};
  auto out = h.collect(h.context().text_file_stream(dirs.watched()));
  h.run_batches(2);
  EXPECT_EQ(h.context().state(), rill::ContextState::active);

  fs::create_directories(dirs.watched());
  dirs.move_in("first.txt", "first\n");
  h.run_batches(2);
  EXPECT_EQ(out.batches(), (std::vector<Lines>{{}, {}, {"first"}, {}}));
}

TEST(FileStream, DirectoryRemovedWhileRunningDoesNotStopTheStream) {
  TempDirs dirs;
  fs::create_directories(dirs.watched());
  rill::testing::Harness h{1s};
  auto out = h.collect(h.context().text_file_stream(dirs.watched()));
  h.run_batches(1);
  dirs.move_in("a.txt", "a\n");
  h.run_batches(1);
  fs::remove_all(dirs.watched());
  h.run_batches(1);
  fs::create_directories(dirs.watched());
  dirs.move_in("b.txt", "b\n");
  h.run_batches(1);
  EXPECT_EQ(out.batches(), (std::vector<Lines>{{}, {"a"}, {}, {"b"}}));
}

TEST(FileStream, CrLfLineEndingsAndLastLineWithoutNewline) {
  TempDirs dirs;
  fs::create_directories(dirs.watched());
  rill::testing::Harness h{1s};
  auto out = h.collect(h.context().text_file_stream(dirs.watched()));
  h.run_batches(1);
  dirs.move_in("dos.txt", "one\r\ntwo\r\n\r\nthree\r\nlast");
  dirs.move_in("dos2.txt", "final\r");
  h.run_batches(1);
  const auto batches = out.batches();
  ASSERT_EQ(batches.size(), 2U);
  EXPECT_EQ(batches[1], (Lines{"one", "two", "", "three", "last", "final"}));
}

TEST(FileStream, LinesAreSplitIntoContiguousPartitions) {
  TempDirs dirs;
  fs::create_directories(dirs.watched());
  rill::testing::Harness h{rill::Config{}.batch_interval(1s).parallelism(3)};
  std::vector<std::vector<Lines>> seen;
  std::mutex mutex;
  h.context()
      .text_file_stream(dirs.watched())
      .foreach_batch([&](const rill::Batch<std::string>& b, rill::Time) {
        std::vector<Lines> parts;
        for (std::size_t i = 0; i < b.num_partitions(); ++i)
          parts.emplace_back(b.partition(i).begin(), b.partition(i).end());
        std::lock_guard lock(mutex);
        seen.push_back(std::move(parts));
      });
  h.run_batches(1);
  dirs.move_in("f.txt", "1\n2\n3\n4\n5\n6\n");
  h.run_batches(1);
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_EQ(seen[1], (std::vector<Lines>{{"1", "2"}, {"3", "4"}, {"5", "6"}}));
  EXPECT_EQ(flatten(seen[1]), (Lines{"1", "2", "3", "4", "5", "6"}));
}

TEST(FileStream, UnderTheSystemClockFilesOlderThanRememberAreSkipped) {
  TempDirs dirs;
  fs::create_directories(dirs.watched());
  std::mutex mutex;
  std::condition_variable cv;
  Lines lines;
  rill::StreamingContext ctx{rill::Config{}.batch_interval(50ms).parallelism(1)};
  ctx.text_file_stream(dirs.watched(),
                       rill::FileStreamOptions{.new_files_only = false, .remember = 60s})
      .foreach_batch([&](const rill::Batch<std::string>& b, rill::Time) {
        {
          std::lock_guard lock(mutex);
          for (const auto& line : b)
            lines.push_back(line);
        }
        cv.notify_all();
      });

  // Moved in whole, but last modified two hours ago: outside the remember window. Both files
  // are there at start (new_files_only = false), so the first batch lists them: once a batch
  // has completed, names (and files) older than the window are forgotten, and an old file is
  // then ignored without being counted, as in Spark (docs/operators.md).
  const fs::path old_file = dirs.staging() / "old.txt";
  TempDirs::write(old_file, "old\n");
  fs::last_write_time(old_file, fs::file_time_type::clock::now() - std::chrono::hours(2));
  fs::rename(old_file, dirs.watched() / "old.txt");
  dirs.move_in("fresh.txt", "fresh\n");
  ctx.start();

  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return !lines.empty(); }));
  }
  ctx.stop();
  std::lock_guard lock(mutex);
  EXPECT_EQ(lines, (Lines{"fresh"}));
  const auto stats = ctx.source_stats();
  ASSERT_EQ(stats.size(), 1U);
  EXPECT_EQ(stats[0].skipped, 1);
  EXPECT_EQ(stats[0].records, 1);
}

TEST(FileStream, InvalidArgumentsThrow) {
  rill::StreamingContext ctx{rill::Config{}.batch_interval(1s).clock(rill::ManualClock::create())};
  EXPECT_THROW(ctx.text_file_stream(""), rill::InvalidArgument);
  EXPECT_THROW(ctx.text_file_stream("/tmp", rill::FileStreamOptions{.remember = 0ms}),
               rill::InvalidArgument);
  EXPECT_THROW(ctx.text_file_stream("/tmp", rill::FileStreamOptions{.max_line_bytes = 0}),
               rill::InvalidArgument);
  EXPECT_THROW(ctx.text_file_stream("/tmp", rill::FileStreamOptions{.max_bytes_per_batch = 0}),
               rill::InvalidArgument);
}

TEST(FileStream, AFileSplitOverBatchesIsReadExactlyOnceAcrossARestart) {
  TempDirs dirs;
  fs::create_directories(dirs.watched());
  const fs::path ckpt = dirs.staging().parent_path() / "ckpt";
  Lines all;
  std::string content;
  for (int i = 0; i < 40; ++i) {
    all.push_back(fmt::format("line-{:02}", i));
    content += all.back() + "\n";  // 8 bytes a line: 5 lines a batch
  }
  // What each batch time delivered (a batch run again after the restart delivers the same).
  std::mutex mutex;
  std::map<rill::Time, Lines> delivered;
  const auto run = [&](std::int64_t until_ms, bool move_in_first) {
    auto clock = rill::ManualClock::create();
    auto ctx = rill::StreamingContext::get_or_create(ckpt, [&] {
      auto c = std::make_unique<rill::StreamingContext>(
          rill::Config{}.batch_interval(1s).parallelism(1).clock(clock));
      c->checkpoint(ckpt);
      c->text_file_stream(dirs.watched(), rill::FileStreamOptions{.max_bytes_per_batch = 40})
          .foreach_batch(
              [&](const rill::Batch<std::string>& b, rill::Time t) {
                auto lines = b.collect();
                std::lock_guard lock(mutex);
                delivered[t] = std::move(lines);
              },
              rill::idempotent);
      return c;
    });
    if (move_in_first) {
      rill::testing::run_until(*ctx, *clock, rill::Time{1000});
      dirs.move_in("big.txt", content);
    }
    rill::testing::run_until(*ctx, *clock, rill::Time{until_ms});
    ctx->stop(rill::StopOptions{.graceful = false});
  };
  run(3000, true);  // batches 2000 and 3000 take lines 0-9
  // As if the process died before batch 3000's checkpoint: batch 3000 runs again with lines 5-9
  // (from its seal record if it is still there, else sealed again from the position of 2000,
  // which says how far into the file batch 2000 read).
  for (const auto& entry : fs::directory_iterator(ckpt)) {
    const std::string name = entry.path().filename().string();
    if (name == "snapshot-3000.rill" || name == "delta-3000.rill") fs::remove(entry.path());
  }
  run(12000, false);
  Lines got;
  std::lock_guard lock(mutex);
  for (const auto& [t, lines] : delivered) {
    EXPECT_LE(lines.size(), 5U) << t;
    got.insert(got.end(), lines.begin(), lines.end());
  }
  EXPECT_EQ(got, all);
  EXPECT_EQ(delivered.at(rill::Time{3000}), Lines(all.begin() + 5, all.begin() + 10));
}
