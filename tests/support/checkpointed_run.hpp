#pragma once
// A fixture for the tests that stop a pipeline and restart it from its checkpoint: a fresh
// checkpoint directory per test (removed after it), and run(), which builds the context through
// rill::StreamingContext::get_or_create on a manual clock, runs it to a batch time and stops it
// without finishing anything (a crash, without losing the test process).

#include <rill/testing.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

namespace rill_test {

class CheckpointedRun : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("rill-{}-{}-{}",
                       ::testing::UnitTest::GetInstance()->current_test_info()->test_suite_name(),
                       ::getpid(), std::random_device{}());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  /// Runs `build` (which adds the pipeline to the context it is given) up to batch time `until`
  /// (ms) with checkpoints in dir_: 1 s batches, parallelism 2 on 2 workers, a snapshot every
  /// `snapshot_interval` checkpoints and deltas between, 100 checkpoints retained. With a
  /// checkpoint in dir_ the context resumes from it and `build` is not called.
  template <class Build>
  void run(Build build, std::int64_t until, std::size_t snapshot_interval = 100) {
    auto clock = rill::ManualClock::create();
    auto ctx = rill::StreamingContext::get_or_create(dir_, [&] {
      auto c = std::make_unique<rill::StreamingContext>(
          rill::Config{}
              .batch_interval(std::chrono::seconds{1})
              .parallelism(2)
              .worker_threads(2)
              .clock(clock)
              .checkpoint_snapshot_interval(snapshot_interval)
              .checkpoints_retained(100));
      build(*c);
      return c;
    });
    rill::testing::run_until(*ctx, *clock, rill::Time{until});
    ctx->stop(rill::StopOptions{.graceful = false});
  }

  /// The size in bytes of operator `name`'s newest checkpoint file in dir_.
  [[nodiscard]] std::uintmax_t size_of(const std::string& name) const {
    return std::filesystem::file_size(dir_ / (name + ".rill"));
  }

  std::filesystem::path dir_;
};

}  // namespace rill_test
