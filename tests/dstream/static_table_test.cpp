// Static tables (shared/api.md, "Static tables"): a stream of pairs joined with data at rest,
// as Spark joins a stream with a static DataFrame. join(table) and left_outer_join(table) are
// per-record steps fused with the narrow steps around them; a context's table loads at start()
// and reloads every `refresh` on the context's clock, each batch using the version pinned when
// it was sealed.

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <rill/testing.hpp>

#include "support/log_capture.hpp"
#include "support/table.hpp"

using namespace std::chrono_literals;
using rill::DStream;
using rill::StaticTable;
using rill_test::Batches;
using rill_test::Case;
using rill_test::test_operations;

namespace {

using KV = std::pair<std::string, int>;
using Joined = std::pair<std::string, std::pair<int, std::string>>;
using OuterJoined = std::pair<std::string, std::pair<int, std::optional<std::string>>>;

/// Key "a" has two rows, "b" one, "z" one that no record has; "c" has none.
StaticTable<std::string, std::string> colors() {
  return StaticTable<std::string, std::string>::of(
      {{"a", "red"}, {"b", "blue"}, {"z", "grey"}, {"a", "pink"}});
}

using rill_test::LogCapture;

rill::Config manual_config(std::size_t parallelism = 2) {
  return rill::Config{}
      .batch_interval(1s)
      .parallelism(parallelism)
      .worker_threads(2)
      .clock(rill::ManualClock::create());
}

/// The rows of version n of a table that changes with every load: key "k" -> "v<n>".
std::vector<std::pair<std::string, std::string>> version_rows(int n) {
  return {{"k", "v" + std::to_string(n)}};
}

/// The table version each batch saw, from records ("k", batch number) joined with it.
std::vector<std::string> versions_seen(const rill::testing::Collector<Joined>& out) {
  std::vector<std::string> seen;
  for (const auto& batch : out.batches()) {
    EXPECT_EQ(batch.size(), 1U);
    seen.push_back(batch.empty() ? "none" : batch.front().second.second);
  }
  return seen;
}

Batches<KV> one_k_per_batch(int n) {
  Batches<KV> in;
  for (int i = 1; i <= n; ++i)
    in.push_back({{"k", i}});
  return in;
}

}  // namespace

TEST(StaticTableJoin, OneOutputPerMatchingRowInInputOrder) {
  // Within a partition the output follows the input, then the table's rows of a key in their
  // order; keys without a row ("c") produce nothing.
  const Batches<KV> input = {{{"a", 1}, {"c", 2}, {"b", 3}, {"a", 4}, {"z", 5}}, {}, {{"c", 6}}};
  const Batches<Joined> expected = {{{"a", {1, "red"}},
                                     {"a", {1, "pink"}},
                                     {"b", {3, "blue"}},
                                     {"a", {4, "red"}},
                                     {"a", {4, "pink"}},
                                     {"z", {5, "grey"}}},
                                    {},
                                    {}};
  const auto table = colors();
  auto join = [table](DStream<KV> s) -> DStream<Joined> { return s.join(table); };
  test_operations<KV, Joined>({
      {"one partition", input, join, expected, 1},
      {"two partitions", input, join, expected, 2},
      {"more partitions than records", input, join, expected, 7},
  });
}

TEST(StaticTableJoin, LeftOuterJoinKeepsRecordsWithoutARow) {
  const Batches<KV> input = {{{"c", 0}, {"a", 1}, {"b", 2}, {"c", 3}}, {}, {{"d", 4}}};
  const Batches<OuterJoined> expected = {{{"c", {0, std::nullopt}},
                                          {"a", {1, "red"}},
                                          {"a", {1, "pink"}},
                                          {"b", {2, "blue"}},
                                          {"c", {3, std::nullopt}}},
                                         {},
                                         {{"d", {4, std::nullopt}}}};
  const auto table = colors();
  auto join = [table](DStream<KV> s) -> DStream<OuterJoined> { return s.left_outer_join(table); };
  test_operations<KV, OuterJoined>({
      {"one partition", input, join, expected, 1},
      {"three partitions", input, join, expected, 3},
  });
}

