// Checkpoints and recovery inside one process: a context stopped after some batches and built
// again with get_or_create() must write exactly what an uninterrupted run writes.
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

#include <spdlog/sinks/ostream_sink.h>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

#include "support/log_capture.hpp"

#include "checkpoint/pipeline.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr int kRecoveryBatches = 12;
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
    auto ctx = rill::StreamingContext::get_or_create(root_ / "ref-ckpt", [&] {
      return pipeline(root_ / "ref-out", clock, {}, kRecoveryBatches);
    });
    rill::testing::run_until(*ctx, *clock, rill::Time{kRecoveryBatches * 1000});
    ctx->stop();
    reference_ = read_dir(root_ / "ref-out");
  }
  void TearDown() override { fs::remove_all(root_); }

  /// Runs the pipeline on the test's checkpoint directory up to batch `until`.
  void run(std::int64_t until, Options options = {}) {
    auto clock = rill::ManualClock::create();
    auto ctx = rill::StreamingContext::get_or_create(
        root_ / "ckpt", [&] { return pipeline(root_ / "out", clock, options, kRecoveryBatches); });
    rill::testing::run_until(*ctx, *clock, rill::Time{until * 1000});
    ctx->stop(rill::StopOptions{.graceful = false});
  }

  /// The checkpoint files (snapshot-<t>.rill, delta-<t>.rill), oldest first.
  std::vector<fs::path> checkpoints() const {
    std::vector<std::pair<long, fs::path>> found;
    for (const auto& e : fs::directory_iterator(root_ / "ckpt")) {
      const std::string stem = e.path().stem().string();
      if (stem.starts_with("snapshot-") || stem.starts_with("delta-"))
        found.emplace_back(std::stol(stem.substr(stem.find('-') + 1)), e.path());
    }
    std::sort(found.begin(), found.end());
    std::vector<fs::path> out;
    for (auto& [t, path] : found)
      out.push_back(std::move(path));
    return out;
  }
  fs::path checkpoint_file(const std::string& kind, long batch_ms) const {
    return root_ / "ckpt" / fmt::format("{}-{}.rill", kind, batch_ms);
  }

  fs::path root_;
  std::map<std::string, std::string> reference_;
};

}  // namespace

TEST_F(Recovery, ReferenceRunWroteEveryBatch) {
  EXPECT_EQ(reference_.size(),
            7u * kRecoveryBatches);  // four DStream outputs, three event-time ones
  // Batches 2000 and 3000 hold "b a", then "c a" and "d c".
  EXPECT_EQ(reference_.at("totals-3000"), "(a,2)\n(b,1)\n(c,2)\n(d,1)\n");
  EXPECT_EQ(reference_.at("window_count-3000"), "6\n");
}

TEST_F(Recovery, RestartContinuesWhereItStopped) {
  run(5);
  run(kRecoveryBatches);
  EXPECT_EQ(read_dir(root_ / "out"), reference_);
}

TEST_F(Recovery, SeveralRestartsAndKeepsTenCheckpoints) {
  for (int until : {2, 3, 7, 9, kRecoveryBatches})
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
  run(kRecoveryBatches);
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
  run(kRecoveryBatches);
  EXPECT_EQ(read_dir(root_ / "out"), reference_);
}

TEST_F(Recovery, RestartsGiveTheSameOutputsWhateverTheSnapshotInterval) {
  // 1: snapshots only; 4: chains of 3 deltas; 100: one snapshot per run, deltas after it.
  for (std::size_t interval : {1u, 4u, 100u}) {
    SCOPED_TRACE(interval);
    fs::remove_all(root_ / "ckpt");
    fs::remove_all(root_ / "out");
    fs::create_directories(root_ / "out");
    Options options;
    options.snapshot_interval = interval;
    for (int until : {3, 5, 6, 10, kRecoveryBatches})
      run(until, options);
    EXPECT_EQ(read_dir(root_ / "out"), reference_);
  }
}

TEST_F(Recovery, WritesSnapshotsEveryIntervalAndDeltasBetween) {
  run(kRecoveryBatches);  // interval 4: snapshots at 0, 4, 8 and 12 s
  std::vector<std::string> names;
  for (const auto& f : checkpoints())
    names.push_back(f.stem().string());
  const std::vector<std::string> expected = {
      "snapshot-0",  "delta-1000",  "delta-2000",    "delta-3000",    "snapshot-4000",
      "delta-5000",  "delta-6000",  "delta-7000",    "snapshot-8000", "delta-9000",
      "delta-10000", "delta-11000", "snapshot-12000"};
  // The newest 10 stay restorable: 3000 needs the chain from 0.
  EXPECT_EQ(names, expected);
}

