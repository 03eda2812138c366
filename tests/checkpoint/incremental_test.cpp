// Incremental checkpoints: a delta holds what the batch changed, so its size follows the changed
// keys, not the whole state; restoring a snapshot plus deltas gives the uninterrupted run's state.
// The file stream's position likewise: its deltas hold the names a batch added or forgot.
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

#include "support/checkpointed_run.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr int kKeys = 20000;
constexpr int kIncrementalBatches = 8;

/// Batch b: three records on keys b % 5, 7 and 11 (out of kKeys).
std::deque<std::vector<std::pair<int, int>>> input() {
  std::deque<std::vector<std::pair<int, int>>> out;
  for (int b = 0; b < kIncrementalBatches; ++b)
    out.push_back({{b % 5, 1}, {7, b}, {11, 2}});
  return out;
}

/// A state without operator==: rill cannot tell an unchanged one from a changed one.
struct Opaque {
  long total = 0;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(total);
  }
};

class Incremental : public rill_test::CheckpointedRun {
 protected:
  /// Runs `build` up to batch `until` (counted in batches) with checkpoints in dir_.
  template <class Build>
  void run(Build build, std::int64_t until = kIncrementalBatches) {
    CheckpointedRun::run(build, until * 1000);
  }

  /// Runs `build` again from nothing, stopping and restarting after each of `stops`, and
  /// expects `sink` to end as it was after the uninterrupted run.
  template <class Build, class Sink>
  void expect_restarts_give_the_same(Build build, Sink& sink,
                                     std::initializer_list<std::int64_t> stops) {
    const auto uninterrupted = sink;
    fs::remove_all(dir_);
    sink.clear();
    for (std::int64_t until : stops)
      run(build, until);
    run(build);
    EXPECT_EQ(sink, uninterrupted);
  }

  [[nodiscard]] bool exists(const std::string& name) const {
    return fs::exists(dir_ / (name + ".rill"));
  }
};

template <class S>
std::vector<std::pair<int, S>> preloaded() {
  std::vector<std::pair<int, S>> initial;
  for (int k = 0; k < kKeys; ++k)
    initial.emplace_back(k, S{});
  return initial;
}

}  // namespace

TEST_F(Incremental, UpdateStateByKeyDeltasHoldOnlyTheKeysThatChanged) {
  auto sink = std::make_shared<std::map<rill::Time, long>>();
  auto build = [&](rill::StreamingContext& c) {
    c.queue_stream(input())
        .update_state_by_key(
            [](const std::vector<int>& xs, std::optional<long> s) -> std::optional<long> {
              long v = s.value_or(0);
              for (int x : xs)
                v += x;
              return v;
            },
            preloaded<long>())
        .name("totals")
        .foreach_batch([sink](const rill::Batch<std::pair<int, long>>& b, rill::Time t) {
          long sum = 0;
          for (const auto& [k, v] : b)
            sum += v * (k + 1);
          (*sink)[t] = sum;
        });
  };
  run(build);
  const auto snapshot = size_of("snapshot-0");
  EXPECT_GT(snapshot, 100000u);  // 20,000 keys
  for (int b = 1; b <= kIncrementalBatches; ++b) {
    SCOPED_TRACE(b);
    ASSERT_TRUE(exists(fmt::format("delta-{}", b * 1000)));
    EXPECT_LT(size_of(fmt::format("delta-{}", b * 1000)), snapshot / 100);
  }
  // Restored from the snapshot and 4 deltas, the run goes on as if it never stopped.
  expect_restarts_give_the_same(build, *sink, {4});
}