TEST(StaticTableJoin, AnEmptyTableJoinsNothingAndLeftOuterKeepsAll) {
  const auto empty = StaticTable<std::string, std::string>::of({});
  EXPECT_EQ(empty.size(), 0U);
  const Batches<KV> input = {{{"a", 1}, {"b", 2}}};
  test_operations<KV, Joined>(
      {{"join", input, [empty](DStream<KV> s) -> DStream<Joined> { return s.join(empty); },
        Batches<Joined>{{}}}});
  test_operations<KV, OuterJoined>(
      {{"left outer join", input,
        [empty](DStream<KV> s) -> DStream<OuterJoined> { return s.left_outer_join(empty); },
        Batches<OuterJoined>{{{"a", {1, std::nullopt}}, {"b", {2, std::nullopt}}}}}});
}

TEST(StaticTableJoin, FusesWithTheNarrowStepsAroundIt) {
  rill::testing::Harness h{manual_config(2)};
  auto in = h.input<int>({{1, 2, 3, 4, 5, 6}, {7}});
  const auto names = StaticTable<int, std::string>::of({{0, "even"}, {1, "odd"}, {1, "unit"}});
  auto before = in.filter([](int x) { return x != 3; }).map([](int x) {
    return std::pair<int, int>{x % 2, x};
  });
  auto joined = before.join(names);
  // The join is a step: it returns a StepDStream, so the map after it fuses too.
  static_assert(
      !std::is_same_v<decltype(joined), DStream<std::pair<int, std::pair<int, std::string>>>>);
  auto after = joined.map([](const std::pair<int, std::pair<int, std::string>>& r) {
    return r.second.second + std::to_string(r.second.first);
  });
  auto out = h.collect(after);
  h.run_batches(2);
  EXPECT_EQ(out.batches(),
            (Batches<std::string>{{"odd1", "unit1", "even2", "even4", "odd5", "unit5", "even6"},
                                  {"odd7", "unit7"}}));
  // Nothing between the source and the output is materialized: every step streams into the next.
  EXPECT_TRUE(before.node()->streams());
  EXPECT_TRUE(joined.node()->streams());
  EXPECT_TRUE(after.node()->streams());
}

TEST(StaticTableJoin, WorksAfterAShuffleAndOnPlainStreams) {
  rill::testing::Harness h{manual_config(2)};
  const auto limits = StaticTable<std::string, int>::of({{"a", 10}, {"b", 1}});
  DStream<KV> sums = h.input<KV>({{{"a", 1}, {"b", 2}, {"a", 3}}}).reduce_by_key([](int x, int y) {
    return x + y;
  });
  auto over = sums.join(limits)
                  .filter([](const auto& r) { return r.second.first > r.second.second; })
                  .map([](const auto& r) { return r.first; });
  auto out = h.collect(over);
  h.run_batches(1);
  EXPECT_EQ(out.batches(), (Batches<std::string>{{"b"}}));
}

TEST(StaticTableJoin, OneTableSharedByTwoStreams) {
  rill::testing::Harness h{manual_config(2)};
  const auto table = colors();
  auto a = h.input<KV>({{{"a", 1}}, {{"b", 2}}});
  auto b = h.input<KV>({{{"b", 10}, {"c", 11}}, {{"a", 12}}});
  auto out_a = h.collect(a.join(table));
  auto out_b = h.collect(b.left_outer_join(table));
  h.run_batches(2);
  EXPECT_EQ(out_a.batches(),
            (Batches<Joined>{{{"a", {1, "red"}}, {"a", {1, "pink"}}}, {{"b", {2, "blue"}}}}));
  EXPECT_EQ(out_b.batches(), (Batches<OuterJoined>{{{"b", {10, "blue"}}, {"c", {11, std::nullopt}}},
                                                   {{"a", {12, "red"}}, {"a", {12, "pink"}}}}));
}

TEST(StaticTableJoin, RecordsOwningTheirDataAreMovedIntoTheLastMatch) {
  // A map before the join hands it owned records; strings longer than the small-string buffer
  // show copies and moves alike in the result.
  rill::testing::Harness h{manual_config(1)};
  const std::string long_value(64, 'x');
  const auto table = StaticTable<int, std::string>::of({{1, "one"}, {1, "uno"}, {2, "two"}});
  auto in = h.input<int>({{1, 2, 3}});
  auto out = h.collect(in.map([&long_value](int x) {
                           return std::pair<int, std::string>{x, long_value + std::to_string(x)};
                         }).left_outer_join(table));
  h.run_batches(1);
  using R = std::pair<int, std::pair<std::string, std::optional<std::string>>>;
  EXPECT_EQ(out.batches(), (Batches<R>{{{1, {long_value + "1", "one"}},
                                        {1, {long_value + "1", "uno"}},
                                        {2, {long_value + "2", "two"}},
                                        {3, {long_value + "3", std::nullopt}}}}));
}

