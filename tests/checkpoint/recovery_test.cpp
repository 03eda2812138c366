// Checkpoints and recovery inside one process: a context stopped after some batches and built
// again with get_or_create() must write exactly what an uninterrupted run writes.
#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

#include "checkpoint/pipeline.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr int kBatches = 12;
using rill_test::Options;
using rill_test::pipeline;

std::map<std::string, std::string> read_dir(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    files[entry.path().filename().string()] =
        std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  return files;
}

class Recovery : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            fmt::format("rill-recovery-{}-{}", ::getpid(), std::random_device{}());
    fs::create_directories(root_ / "ref-out");
    fs::create_directories(root_ / "out");
    // The reference: one uninterrupted run.
    auto clock = rill::ManualClock::create();
    auto ctx = rill::StreamingContext::get_or_create(
        root_ / "ref-ckpt", [&] { return pipeline(root_ / "ref-out", clock, {}, kBatches); });
    rill::testing::run_until(*ctx, *clock, rill::Time{kBatches * 1000});
    ctx->stop();
    reference_ = read_dir(root_ / "ref-out");
  }
  void TearDown() override { fs::remove_all(root_); }

  /// Runs the pipeline on the test's checkpoint directory up to batch `until`.
  void run(std::int64_t until, Options options = {}) {
    auto clock = rill::ManualClock::create();
    auto ctx = rill::StreamingContext::get_or_create(
        root_ / "ckpt", [&] { return pipeline(root_ / "out", clock, options, kBatches); });
    rill::testing::run_until(*ctx, *clock, rill::Time{until * 1000});
    ctx->stop(rill::StopOptions{.graceful = false});
  }

  std::vector<fs::path> checkpoints() const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(root_ / "ckpt")) {
      if (e.path().filename().string().starts_with("checkpoint-")) out.push_back(e.path());
    }
    std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) {
      return std::stol(a.stem().string().substr(11)) < std::stol(b.stem().string().substr(11));
    });
    return out;
  }

  fs::path root_;
  std::map<std::string, std::string> reference_;
};

}  // namespace

TEST_F(Recovery, ReferenceRunWroteEveryBatch) {
  EXPECT_EQ(reference_.size(), 3u * kBatches);
  // Batches 2000 and 3000 hold "b a", then "c a" and "d c".
  EXPECT_EQ(reference_.at("totals-3000"), "(a,2)\n(b,1)\n(c,2)\n(d,1)\n");
  EXPECT_EQ(reference_.at("window_count-3000"), "6\n");
}

TEST_F(Recovery, RestartContinuesWhereItStopped) {
  run(5);
  run(kBatches);
  EXPECT_EQ(read_dir(root_ / "out"), reference_);
}

TEST_F(Recovery, SeveralRestartsAndKeepsTenCheckpoints) {
  for (int until : {2, 3, 7, 9, kBatches})
    run(until);
  EXPECT_EQ(read_dir(root_ / "out"), reference_);
  EXPECT_LE(checkpoints().size(), 10u);
}

TEST_F(Recovery, ABatchSealedButNotCheckpointedRunsAgainWithTheSameInput) {
  run(6);
  // As if the process died after batch 6000's outputs but before its checkpoint: the seal
  // record stays, the checkpoint goes, and the output file of batch 6000 is left half done.
  fs::remove(checkpoints().back());
  std::ofstream(root_ / "out" / ".totals-6000.rill-tmp") << "(a,";
  run(kBatches);
  auto got = read_dir(root_ / "out");
  got.erase(".totals-6000.rill-tmp");
  EXPECT_EQ(got, reference_);
}

