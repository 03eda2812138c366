// Recovery that falls back past damaged files, with inputs whose batches are decided by seal
// records (a file stream, a receiver's write-ahead log): every input line is counted exactly
// once, or start() refuses with rill::CheckpointError naming the file. The run is stopped after
// batch 6000's outputs and before its checkpoint (its checkpoint file removed), then damaged,
// then restarted to 8000.
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <string>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr int kLinesPerBatch = 5;

/// A receiver the test feeds by hand: store() returns once the block is in the write-ahead log.
class HandFedLines final : public rill::Receiver<std::string> {
 public:
  void on_start() override {}
  void on_stop() override {}
};

/// What the outputs saw: the count of every line, as update_state_by_key holds it after the
/// newest batch written.
struct Counts {
  std::mutex mutex;
  rill::Time newest{0};
  std::map<std::string, int> counts;
};

enum class Input { file, receiver };

struct Process {
  std::shared_ptr<rill::ManualClock> clock = rill::ManualClock::create();
  std::shared_ptr<HandFedLines> receiver = std::make_shared<HandFedLines>();
  std::unique_ptr<rill::StreamingContext> ctx;
};

class Fallback : public ::testing::TestWithParam<Input> {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            fmt::format("rill-fallback-{}-{}", ::getpid(), std::random_device{}());
    fs::create_directories(root_ / "in");
  }
  void TearDown() override { fs::remove_all(root_); }

  [[nodiscard]] fs::path ckpt() const { return root_ / "ckpt"; }
  [[nodiscard]] fs::path file(const std::string& stem) const { return ckpt() / (stem + ".rill"); }

  /// The counting pipeline on the test's directory: a running count per line.
  void open(Process& run) {
    run.ctx = rill::StreamingContext::get_or_create(ckpt(), [&] {
      auto ctx =
          std::make_unique<rill::StreamingContext>(rill::Config{}
                                                       .batch_interval(1s)
                                                       .parallelism(2)
                                                       .clock(run.clock)
                                                       .delivery(rill::Delivery::exactly_once)
                                                       .checkpoint_snapshot_interval(4));
      auto lines = GetParam() == Input::file ? ctx->text_file_stream(root_ / "in")
                                             : ctx->receiver_stream<std::string>(run.receiver);
      lines.name("lines")
          .map([](const std::string& l) {
            return std::pair<std::string, int>{l, 1};
          })
          .update_state_by_key(
              [](const std::vector<int>& ones, std::optional<int> n) -> std::optional<int> {
                return n.value_or(0) + static_cast<int>(ones.size());
              })
          .name("counts")
          .foreach_batch(
              [out = out_](const rill::Batch<std::pair<std::string, int>>& b, rill::Time t) {
                std::lock_guard lock(out->mutex);
                if (t < out->newest) return;
                out->newest = t;
                out->counts.clear();
                for (const auto& [line, n] : b)
                  out->counts[line] = n;
              },
              rill::idempotent);
      return ctx;
    });
  }

  /// Feeds batch `t`'s five lines (a file, or a stored block), then runs batch t. Starts the
  /// context first (a file present at start() is not new, and a receiver stores once started).
  void feed_and_run(Process& run, int batch) {
    if (run.ctx->state() == rill::ContextState::initialized) run.ctx->start();
    std::vector<std::string> lines;
    for (int i = 0; i < kLinesPerBatch; ++i)
      lines.push_back(fmt::format("b{}-{}", batch, i));
    if (GetParam() == Input::file) {
      std::ofstream out(root_ / "in" / fmt::format("in-{}.txt", batch));
      for (const auto& l : lines)
        out << l << '\n';
    } else {
      run.receiver->store(std::move(lines));
    }
    rill::testing::run_until(*run.ctx, *run.clock, rill::Time{batch * 1000});
    fed_ += kLinesPerBatch;
  }

  /// Batches 1000..6000, then a stop as if the process died after batch 6000's outputs and
  /// before its checkpoint.
  void first_run() {
    Process run;
    open(run);
    for (int b = 1; b <= 6; ++b)
      feed_and_run(run, b);
    run.ctx->stop(rill::StopOptions{.graceful = false});
    ASSERT_TRUE(fs::exists(file("delta-6000")));
    fs::remove(file("delta-6000"));
  }

  /// Restarts and runs batches 7000 and 8000; every line fed must be counted once.
  void second_run_counts_each_line_once() {
    Process run;
    open(run);
    feed_and_run(run, 7);
    feed_and_run(run, 8);
    run.ctx->stop();
    std::lock_guard lock(out_->mutex);
    EXPECT_EQ(out_->newest, rill::Time{8000});
    EXPECT_EQ(static_cast<int>(out_->counts.size()), fed_);
    for (const auto& [line, n] : out_->counts)
      EXPECT_EQ(n, 1) << line;
  }

  /// Restarting must fail with a CheckpointError whose message names `named`.
  void second_run_refuses(const fs::path& named) {
    Process run;
    open(run);
    try {
      rill::testing::run_until(*run.ctx, *run.clock, rill::Time{7000});
      FAIL() << "expected rill::CheckpointError";
    } catch (const rill::CheckpointError& e) {
      EXPECT_NE(std::string(e.what()).find(named.string()), std::string::npos) << e.what();
    }
    EXPECT_EQ(run.ctx->state(), rill::ContextState::stopped);
  }

  static void flip_middle_byte(const fs::path& path) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(path) / 2));
    const char c = static_cast<char>(f.peek());
    f.seekp(static_cast<std::streamoff>(fs::file_size(path) / 2));
    f.put(static_cast<char>(c ^ 0x5a));
  }

  fs::path root_;
  std::shared_ptr<Counts> out_ = std::make_shared<Counts>();
  int fed_ = 0;
};

}  // namespace