TEST(StaticTable, AReloadDueAtRIsTheVersionOfBatchR) {
  // refresh 2 s, interval 1 s: loads at start (v1), 2000 (v2), 4000 (v3).
  rill::testing::Harness h{manual_config()};
  int loads = 0;  // the loader runs on the user thread, then on the scheduler thread
  auto table = h.context().static_table<std::string, std::string>(
      [&loads] { return version_rows(++loads); }, 2s);
  auto out = h.collect(h.input<KV>(one_k_per_batch(5)).join(table));
  h.run_batches(5);
  EXPECT_EQ(versions_seen(out), (std::vector<std::string>{"v1", "v2", "v2", "v3", "v3"}));
  EXPECT_EQ(loads, 3);
}

TEST(StaticTable, ARefreshOffTheBatchGridCountsFromTheZeroTime) {
  // refresh 1.5 s: reloads due at 1500, 3000, 4500; batch t uses the last one due by t.
  rill::testing::Harness h{manual_config()};
  int loads = 0;
  auto table = h.context().static_table<std::string, std::string>(
      [&loads] { return version_rows(++loads); }, 1500ms);
  auto out = h.collect(h.input<KV>(one_k_per_batch(5)).join(table));
  h.run_batches(5);
  EXPECT_EQ(versions_seen(out), (std::vector<std::string>{"v1", "v2", "v3", "v3", "v4"}));
}

TEST(StaticTable, ATableWithoutRefreshLoadsOnceAtStart) {
  rill::testing::Harness h{manual_config()};
  int loads = 0;
  auto table = h.context().static_table<std::string, std::string>(
      [&loads] { return version_rows(++loads); });
  EXPECT_EQ(loads, 0);  // nothing runs before start()
  EXPECT_EQ(table.size(), 0U);
  auto out = h.collect(h.input<KV>(one_k_per_batch(3)).join(table));
  h.run_batches(3);
  EXPECT_EQ(versions_seen(out), (std::vector<std::string>{"v1", "v1", "v1"}));
  EXPECT_EQ(loads, 1);
  EXPECT_EQ(table.size(), 1U);
}

TEST(StaticTable, ATableSharedByTwoStreamsGivesBothTheSameVersionPerBatch) {
  rill::testing::Harness h{manual_config()};
  int loads = 0;
  auto table = h.context().static_table<std::string, std::string>(
      [&loads] { return version_rows(++loads); }, 2s);
  auto a = h.collect(h.input<KV>(one_k_per_batch(4)).join(table));
  auto b = h.collect(h.input<KV>(one_k_per_batch(4)).map([](KV kv) { return kv; }).join(table));
  h.run_batches(4);
  EXPECT_EQ(versions_seen(a), (std::vector<std::string>{"v1", "v2", "v2", "v3"}));
  EXPECT_EQ(versions_seen(b), versions_seen(a));
  EXPECT_EQ(loads, 3);
}

TEST(StaticTable, AFailingReloadIsCountedLoggedAndKeepsThePreviousVersion) {
  LogCapture log;
  {
    rill::testing::Harness h{manual_config()};
    int loads = 0;
    auto table = h.context()
                     .static_table<std::string, std::string>(
                         [&loads] {
                           ++loads;
                           if (loads == 2 || loads == 3) {
                             throw std::runtime_error("rates service unavailable");
                           }
                           return version_rows(loads);
                         },
                         1s)
                     .name("rates");
    auto out = h.collect(h.input<KV>(one_k_per_batch(4)).join(table));
    h.run_batches(4);
    // Loads at start (v1), 1000 and 2000 (both fail: v1 stays), 3000 (v4), 4000 (v5).
    EXPECT_EQ(versions_seen(out), (std::vector<std::string>{"v1", "v1", "v4", "v5"}));
    const auto stats = h.context().source_stats();
    ASSERT_EQ(stats.size(), 2U);  // the queue stream, then the table
    EXPECT_EQ(stats[1].name, "rates");
    EXPECT_EQ(stats[1].errors, 2);
    EXPECT_EQ(stats[1].records, 1);  // rows of the newest version
    EXPECT_EQ(h.context().state(), rill::ContextState::active);
  }
  EXPECT_NE(log.text().find("static table rates: reloading failed: rates service unavailable"),
            std::string::npos)
      << log.text();
}