TEST_F(Recovery, KeepsOnlyTheFilesTheRetainedCheckpointsNeedAndTheOldestStillRestores) {
  Options options;
  options.retained = 3;
  run(kRecoveryBatches, options);
  // The newest 3 are 10, 11 and 12 s; 10 s is a delta over 9 s over the snapshot at 8 s.
  ASSERT_EQ(checkpoints().size(), 5u);
  EXPECT_EQ(checkpoints().front(), checkpoint_file("snapshot", 8000));
  // Without the two newest, the oldest retained one is restored through its chain, and the
  // batches after it run again with the same outputs.
  fs::remove(checkpoint_file("snapshot", 12000));
  fs::remove(checkpoint_file("delta", 11000));
  fs::remove_all(root_ / "out");
  fs::create_directories(root_ / "out");
  run(kRecoveryBatches, options);
  auto got = read_dir(root_ / "out");
  std::map<std::string, std::string> want;
  for (const auto& [name, text] : reference_) {
    if (std::stol(name.substr(name.rfind('-') + 1)) > 10000) want.emplace(name, text);
  }
  EXPECT_EQ(got, want);
}

using rill_test::LogCapture;

TEST_F(Recovery, ADamagedSnapshotOrDeltaFallsBackToTheNewestIntactChain) {
  struct Case {
    std::string file;  // damaged
    std::string how;   // flip, truncate, delete
    long restored_ms;  // the checkpoint recovery must restore
  };
  // After 6 batches with interval 4: snapshot-0, delta-1000..3000, snapshot-4000, delta-5000,
  // delta-6000.
  const std::vector<Case> cases = {
      {"delta-6000", "flip", 5000},      {"delta-6000", "truncate", 5000},
      {"delta-6000", "delete", 5000},    {"delta-5000", "flip", 4000},
      {"delta-5000", "truncate", 4000},  {"delta-5000", "delete", 4000},
      {"snapshot-4000", "flip", 3000},   {"snapshot-4000", "truncate", 3000},
      {"snapshot-4000", "delete", 3000}, {"delta-2000", "flip", 6000},
      {"snapshot-0", "delete", 6000},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file + " " + c.how);
    fs::remove_all(root_ / "ckpt");
    fs::remove_all(root_ / "out");
    fs::create_directories(root_ / "out");
    run(6);
    const fs::path file = root_ / "ckpt" / (c.file + ".rill");
    ASSERT_TRUE(fs::exists(file));
    if (c.how == "flip") {
      std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(static_cast<std::streamoff>(fs::file_size(file) / 2));
      f.put('\x5a');
    } else if (c.how == "truncate") {
      fs::resize_file(file, fs::file_size(file) / 2);
    } else {
      fs::remove(file);
    }
    std::string log;
    {
      LogCapture capture;
      run(kRecoveryBatches);
      log = capture.text();
    }
    EXPECT_NE(log.find(fmt::format("restored batch {} ms", c.restored_ms)), std::string::npos)
        << log;
    EXPECT_EQ(read_dir(root_ / "out"), reference_);
  }
}

TEST_F(Recovery, NoValidCheckpointIsAClearErrorUnlessStartingFresh) {
  run(3);
  for (const auto& f : checkpoints())
    fs::resize_file(f, 5);
  auto clock = rill::ManualClock::create();
  try {
    auto ctx = rill::StreamingContext::get_or_create(
        root_ / "ckpt", [&] { return pipeline(root_ / "out", clock, {}, kRecoveryBatches); });
    ctx->start();
    FAIL() << "expected rill::CheckpointError";
  } catch (const rill::CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find((root_ / "ckpt").string()), std::string::npos) << e.what();
  }
  auto fresh = rill::StreamingContext::get_or_create(
      root_ / "ckpt", [&] { return pipeline(root_ / "out2", clock, {}, kRecoveryBatches); }, true);
  fs::create_directories(root_ / "out2");
  EXPECT_NO_THROW(rill::testing::run_until(*fresh, *clock, rill::Time{1000}));
}