TEST_F(Incremental, AStateWithoutEqualityIsWholeInEveryDeltaSoSnapshotsTakeOver) {
  auto build = [&](rill::StreamingContext& c) {
    c.queue_stream(input())
        .update_state_by_key(
            [](const std::vector<int>& xs, std::optional<Opaque> s) -> std::optional<Opaque> {
              Opaque o = s.value_or(Opaque{});
              o.total += static_cast<long>(xs.size());
              return o;
            },
            preloaded<Opaque>())
        .name("opaque")
        .foreach_batch([](const rill::Batch<std::pair<int, Opaque>>&, rill::Time) {});
  };
  run(build);
  // Every idle key counts as changed: the first delta is as large as a snapshot, so the next
  // checkpoint is a snapshot again (restoring a longer chain would cost more than a snapshot).
  EXPECT_TRUE(exists("snapshot-0"));
  EXPECT_TRUE(exists("delta-1000"));
  EXPECT_GT(size_of("delta-1000"), size_of("snapshot-0") / 2);
  EXPECT_TRUE(exists("snapshot-2000"));
}

TEST_F(Incremental, MapWithStateDeltasHoldTheKeysWithRecordsAndTimeouts) {
  auto sink = std::make_shared<std::map<rill::Time, std::vector<std::string>>>();
  auto build = [&](rill::StreamingContext& c) {
    auto spec = rill::state_spec<int, int, int>(
                    [](const int& k, std::optional<int> v, rill::State<int>& st) {
                      if (!v) return fmt::format("{} ended at {}", k, st.get());
                      st.update(st.get_option().value_or(0) + *v);
                      return fmt::format("{} {}", k, st.get());
                    })
                    .timeout(3s)
                    .initial_state(preloaded<int>());
    c.queue_stream(input())
        .map_with_state(spec)
        .name("sessions")
        .foreach_batch([sink](const rill::Batch<std::string>& b, rill::Time t) {
          auto lines = b.collect();
          std::sort(lines.begin(), lines.end());
          (*sink)[t] = std::move(lines);
        });
  };
  run(build);
  const auto snapshot = size_of("snapshot-0");
  EXPECT_GT(snapshot, 100000u);
  // Batch 1000 starts the preloaded keys' timeouts (all of them change): map_with_state cannot
  // write a delta, and a checkpoint that is mostly whole states is written as a snapshot.
  EXPECT_TRUE(exists("snapshot-1000"));
  // The preloaded keys count as updated at the first batch (1000), as in Spark: at 5000 those
  // without records since time out (1000 < 5000 - 3 s); their removals make a large delta.
  EXPECT_GT(size_of("delta-5000"), snapshot / 10);
  for (int b : {2, 3, 4, 6, 7, 8}) {
    SCOPED_TRACE(b);
    EXPECT_LT(size_of(fmt::format("delta-{}", b * 1000)), snapshot / 100);
  }
  // 5000 has records on keys 4, 7 and 11; keys 1, 2 and 3 had records after 1000, key 0 only
  // at 1000: all keys but 1, 2, 3, 4, 7 and 11 time out then.
  ASSERT_EQ(sink->at(rill::Time{5000}).size(), 3u + kKeys - 6u);
  expect_restarts_give_the_same(build, *sink, {3, 6});
}

TEST_F(Incremental, KeyedWindowDeltasHoldTheNewPreAggregatesAndTheKeysTheyMoved) {
  // Batch 1 brings all kKeys keys; the later batches touch 3 keys each. The window (4 s) holds
  // the big batch until 4000 and drops it at 5000.
  auto big = input();
  for (int k = 0; k < kKeys; ++k)
    big.front().emplace_back(k, 1);
  auto sink = std::make_shared<std::map<rill::Time, long>>();
  auto build = [&](rill::StreamingContext& c) {
    c.queue_stream(big)
        .reduce_by_key_and_window(std::plus<int>{}, std::minus<int>{}, 4s, 1s)
        .name("recent")
        .foreach_batch([sink](const rill::Batch<std::pair<int, int>>& b, rill::Time t) {
          long sum = 0;
          for (const auto& [k, v] : b)
            sum += static_cast<long>(v) * (k + 1);
          (*sink)[t] = sum;
        });
  };
  run(build);
  // The big batch's delta (its pre-aggregate and its keys) outweighs the empty snapshot at 0,
  // so the next checkpoint is a snapshot; then the deltas are small again, but for 5000 when
  // all the big batch's keys leave the window.
  EXPECT_GT(size_of("delta-1000"), 100000u);
  const auto snapshot = size_of("snapshot-2000");
  EXPECT_GT(snapshot, 100000u);
  EXPECT_GT(size_of("delta-5000"), snapshot / 20);
  for (int b : {3, 4, 6, 7, 8}) {
    SCOPED_TRACE(b);
    EXPECT_LT(size_of(fmt::format("delta-{}", b * 1000)), snapshot / 50);
  }
  expect_restarts_give_the_same(build, *sink, {2, 5});
}