TEST(StaticTable, ALoaderThatThrowsAtStartFailsStartAndNothingRuns) {
  rill::StreamingContext ctx{manual_config()};
  std::atomic<int> outputs{0};
  auto table = ctx.static_table<std::string, std::string>(
      []() -> std::vector<std::pair<std::string, std::string>> {
        throw std::runtime_error("no such file: rates.csv");
      });
  ctx.queue_stream<KV>({{{"k", 1}}})
      .join(table)
      .foreach_batch([&outputs](const rill::Batch<Joined>&, rill::Time) { ++outputs; });
  try {
    ctx.start();
    FAIL() << "start() did not throw";
  } catch (const rill::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("static_table#1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no such file: rates.csv"), std::string::npos) << e.what();
    // The loader's own exception is nested.
    try {
      std::rethrow_if_nested(e);
      FAIL() << "nothing nested";
    } catch (const std::runtime_error& inner) {
      EXPECT_STREQ(inner.what(), "no such file: rates.csv");
    }
  }
  EXPECT_EQ(ctx.state(), rill::ContextState::stopped);
  EXPECT_THROW(ctx.start(), rill::IllegalState);
  EXPECT_EQ(outputs.load(), 0);
}

TEST(StaticTable, ARillErrorFromTheLoaderAtStartIsRethrownAsItIs) {
  rill::StreamingContext ctx{manual_config()};
  bool second_loaded = false;
  auto bad = ctx.static_table<std::string, std::string>(
      []() -> std::vector<std::pair<std::string, std::string>> {
        throw rill::InvalidArgument("rates.csv: line 3 has no key");
      });
  auto good = ctx.static_table<std::string, std::string>([&second_loaded] {
    second_loaded = true;
    return version_rows(1);
  });
  ctx.queue_stream<KV>({}).join(bad).join(good).print();
  EXPECT_THROW(ctx.start(), rill::InvalidArgument);
  EXPECT_FALSE(second_loaded);  // tables load in creation order; the first failure stops it
  EXPECT_EQ(ctx.state(), rill::ContextState::stopped);
}

TEST(StaticTable, NamesArePerContextAndUnique) {
  rill::StreamingContext ctx{manual_config()};
  auto first = ctx.static_table<int, int>([] { return std::vector<std::pair<int, int>>{}; });
  auto second = ctx.static_table<int, int>([] { return std::vector<std::pair<int, int>>{}; });
  EXPECT_EQ(first.name(), "static_table#1");
  EXPECT_EQ(second.name(), "static_table#2");
  auto stream = ctx.queue_stream<std::pair<int, int>>({}).name("events");
  EXPECT_THROW(second.name("events"), rill::InvalidArgument);
  EXPECT_THROW(second.name("static_table#1"), rill::InvalidArgument);
  EXPECT_THROW(second.name(""), rill::InvalidArgument);
  EXPECT_THROW(stream.name("static_table#1"), rill::InvalidArgument);
  EXPECT_EQ(second.name("prices").name(), "prices");
  stream.join(first).join(second).print();
  ctx.start();
  EXPECT_THROW(first.name("late"), rill::IllegalState);
  const auto stats = ctx.source_stats();
  ASSERT_EQ(stats.size(), 3U);
  EXPECT_EQ(stats[1].name, "static_table#1");
  EXPECT_EQ(stats[2].name, "prices");
  ctx.stop();
}

TEST(StaticTable, MisuseIsRefusedByTheCall) {
  rill::StreamingContext ctx{manual_config()};
  rill::StreamingContext other{manual_config()};
  auto loader = [] { return std::vector<std::pair<int, int>>{{1, 1}}; };
  using IntTable = StaticTable<int, int>;
  EXPECT_THROW((void)(ctx.static_table<int, int>(loader, -1ms)), rill::InvalidArgument);
  auto foreign = other.static_table<int, int>(loader);
  auto stream = ctx.queue_stream<std::pair<int, int>>({});
  EXPECT_THROW((void)stream.join(foreign), rill::InvalidArgument);
  EXPECT_THROW((void)stream.map([](auto kv) { return kv; }).left_outer_join(foreign),
               rill::InvalidArgument);
  // A table of fixed rows belongs to no context.
  stream.join(IntTable::of({{1, 2}})).print();
  ctx.start();
  EXPECT_THROW((void)(ctx.static_table<int, int>(loader)), rill::IllegalState);
  ctx.stop();
}