TEST_F(Recovery, ACorruptCheckpointFallsBackToThePreviousOne) {
  run(6);
  const auto files = checkpoints();
  ASSERT_GE(files.size(), 3u);
  {  // flip a byte in the newest
    std::fstream f(files.back(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(30);
    f.put('\x7f');
  }
  fs::resize_file(files[files.size() - 2], 10);  // truncate the one before
  run(kBatches);
  EXPECT_EQ(read_dir(root_ / "out"), reference_);
}

TEST_F(Recovery, NoValidCheckpointIsAClearErrorUnlessStartingFresh) {
  run(3);
  for (const auto& f : checkpoints())
    fs::resize_file(f, 5);
  auto clock = rill::ManualClock::create();
  try {
    auto ctx = rill::StreamingContext::get_or_create(
        root_ / "ckpt", [&] { return pipeline(root_ / "out", clock, {}, kBatches); });
    ctx->start();
    FAIL() << "expected rill::CheckpointError";
  } catch (const rill::CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find((root_ / "ckpt").string()), std::string::npos) << e.what();
  }
  auto fresh = rill::StreamingContext::get_or_create(
      root_ / "ckpt", [&] { return pipeline(root_ / "out2", clock, {}, kBatches); }, true);
  fs::create_directories(root_ / "out2");
  EXPECT_NO_THROW(rill::testing::run_until(*fresh, *clock, rill::Time{1000}));
}

TEST_F(Recovery, AChangedPipelineIsRefusedNamingTheOperator) {
  run(3);
  auto clock = rill::ManualClock::create();
  for (const Options& changed : {Options{"renamed", false}, Options{"totals", true}}) {
    auto ctx = rill::StreamingContext::get_or_create(
        root_ / "ckpt", [&] { return pipeline(root_ / "out", clock, changed, kBatches); });
    try {
      ctx->start();
      FAIL() << "expected rill::CheckpointError";
    } catch (const rill::CheckpointError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(changed.state_name == "renamed" ? "renamed" : "'totals'"),
                std::string::npos)
          << what;
    }
  }
}

TEST_F(Recovery, ASecondContextOnTheSameDirectoryIsRefused) {
  auto clock = rill::ManualClock::create();
  auto first = rill::StreamingContext::get_or_create(
      root_ / "ckpt", [&] { return pipeline(root_ / "out", clock, {}, kBatches); });
  rill::testing::run_until(*first, *clock, rill::Time{1000});
  auto second = rill::StreamingContext::get_or_create(
      root_ / "ckpt", [&] { return pipeline(root_ / "out", clock, {}, kBatches); });
  EXPECT_THROW(second->start(), rill::CheckpointError);
}

TEST(Delivery, ExactlyOnceIsCheckedAtStart) {
  const auto dir = fs::temp_directory_path() / fmt::format("rill-delivery-{}", ::getpid());
  auto config = [] {
    return rill::Config{}
        .batch_interval(1s)
        .clock(rill::ManualClock::create())
        .delivery(rill::Delivery::exactly_once);
  };
  {
    rill::StreamingContext ctx{config()};
    ctx.queue_stream<int>({}).foreach_batch([](const rill::Batch<int>&, rill::Time) {});
    ctx.checkpoint(dir);
    try {
      ctx.start();
      FAIL() << "expected rill::InvalidArgument";
    } catch (const rill::InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("foreach_batch#1"), std::string::npos) << e.what();
    }
  }
  {
    rill::StreamingContext ctx{config()};
    ctx.socket_text_stream("127.0.0.1", 9)
        .foreach_batch([](const rill::Batch<std::string>&, rill::Time) {}, rill::idempotent);
    ctx.checkpoint(dir);
    try {
      ctx.start();
      FAIL() << "expected rill::InvalidArgument";
    } catch (const rill::InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("socket_text_stream#1"), std::string::npos) << e.what();
    }
  }
  {
    rill::StreamingContext ctx{config()};
    ctx.queue_stream<int>({}).print();
    EXPECT_THROW(ctx.start(), rill::InvalidArgument);  // no checkpoint directory
  }
  {
    rill::StreamingContext ctx{config()};
    ctx.queue_stream<int>({}).foreach_batch([](const rill::Batch<int>&, rill::Time) {},
                                            rill::idempotent);
    ctx.queue_stream<int>({}).print();  // allowed, with a warning
    ctx.checkpoint(dir);
    EXPECT_NO_THROW(ctx.start());
  }
  fs::remove_all(dir);
}