TEST_F(Recovery, AChangedPipelineIsRefusedNamingTheOperator) {
  run(3);
  auto clock = rill::ManualClock::create();
  for (const Options& changed : {Options{"renamed", false}, Options{"totals", true}}) {
    auto ctx = rill::StreamingContext::get_or_create(
        root_ / "ckpt", [&] { return pipeline(root_ / "out", clock, changed, kRecoveryBatches); });
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
      root_ / "ckpt", [&] { return pipeline(root_ / "out", clock, {}, kRecoveryBatches); });
  rill::testing::run_until(*first, *clock, rill::Time{1000});
  auto second = rill::StreamingContext::get_or_create(
      root_ / "ckpt", [&] { return pipeline(root_ / "out", clock, {}, kRecoveryBatches); });
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

TEST_F(Recovery, AGracefulStopRightAfterARestartRunsTheBlocksNoBatchTook) {
  // A reliable receiver that finds its whole input stored already may be stopped before the
  // restarted context seals anything: the stop must still run what the log holds and no batch
  // took (the crash test lost its last blocks this way).
  auto out = std::make_shared<Collected>();
  {
    auto clock = rill::ManualClock::create();
    auto receiver = std::make_shared<HandFed>();
    auto ctx = rill::StreamingContext::get_or_create(
        root_ / "ckpt", [&] { return receiving(clock, receiver, out); });
    rill::testing::run_until(*ctx, *clock, rill::Time{1000});
    receiver->store(std::vector<int>{1, 2, 3});
    receiver->store(std::vector<int>{4});
    ctx->stop(rill::StopOptions{.graceful = false});
  }
  {
    auto clock = rill::ManualClock::create();
    auto receiver = std::make_shared<HandFed>();
    auto ctx = rill::StreamingContext::get_or_create(
        root_ / "ckpt", [&] { return receiving(clock, receiver, out); });
    ctx->start();
    ctx->stop();  // graceful, before any tick
  }
  std::vector<int> all;
  std::lock_guard lock(out->mutex);
  for (const auto& [t, records] : out->batches)
    all.insert(all.end(), records.begin(), records.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<int>{1, 2, 3, 4}));
}