TEST(StaticTable, UnderTheSystemClockReloadsRunOnTheirOwnThreadWithoutHoldingUpBatches) {
  // A loader blocked in its second call: batches keep completing meanwhile, with version 1.
  std::mutex mutex;
  std::condition_variable cv;
  int loads = 0;
  bool release = false;
  auto loader = [&] {
    std::unique_lock lock(mutex);
    const int n = ++loads;
    cv.notify_all();
    if (n == 2) cv.wait(lock, [&] { return release; });
    return version_rows(n);
  };
  rill::StreamingContext ctx{rill::Config{}.batch_interval(20ms).parallelism(1).worker_threads(1)};
  auto table = ctx.static_table<std::string, std::string>(loader, 20ms);
  struct Seen {
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<std::string> versions;
  };
  auto seen = std::make_shared<Seen>();
  ctx.queue_stream<KV>({}, false)
      .transform([](const rill::Batch<KV>&, rill::Time) {
        return std::vector<KV>{{"k", 0}};
      })
      .join(table)
      .foreach_batch([seen](const rill::Batch<Joined>& batch, rill::Time) {
        std::lock_guard lock(seen->mutex);
        for (const auto& r : batch)
          seen->versions.push_back(r.second.second);
        seen->cv.notify_all();
      });
  ctx.start();
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return loads >= 2; }));
  }
  std::size_t while_blocked = 0;
  {
    // Five more batches complete while the reload is blocked.
    std::unique_lock lock(seen->mutex);
    const std::size_t before = seen->versions.size();
    ASSERT_TRUE(seen->cv.wait_for(lock, 10s, [&] { return seen->versions.size() >= before + 5; }));
    while_blocked = seen->versions.size();
    for (const auto& v : seen->versions)
      EXPECT_EQ(v, "v1");
  }
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  cv.notify_all();
  {
    std::unique_lock lock(seen->mutex);
    ASSERT_TRUE(seen->cv.wait_for(lock, 10s, [&] {
      return seen->versions.size() > while_blocked && seen->versions.back() != "v1";
    }));
  }
  ctx.stop();
  EXPECT_EQ(ctx.source_stats().back().errors, 0);
}

TEST(StaticTable, ABatchReplayedAfterARestartUsesTheVersionLoadedAtTheRestart) {
  // Tables are not checkpointed: the batch that was sealed but not checkpointed before the
  // "crash" runs again after the restart, joined with what the new start() loaded.
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() /
      ("rill-static-table-" + std::to_string(::getpid()) + "-" +
       std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  struct Seen {
    std::mutex mutex;
    std::vector<std::pair<rill::Time, std::string>> rows;
  };
  auto run = [&dir](const std::string& generation, std::int64_t until,
                    const std::shared_ptr<Seen>& seen) {
    auto clock = rill::ManualClock::create();
    auto ctx = rill::StreamingContext::get_or_create(dir, [&] {
      auto c = std::make_unique<rill::StreamingContext>(
          rill::Config{}.batch_interval(1s).parallelism(1).worker_threads(1).clock(clock));
      auto table = c->static_table<std::string, std::string>([generation] {
        return std::vector<std::pair<std::string, std::string>>{{"k", generation}};
      });
      c->queue_stream<KV>({{{"k", 1}}, {{"k", 2}}, {{"k", 3}}, {{"k", 4}}})
          .join(table)
          .foreach_batch(
              [seen](const rill::Batch<Joined>& batch, rill::Time t) {
                std::lock_guard lock(seen->mutex);
                for (const auto& r : batch)
                  seen->rows.emplace_back(t, r.second.second);
              },
              rill::idempotent);
      return c;
    });
    rill::testing::run_until(*ctx, *clock, rill::Time{until * 1000});
    ctx->stop(rill::StopOptions{.graceful = false});
  };
  auto first = std::make_shared<Seen>();
  run("old", 3, first);
  EXPECT_EQ(first->rows,
            (std::vector<std::pair<rill::Time, std::string>>{
                {rill::Time{1000}, "old"}, {rill::Time{2000}, "old"}, {rill::Time{3000}, "old"}}));
  // As if the process died after batch 3000's outputs but before its checkpoint.
  ASSERT_TRUE(fs::exists(dir / "delta-3000.rill") || fs::exists(dir / "snapshot-3000.rill"));
  fs::remove(dir / "delta-3000.rill");
  fs::remove(dir / "snapshot-3000.rill");
  auto second = std::make_shared<Seen>();
  run("new", 4, second);
  EXPECT_EQ(second->rows, (std::vector<std::pair<rill::Time, std::string>>{
                              {rill::Time{3000}, "new"}, {rill::Time{4000}, "new"}}));
  fs::remove_all(dir);
}
