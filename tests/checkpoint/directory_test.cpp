// The checkpoint directory as a running process holds it: its lock, the temporary files killed
// writers leave, and a start() that cannot write its first checkpoint (a full disk) or start an
// input, which must fail at once with nothing left running.
#include <sys/mount.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

/// Threads of this process (/proc/self/task). Starts and joins a thread first, so that a
/// sanitizer's helper thread, which the first thread creation starts, is counted both times.
std::size_t thread_count() {
  std::thread([] {}).join();
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/task"))
    ++n;
  return n;
}

class CheckpointDirectory : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            fmt::format("rill-directory-{}-{}", ::getpid(), std::random_device{}());
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  /// A checkpointed pipeline on `dir` (a queue stream counted by update_state_by_key).
  static std::unique_ptr<rill::StreamingContext> counting(const fs::path& dir,
                                                          std::shared_ptr<rill::ManualClock> clock,
                                                          rill::Duration interval = 1s) {
    return rill::StreamingContext::get_or_create(dir, [&] {
      auto ctx = std::make_unique<rill::StreamingContext>(
          rill::Config{}.batch_interval(interval).parallelism(1).worker_threads(1).clock(clock));
      ctx->queue_stream<int>({{1, 2}, {3}})
          .map([](int x) {
            return std::pair<int, int>{x % 2, 1};
          })
          .update_state_by_key(
              [](const std::vector<int>& ones, std::optional<int> n) -> std::optional<int> {
                return n.value_or(0) + static_cast<int>(ones.size());
              })
          .name("counts")
          .foreach_batch([](const rill::Batch<std::pair<int, int>>&, rill::Time) {});
      return ctx;
    });
  }

  fs::path root_;
};

}  // namespace

TEST_F(CheckpointDirectory, TheLockIsHeldByTheRunningContextNotByAFile) {
  auto clock = rill::ManualClock::create();
  auto first = counting(root_ / "ckpt", clock);
  rill::testing::run_until(*first, *clock, rill::Time{1000});
  // Whatever is deleted in the directory, a second context (here in the same process; flock
  // locks of two opens conflict as two processes' do) is refused while the first runs.
  for (const auto& e : fs::directory_iterator(root_ / "ckpt")) {
    if (e.path().filename() == "lock") fs::remove(e.path());
  }
  auto second = counting(root_ / "ckpt", clock);
  try {
    second->start();
    FAIL() << "expected rill::CheckpointError";
  } catch (const rill::CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos) << e.what();
  }
  EXPECT_EQ(second->state(), rill::ContextState::stopped);
  first->stop();
  // Once the first stopped, the directory is free.
  auto third = counting(root_ / "ckpt", clock);
  EXPECT_NO_THROW(rill::testing::run_until(*third, *clock, rill::Time{2000}));
  third->stop();
}

TEST_F(CheckpointDirectory, TemporaryFilesOfKilledWritersAreRemovedAtStart) {
  auto clock = rill::ManualClock::create();
  {
    auto ctx = counting(root_ / "ckpt", clock);
    rill::testing::run_until(*ctx, *clock, rill::Time{1000});
    ctx->stop();
  }
  // What a kill between a write and its rename leaves behind.
  for (const char* name : {".delta-2000.rill.tmp", ".sealed-3000.rill.tmp", ".snapshot-9.rill.tmp"})
    std::ofstream(root_ / "ckpt" / name) << "torn";
  auto ctx = counting(root_ / "ckpt", clock);
  rill::testing::run_until(*ctx, *clock, rill::Time{2000});
  ctx->stop();
  for (const auto& e : fs::directory_iterator(root_ / "ckpt"))
    EXPECT_FALSE(e.path().filename().string().ends_with(".tmp")) << e.path();
}

// A start() on a full disk: the first checkpoint cannot be written. It must throw at once (the
// old engine waited ten intervals for a batch thread it had not started) and leave no thread.
TEST_F(CheckpointDirectory, AFirstCheckpointThatCannotBeWrittenFailsStartAtOnce) {
  const fs::path disk = root_ / "disk";
  fs::create_directories(disk);
  if (::mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=64k") != 0) {
    GTEST_SKIP() << "cannot mount a small tmpfs here (needs root): " << std::strerror(errno);
  }
  {
    // Fill it.
    std::ofstream fill(disk / "fill", std::ios::binary);
    const std::string block(4096, 'x');
    while (fill.write(block.data(), static_cast<std::streamsize>(block.size())) && fill.flush()) {
    }
  }
  const std::size_t threads_before = thread_count();
  auto clock = rill::ManualClock::create();
  auto ctx = counting(disk / "ckpt", clock, 10s);
  const auto started = std::chrono::steady_clock::now();
  EXPECT_THROW(ctx->start(), rill::CheckpointError);
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(ctx->state(), rill::ContextState::stopped);
  EXPECT_EQ(thread_count(), threads_before);
  // Not the ten intervals (100 s) of waiting for a batch thread that never ran.
  EXPECT_LT(took, 10s);
  EXPECT_THROW(ctx->start(), rill::IllegalState);
  ctx.reset();
  ::umount2(disk.c_str(), MNT_DETACH);
}

namespace {
/// A source whose start() throws, after another input started its receiver.
class FailsToStart final : public rill::Source<int> {
 public:
  [[nodiscard]] std::string kind() const override { return "fails_to_start"; }
  [[nodiscard]] rill::SourceProperties properties() const override { return {}; }
  void start(rill::SourceContext&) override { throw rill::IoError("the broker is unreachable"); }
  rill::Sealed<int> seal(rill::Time, bool) override { return {}; }
};

class Idle final : public rill::Receiver<int> {
 public:
  void on_start() override {}
  void on_stop() override { stopped = true; }
  std::atomic<bool> stopped{false};
};
}  // namespace

TEST_F(CheckpointDirectory, AnInputThatFailsToStartFailsStartWithNothingLeftRunning) {
  for (const bool checkpointed : {false, true}) {
    SCOPED_TRACE(checkpointed ? "checkpointed" : "not checkpointed");
    const std::size_t threads_before = thread_count();
    auto clock = rill::ManualClock::create();
    auto receiver = std::make_shared<Idle>();
    {
      rill::StreamingContext ctx{rill::Config{}.batch_interval(1s).worker_threads(2).clock(clock)};
      if (checkpointed) ctx.checkpoint(root_ / "ckpt");
      auto a = ctx.receiver_stream<int>(receiver);
      auto b = ctx.add_source<int>(std::make_shared<FailsToStart>());
      a.union_with(b).foreach_batch([](const rill::Batch<int>&, rill::Time) {});
      EXPECT_THROW(ctx.start(), rill::IoError);
      EXPECT_EQ(ctx.state(), rill::ContextState::stopped);
      EXPECT_TRUE(receiver->stopped.load());
      EXPECT_EQ(thread_count(), threads_before);
      const auto stopping = std::chrono::steady_clock::now();
      ctx.stop();  // nothing to wait for
      EXPECT_LT(std::chrono::steady_clock::now() - stopping, 1s);
    }
    if (checkpointed) {
      // The directory's lock went with the failed start.
      auto again = counting(root_ / "ckpt", clock);
      EXPECT_NO_THROW(rill::testing::run_until(*again, *clock, rill::Time{1000}));
      again->stop();
    }
  }
}