TEST_F(Recovery, ADamagedWriteAheadLogIsDetected) {
  // Batch 2000 took block {5, 6}; {7} is stored after it, and no batch takes it. A damaged
  // last frame that no batch took looks like a crash inside its append: the block is dropped
  // with a warning (a reliable receiver's recovered_position() is then the block before, so its
  // source sends it again). Losing a block a checkpoint counted is an error naming the receiver:
  // where its source stands is unknown.
  struct Case {
    std::string how;
    bool store_after;  // store {7} after batch 2000
    bool error;
  };
  for (const Case& c :
       {Case{"flip", true, false}, Case{"truncate", true, false}, Case{"flip", false, true},
        Case{"truncate", false, true}, Case{"delete", true, true}}) {
    SCOPED_TRACE(c.how + (c.store_after ? " after" : ""));
    fs::remove_all(root_ / "ckpt");
    auto out = std::make_shared<Collected>();
    {
      auto clock = rill::ManualClock::create();
      auto receiver = std::make_shared<HandFed>();
      auto ctx = rill::StreamingContext::get_or_create(
          root_ / "ckpt", [&] { return receiving(clock, receiver, out); });
      rill::testing::run_until(*ctx, *clock, rill::Time{1000});
      receiver->store(std::vector<int>{5, 6});
      rill::testing::run_until(*ctx, *clock, rill::Time{2000});
      if (c.store_after) receiver->store(std::vector<int>{7});
      ctx->stop(rill::StopOptions{.graceful = false});
    }
    std::vector<fs::path> segments;
    for (const auto& e : fs::recursive_directory_iterator(root_ / "ckpt" / "wal")) {
      if (e.path().extension() == ".wal") segments.push_back(e.path());
    }
    ASSERT_EQ(segments.size(), 1u);
    const fs::path& segment = segments.front();
    if (c.how == "flip") {
      std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(static_cast<std::streamoff>(fs::file_size(segment)) - 2);
      f.put('\x5a');
    } else if (c.how == "truncate") {
      fs::resize_file(segment, fs::file_size(segment) - 3);
    } else {
      fs::remove(segment);
    }
    auto clock = rill::ManualClock::create();
    auto receiver = std::make_shared<HandFed>();
    auto ctx = rill::StreamingContext::get_or_create(
        root_ / "ckpt", [&] { return receiving(clock, receiver, out); });
    if (c.error) {
      try {
        rill::testing::run_until(*ctx, *clock, rill::Time{3000});
        FAIL() << "expected rill::CheckpointError";
      } catch (const rill::CheckpointError& e) {
        EXPECT_NE(std::string(e.what()).find("hand_fed"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("write-ahead log"), std::string::npos) << e.what();
      }
      EXPECT_EQ(ctx->state(), rill::ContextState::stopped);
    } else {
      rill::testing::run_until(*ctx, *clock, rill::Time{3000});
      ctx->stop();
      std::lock_guard lock(out->mutex);
      EXPECT_EQ(out->batches.at(rill::Time{2000}), (std::vector<int>{5, 6}));
      EXPECT_EQ(out->batches.at(rill::Time{3000}), std::vector<int>{});
    }
  }
}

namespace {
/// A receiver the test feeds by hand, one record per block at position "<record>", which can
/// send again what followed its recovered position, as a reliable source's sender would.
class Resending final : public rill::Receiver<int> {
 public:
  void on_start() override {}
  void on_stop() override {}
  void put(int record) { store(std::vector<int>{record}, std::to_string(record)); }
  /// After a restart: the records after the last durable block, up to `last`, again.
  void resend(int last) {
    const auto position = recovered_position();
    for (int r = position ? std::stoi(*position) + 1 : 1; r <= last; ++r)
      put(r);
  }
};

/// receiving() with a Resending receiver whose output throws at batch `fail_at`.
std::unique_ptr<rill::StreamingContext> resending(std::shared_ptr<rill::ManualClock> clock,
                                                  std::shared_ptr<Resending> receiver,
                                                  std::shared_ptr<Collected> out,
                                                  std::optional<rill::Time> fail_at) {
  auto ctx = std::make_unique<rill::StreamingContext>(
      rill::Config{}.batch_interval(1s).parallelism(2).clock(clock).delivery(
          rill::Delivery::exactly_once));
  ctx->receiver_stream<int>(receiver)
      .name("hand_fed")
      .foreach_batch(
          [out, fail_at](const rill::Batch<int>& b, rill::Time t) {
            if (fail_at && t == *fail_at) throw std::runtime_error("the process dies here");
            std::lock_guard lock(out->mutex);
            out->batches[t] = b.collect();
          },
          rill::idempotent);
  return ctx;
}

/// The frame at `index` of a segment of equal frames.
std::pair<std::size_t, std::size_t> frame_span(const fs::path& segment, std::size_t frames,
                                               std::size_t index) {
  const std::size_t header = 24;
  const std::size_t frame = (fs::file_size(segment) - header) / frames;
  return {header + index * frame, frame};
}
void overwrite_at(const fs::path& path, std::size_t offset, const std::string& bytes) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
}  // namespace

TEST_F(Recovery, EveryDamageToTheWriteAheadLogIsRecoveredExactlyOrRefused) {
  // The log of receiver hand_fed holds records 1..5, one block each, in three segments, one per
  // run that stored: log-0.wal (blocks 0, 1), log-2.wal (block 2), log-3.wal (blocks 3, 4).
  // Either no batch took them yet, or batch 2000 was sealed with all five and the process died
  // before its checkpoint (its output threw). Then the log is damaged, and a restart that sends
  // again what followed the recovered position must either count every record exactly once, or
  // refuse with rill::CheckpointError naming the damaged file (the log's directory when a whole
  // newest segment is gone). Only a torn append (the newest segment's last frame, or its only
  // bytes) can be dropped, and only when no batch took it.
  enum class Outcome { exact, refused };
  struct Damage {
    std::string what;
    std::function<void(const fs::path& wal)> apply;
    Outcome not_taken;
    Outcome sealed;
    std::string named;  // in the refusal's message
    /// A second restart after a refused one, when the block taken was the newest segment's.
    std::optional<Outcome> sealed_again = std::nullopt;
  };
  const auto zero_last_frame = [](const fs::path& wal) {
    const auto [at, size] = frame_span(wal / "log-3.wal", 2, 1);
    overwrite_at(wal / "log-3.wal", at, std::string(size, '\0'));
  };
  const std::vector<Damage> damages = {
      {"zero-filled newest segment",
       [](const fs::path& wal) {
         const auto size = fs::file_size(wal / "log-3.wal");
         overwrite_at(wal / "log-3.wal", 0, std::string(size, '\0'));
       },
       Outcome::exact, Outcome::refused, "log-3.wal"},
      {"zero-filled older segment",
       [](const fs::path& wal) {
         const auto size = fs::file_size(wal / "log-0.wal");
         overwrite_at(wal / "log-0.wal", 0, std::string(size, '\0'));
       },
       Outcome::refused, Outcome::refused, "log-0.wal"},
      {"zero-filled tail", zero_last_frame, Outcome::exact, Outcome::refused, "log-3.wal"},
      {"truncated last frame",
       [](const fs::path& wal) {
         fs::resize_file(wal / "log-3.wal", fs::file_size(wal / "log-3.wal") - 5);
       },
       Outcome::exact, Outcome::refused, "log-3.wal"},
      {"truncated older segment",
       [](const fs::path& wal) {
         fs::resize_file(wal / "log-2.wal", fs::file_size(wal / "log-2.wal") - 5);
       },
       Outcome::refused, Outcome::refused, "log-2.wal"},
      {"older segment cut at a frame boundary",
       [](const fs::path& wal) {
         fs::resize_file(wal / "log-0.wal", frame_span(wal / "log-0.wal", 2, 1).first);
       },
       Outcome::refused, Outcome::refused, "log-0.wal"},
      {"flipped payload byte in the last frame",
       [](const fs::path& wal) {
         const auto [at, size] = frame_span(wal / "log-3.wal", 2, 1);
         overwrite_at(wal / "log-3.wal", at + size - 1, "\x5a");
       },
       Outcome::exact, Outcome::refused, "log-3.wal"},
      {"flipped payload byte in a frame before the last",
       [](const fs::path& wal) {
         const auto [at, size] = frame_span(wal / "log-3.wal", 2, 0);
         overwrite_at(wal / "log-3.wal", at + size - 1, "\x5a");
       },
       Outcome::refused, Outcome::refused, "log-3.wal"},
      {"flipped sequence in the last frame",
       [](const fs::path& wal) {
         overwrite_at(wal / "log-3.wal", frame_span(wal / "log-3.wal", 2, 1).first + 8, "\x07");
       },
       Outcome::exact, Outcome::refused, "log-3.wal"},
      {"flipped length in an older segment's last frame",
       [](const fs::path& wal) {
         overwrite_at(wal / "log-0.wal", frame_span(wal / "log-0.wal", 2, 1).first + 4, "\x07");
       },
       Outcome::refused, Outcome::refused, "log-0.wal"},
      {"flipped segment header",
       [](const fs::path& wal) { overwrite_at(wal / "log-2.wal", 9, "\x01"); }, Outcome::refused,
       Outcome::refused, "log-2.wal"},
      {"a frame copied from another position",
       [](const fs::path& wal) {
         const std::string bytes = slurp(wal / "log-3.wal");
         const auto [at, size] = frame_span(wal / "log-3.wal", 2, 0);
         std::ofstream(wal / "log-3.wal", std::ios::binary | std::ios::app)
             << bytes.substr(at, size);
       },
       Outcome::refused, Outcome::refused, "log-3.wal"},
      {"the last frame replaced by an earlier one",
       [](const fs::path& wal) {
         const std::string bytes = slurp(wal / "log-3.wal");
         const auto [first, size] = frame_span(wal / "log-3.wal", 2, 0);
         overwrite_at(wal / "log-3.wal", first + size, bytes.substr(first, size));
       },
       Outcome::refused, Outcome::refused, "log-3.wal"},
      {"a segment renamed to another sequence",
       [](const fs::path& wal) { fs::rename(wal / "log-2.wal", wal / "log-9.wal"); },
       Outcome::refused, Outcome::refused, "log-9.wal"},
      {"a segment deleted in the middle",
       [](const fs::path& wal) { fs::remove(wal / "log-2.wal"); }, Outcome::refused,
       Outcome::refused, "log-0.wal"},
      {"the newest segment deleted", [](const fs::path& wal) { fs::remove(wal / "log-3.wal"); },
       // The first restart's receiver logged blocks 3 and 4 again before the replay refused: the
       // numbers batch 2000 took now hold what followed block 2, which is what it took.
       Outcome::exact, Outcome::refused, (fs::path("wal") / "hand_fed").string(), Outcome::exact},
  };
  const fs::path ckpt = root_ / "ckpt";
  const fs::path wal = ckpt / "wal" / "hand_fed";
  for (const Damage& damage : damages) {
    for (const bool sealed : {false, true}) {
      SCOPED_TRACE(damage.what + (sealed ? ", taken by the seal of batch 2000" : ", not taken"));
      fs::remove_all(ckpt);
      auto out = std::make_shared<Collected>();
      const auto run = [&](std::optional<rill::Time> fail_at, auto&& body) {
        auto clock = rill::ManualClock::create();
        auto receiver = std::make_shared<Resending>();
        auto ctx = rill::StreamingContext::get_or_create(
            ckpt, [&] { return resending(clock, receiver, out, fail_at); });
        body(*ctx, *clock, *receiver);
        ctx->stop(rill::StopOptions{.graceful = false});
      };
      run(std::nullopt, [](auto& ctx, auto& clock, Resending& r) {
        rill::testing::run_until(ctx, clock, rill::Time{1000});
        r.put(1);
        r.put(2);
      });
      run(std::nullopt, [](auto& ctx, auto&, Resending& r) {
        ctx.start();
        r.put(3);
      });
      run(std::nullopt, [](auto& ctx, auto&, Resending& r) {
        ctx.start();
        r.put(4);
        r.put(5);
      });
      if (sealed) {
        run(rill::Time{2000}, [](auto& ctx, auto& clock, Resending&) {
          EXPECT_THROW(rill::testing::run_until(ctx, clock, rill::Time{2000}), std::runtime_error);
        });
        ASSERT_TRUE(fs::exists(ckpt / "sealed-2000.rill"));
      }
      std::vector<std::string> names;
      for (const auto& e : fs::directory_iterator(wal))
        names.push_back(e.path().filename().string());
      std::sort(names.begin(), names.end());
      ASSERT_EQ(names, (std::vector<std::string>{"log-0.wal", "log-2.wal", "log-3.wal"}));
      damage.apply(wal);

      // Twice: a refusal stays a refusal (but see sealed_again), an exact recovery stays exact.
      for (int attempt = 0; attempt < 2; ++attempt) {
        SCOPED_TRACE(attempt == 0 ? "first restart" : "second restart");
        const Outcome expected = !sealed                               ? damage.not_taken
                                 : attempt == 1 && damage.sealed_again ? *damage.sealed_again
                                                                       : damage.sealed;
        std::optional<std::string> refusal;
        try {
          run(std::nullopt, [](auto& ctx, auto& clock, Resending& r) {
            ctx.start();
            r.resend(5);
            rill::testing::run_until(ctx, clock, rill::Time{3000});
          });
        } catch (const rill::CheckpointError& e) {
          refusal = e.what();
        }
        if (expected == Outcome::refused) {
          ASSERT_TRUE(refusal.has_value()) << "expected rill::CheckpointError";
          EXPECT_NE(refusal->find(damage.named), std::string::npos) << *refusal;
          EXPECT_NE(refusal->find("hand_fed"), std::string::npos) << *refusal;
          continue;
        }
        ASSERT_FALSE(refusal.has_value()) << *refusal;
        std::vector<int> all;
        std::lock_guard lock(out->mutex);
        for (const auto& [t, records] : out->batches)
          all.insert(all.end(), records.begin(), records.end());
        std::sort(all.begin(), all.end());
        EXPECT_EQ(all, (std::vector<int>{1, 2, 3, 4, 5}));
      }
    }
  }
}

TEST_F(Recovery, ADamagedWriteAheadLogFailsAFreshStart) {
  // Without a checkpoint to restore, a log that cannot be opened fails start(), and the
  // receiver never starts on it.
  auto out = std::make_shared<Collected>();
  {
    auto clock = rill::ManualClock::create();
    auto receiver = std::make_shared<HandFed>();
    auto ctx = rill::StreamingContext::get_or_create(
        root_ / "ckpt", [&] { return receiving(clock, receiver, out); });
    rill::testing::run_until(*ctx, *clock, rill::Time{1000});
    receiver->store(std::vector<int>{1, 2});
    ctx->stop(rill::StopOptions{.graceful = false});
  }
  for (const auto& e : fs::directory_iterator(root_ / "ckpt")) {
    if (e.path().extension() == ".rill") fs::remove(e.path());
  }
  const fs::path wal = root_ / "ckpt" / "wal" / "hand_fed";
  fs::rename(wal / "log-0.wal", wal / "log-4.wal");
  auto clock = rill::ManualClock::create();
  auto receiver = std::make_shared<HandFed>();
  auto ctx = rill::StreamingContext::get_or_create(root_ / "ckpt",
                                                   [&] { return receiving(clock, receiver, out); });
  try {
    rill::testing::run_until(*ctx, *clock, rill::Time{1000});
    FAIL() << "expected rill::CheckpointError";
  } catch (const rill::CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find((wal / "log-4.wal").string()), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(ctx->state(), rill::ContextState::stopped);
  EXPECT_THROW(receiver->store(std::vector<int>{3}), rill::Error);
}

TEST_F(Recovery, ADirectoryOfAnOlderFormatIsRefusedNotIgnored) {
  fs::create_directories(root_ / "ckpt");
  std::ofstream(root_ / "ckpt" / "checkpoint-3000.rill") << "RILL, format version 1";
  auto clock = rill::ManualClock::create();
  auto ctx = rill::StreamingContext::get_or_create(
      root_ / "ckpt", [&] { return pipeline(root_ / "out", clock, {}, kRecoveryBatches); });
  EXPECT_THROW(ctx->start(), rill::CheckpointError);
}

TEST(MapWithStateRecovery, InitialKeysTimeOutAsInAnUninterruptedRun) {
  // An initial key is stamped with map_with_state's first batch time (Spark); the stamp, or the
  // fact that the first batch has not run yet, survives a restart. Timeout 2 s, 1 s batches.
  struct Row {
    std::string name;
    std::chrono::seconds slide;  // of map_with_state's parent
    std::int64_t stop_ms;        // the first run stops after this batch
    std::int64_t timeout_ms;     // when the initial key times out
  };
  const std::vector<Row> rows = {
      {"stamped 1000 before the stop", 1s, 1000, 4000},
      {"stamped 1000, stopped later", 1s, 2000, 4000},
      {"windowed: stopped before the first batch (2000) ran", 2s, 1000, 6000},
      {"windowed: stamped 2000 before the stop", 2s, 2000, 6000},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    const auto dir = fs::temp_directory_path() /
                     fmt::format("rill-initial-timeout-{}-{}", ::getpid(), std::random_device{}());
    auto sink = std::make_shared<std::map<std::int64_t, std::vector<std::string>>>();
    auto run = [&](std::int64_t until_ms) {
      auto clock = rill::ManualClock::create();
      auto ctx = rill::StreamingContext::get_or_create(dir, [&] {
        auto c = std::make_unique<rill::StreamingContext>(
            rill::Config{}.batch_interval(1s).parallelism(2).worker_threads(2).clock(clock));
        auto spec = rill::state_spec<std::string, int, int>(
                        [](const std::string& k, std::optional<int>, rill::State<int>& st) {
                          return fmt::format("{} timed out with {}", k, st.get());
                        })
                        .timeout(2s)
                        .initial_state({{"i", 5}});
        c->queue_stream<std::pair<std::string, int>>({})
            .window(row.slide, row.slide)
            .map_with_state(spec)
            .name("sessions")
            .foreach_batch([sink](const rill::Batch<std::string>& b, rill::Time t) {
              (*sink)[t.milliseconds()] = b.collect();
            });
        return c;
      });
      rill::testing::run_until(*ctx, *clock, rill::Time{until_ms});
      ctx->stop(rill::StopOptions{.graceful = false});
    };
    run(row.stop_ms);
    // The second run restores the checkpoint of the batch the first one stopped after.
    EXPECT_TRUE(fs::exists(dir / fmt::format("delta-{}.rill", row.stop_ms)) ||
                fs::exists(dir / fmt::format("snapshot-{}.rill", row.stop_ms)));
    run(8000);
    fs::remove_all(dir);
    std::map<std::int64_t, std::vector<std::string>> expected;
    for (std::int64_t t = row.slide.count() * 1000; t <= 8000; t += row.slide.count() * 1000)
      expected[t] = {};
    expected[row.timeout_ms] = {"i timed out with 5"};
    EXPECT_EQ(*sink, expected);
  }
}