TEST(Delivery, StateThatCannotBeSerializedIsRefusedWithACheckpoint) {
  struct Opaque {
    int x = 0;
  };
  const auto dir = fs::temp_directory_path() / fmt::format("rill-opaque-{}", ::getpid());
  rill::StreamingContext ctx{rill::Config{}.batch_interval(1s).clock(rill::ManualClock::create())};
  ctx.queue_stream<std::pair<int, int>>({})
      .update_state_by_key<Opaque>(
          [](const std::vector<int>&, std::optional<Opaque> s) { return s; })
      .name("opaque_sessions")
      .foreach_batch([](const auto&, rill::Time) {});
  ctx.checkpoint(dir);
  try {
    ctx.start();
    FAIL() << "expected rill::CheckpointError";
  } catch (const rill::CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("opaque_sessions"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

namespace {
/// A receiver the test feeds by hand: store() returns once the block is in the write-ahead log.
class HandFed final : public rill::Receiver<int> {
 public:
  void on_start() override {}
  void on_stop() override {}
};

struct Collected {
  std::mutex mutex;
  std::map<rill::Time, std::vector<int>> batches;  // idempotent: keyed by batch time
};

std::unique_ptr<rill::StreamingContext> receiving(std::shared_ptr<rill::ManualClock> clock,
                                                  std::shared_ptr<HandFed> receiver,
                                                  std::shared_ptr<Collected> out) {
  auto ctx = std::make_unique<rill::StreamingContext>(
      rill::Config{}.batch_interval(1s).parallelism(2).clock(clock).delivery(
          rill::Delivery::exactly_once));
  ctx->receiver_stream<int>(receiver)
      .name("hand_fed")
      .foreach_batch(
          [out](const rill::Batch<int>& b, rill::Time t) {
            std::lock_guard lock(out->mutex);
            out->batches[t] = b.collect();
          },
          rill::idempotent);
  return ctx;
}
}  // namespace

TEST_F(Recovery, StoredBlocksSurviveAStopBeforeTheirBatch) {
  auto out = std::make_shared<Collected>();
  {
    auto clock = rill::ManualClock::create();
    auto receiver = std::make_shared<HandFed>();
    auto ctx = rill::StreamingContext::get_or_create(
        root_ / "ckpt", [&] { return receiving(clock, receiver, out); });
    rill::testing::run_until(*ctx, *clock, rill::Time{1000});
    receiver->store(std::vector<int>{1, 2, 3});  // durable when it returns
    receiver->store(std::vector<int>{4});
    ctx->stop(rill::StopOptions{.graceful = false});  // before any batch took them
  }
  {
    auto clock = rill::ManualClock::create();
    auto receiver = std::make_shared<HandFed>();
    auto ctx = rill::StreamingContext::get_or_create(
        root_ / "ckpt", [&] { return receiving(clock, receiver, out); });
    rill::testing::run_until(*ctx, *clock, rill::Time{2000});
    receiver->store(std::vector<int>{5, 6});
    rill::testing::run_until(*ctx, *clock, rill::Time{3000});
    ctx->stop(rill::StopOptions{.graceful = false});
  }
  // As if the process died after batch 3000 ran but before its checkpoint: the batch runs again
  // from its seal record, which names its blocks in the log.
  fs::remove(checkpoints().back());
  {
    auto clock = rill::ManualClock::create();
    auto receiver = std::make_shared<HandFed>();
    auto ctx = rill::StreamingContext::get_or_create(
        root_ / "ckpt", [&] { return receiving(clock, receiver, out); });
    std::lock_guard lock(out->mutex);
    out->batches.erase(rill::Time{3000});
  }
  {
    auto clock = rill::ManualClock::create();
    auto receiver = std::make_shared<HandFed>();
    auto ctx = rill::StreamingContext::get_or_create(
        root_ / "ckpt", [&] { return receiving(clock, receiver, out); });
    rill::testing::run_until(*ctx, *clock, rill::Time{4000});
    ctx->stop();
  }
  std::lock_guard lock(out->mutex);
  EXPECT_EQ(out->batches.at(rill::Time{1000}), std::vector<int>{});
  EXPECT_EQ(out->batches.at(rill::Time{2000}), (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(out->batches.at(rill::Time{3000}), (std::vector<int>{5, 6}));
  EXPECT_EQ(out->batches.at(rill::Time{4000}), std::vector<int>{});
}