// The case: batch 6000's checkpoint lost by the kill, batch 5000's deleted or damaged.
// Recovery restores 4000 (a snapshot: interval 4) and runs 5000 and 6000 again from their
// records; none is sealed afresh.
TEST_P(Fallback, ALostCheckpointBeforeTheLastFallsBackAndReplaysEveryLaterBatch) {
  for (const std::string how : {"delete", "flip", "truncate"}) {
    SCOPED_TRACE(how);
    first_run();
    if (how == "delete") fs::remove(file("delta-5000"));
    if (how == "flip") flip_middle_byte(file("delta-5000"));
    if (how == "truncate") fs::resize_file(file("delta-5000"), 12);
    ASSERT_TRUE(fs::exists(file("sealed-5000")));
    ASSERT_TRUE(fs::exists(file("sealed-6000")));
    second_run_counts_each_line_once();
    TearDown();
    SetUp();
    out_ = std::make_shared<Counts>();
    fed_ = 0;
  }
}

// Falling back further, to the checkpoint of 1000 ms: the records of every batch since stay.
TEST_P(Fallback, EveryRetainedCheckpointCanBeFallenBackTo) {
  first_run();
  for (const std::string stem : {"delta-5000", "snapshot-4000", "delta-3000", "delta-2000"})
    fs::remove(file(stem));
  second_run_counts_each_line_once();
}

// A seal record before the last one missing or damaged: sealing its batch afresh would take the
// lines a later record names, so recovery refuses, naming the file.
TEST_P(Fallback, ADamagedSealRecordBeforeTheLastIsRefusedNamingIt) {
  for (const std::string how : {"delete", "flip", "truncate", "copy of the next"}) {
    SCOPED_TRACE(how);
    first_run();
    fs::remove(file("delta-5000"));  // restores 4000: seals 5000 and 6000 outstanding
    const fs::path seal = file("sealed-5000");
    if (how == "delete") fs::remove(seal);
    if (how == "flip") flip_middle_byte(seal);
    if (how == "truncate") fs::resize_file(seal, 12);
    if (how == "copy of the next")
      fs::copy_file(file("sealed-6000"), seal, fs::copy_options::overwrite_existing);
    second_run_refuses(seal);
    TearDown();
    SetUp();
    out_ = std::make_shared<Counts>();
    fed_ = 0;
  }
}

// The last seal record missing, damaged or a copy of the batch before under its name (the
// process may have died while writing it), or every record after the restored checkpoint
// damaged: those batches are sealed afresh, and take their lines once.
TEST_P(Fallback, ADamagedLastSealRecordSealsItsBatchAfresh) {
  for (const std::string how : {"delete", "flip", "copy of the previous", "all flipped"}) {
    for (const bool fall_back : {false, true}) {
      SCOPED_TRACE(how + (fall_back ? ", restoring 4000" : ", restoring 5000"));
      first_run();
      if (fall_back) fs::remove(file("delta-5000"));
      const fs::path seal = file("sealed-6000");
      if (how == "delete") fs::remove(seal);
      if (how == "flip") flip_middle_byte(seal);
      if (how == "all flipped") {
        for (const char* stem : {"sealed-5000", "sealed-6000"})
          flip_middle_byte(file(stem));
      }
      if (how == "copy of the previous")
        fs::copy_file(file("sealed-5000"), seal, fs::copy_options::overwrite_existing);
      second_run_counts_each_line_once();
      TearDown();
      SetUp();
      out_ = std::make_shared<Counts>();
      fed_ = 0;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Inputs, Fallback, ::testing::Values(Input::file, Input::receiver),
                         [](const auto& info) {
                           return info.param == Input::file ? std::string("text_file_stream")
                                                            : std::string("receiver_stream");
                         });