TEST_F(Incremental, AFileStreamsDeltasStaySmallAndRestartsReadEveryLineOnce) {
  // 3,000 files before the first batch, then one file a batch, and a large file read over
  // batches 5 to 7 (max_bytes_per_batch) while the context stops after 3 and 6.
  const fs::path in = dir_.string() + "-in";
  fs::create_directories(in);
  const auto add = [&](const std::string& name, const std::string& content) {
    const fs::path tmp = dir_.string() + "-" + name;
    std::ofstream(tmp, std::ios::binary) << content;
    fs::rename(tmp, in / name);
  };
  std::vector<std::string> expected;
  for (int f = 0; f < 3000; ++f) {
    add(fmt::format("e{:04}.txt", f), fmt::format("e{:04}\n", f));
    expected.push_back(fmt::format("e{:04}", f));
  }
  std::string big;
  for (int i = 0; i < 8000; ++i) {
    big += fmt::format("big-{:05}\n", i);
    expected.push_back(fmt::format("big-{:05}", i));
  }
  auto outputs = std::make_shared<std::map<std::string, int>>();
  auto run_files = [&](std::int64_t from, std::int64_t until) {
    auto clock = rill::ManualClock::create();
    auto ctx = rill::StreamingContext::get_or_create(dir_, [&] {
      auto c = std::make_unique<rill::StreamingContext>(rill::Config{}
                                                            .batch_interval(1s)
                                                            .parallelism(2)
                                                            .worker_threads(2)
                                                            .clock(clock)
                                                            .checkpoints_retained(100));
      c->text_file_stream(in, {.new_files_only = false, .max_bytes_per_batch = 32'000})
          .name("files")
          .foreach_batch([outputs](const rill::Batch<std::string>& b, rill::Time) {
            for (const auto& line : b)
              ++(*outputs)[line];
          });
      return c;
    });
    for (std::int64_t b = from; b <= until; ++b) {
      add(fmt::format("b{:02}.txt", b), fmt::format("b{:02}\n", b));
      expected.push_back(fmt::format("b{:02}", b));
      if (b == 5) add("big.txt", big);  // 80,000 bytes: three batches
      rill::testing::run_until(*ctx, *clock, rill::Time{b * 1000});
    }
    ctx->stop(rill::StopOptions{.graceful = false});
  };
  run_files(1, 3);
  run_files(4, 6);
  run_files(7, 12);

  std::map<std::string, int> once;
  for (const auto& line : expected)
    once[line] = 1;
  EXPECT_EQ(*outputs, once);
  // Each run's first checkpoint, and the one after the 3,000 names of batch 1000, are
  // snapshots holding every name; the other checkpoints are deltas of a few names.
  EXPECT_GT(size_of("snapshot-4000"), 3000 * 20U);
  EXPECT_GT(size_of("snapshot-7000"), 3000 * 20U);
  int deltas = 0;
  for (int b = 2; b <= 12; ++b) {
    const std::string name = fmt::format("delta-{}", b * 1000);
    if (!exists(name)) continue;
    ++deltas;
    EXPECT_LT(size_of(name), 400U) << name;
  }
  EXPECT_GE(deltas, 7);
  fs::remove_all(in);
}
