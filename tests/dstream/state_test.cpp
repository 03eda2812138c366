// Stateful operators on the harness: update_state_by_key and map_with_state.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

using namespace std::chrono_literals;

namespace {
using KV = std::pair<std::string, int>;
}  // namespace

TEST(UpdateStateByKey, CalledForKeysWithValuesOrState) {
  rill::testing::Harness h{1s};
  auto in = h.input<KV>({{{"a", 1}, {"b", 2}, {"a", 3}}, {}, {{"b", 1}}, {{"c", 9}}});
  std::mutex mutex;
  std::vector<std::tuple<std::int64_t, std::vector<int>, std::optional<int>>> calls;
  auto out = h.collect(in.update_state_by_key(
      [&](const std::vector<int>& xs, std::optional<int> s) -> std::optional<int> {
        int sum = s.value_or(0);
        for (int x : xs)
          sum += x;
        {
          std::lock_guard lock(mutex);
          calls.emplace_back(static_cast<std::int64_t>(xs.size()), xs, s);
        }
        if (sum >= 10) return std::nullopt;  // removes the key
        return sum;
      },
      1));
  h.run_batches(4);
  EXPECT_EQ(out.sorted_batches(), (std::vector<std::vector<KV>>{{{"a", 4}, {"b", 2}},
                                                                {{"a", 4}, {"b", 2}},
                                                                {{"a", 4}, {"b", 3}},
                                                                {{"a", 4}, {"b", 3}, {"c", 9}}}));
  // Batch 1: a [1,3] and b [2] (values in arrival order); then each key every batch.
  ASSERT_GE(calls.size(), 2u);
  EXPECT_EQ(std::get<1>(calls[0]), (std::vector<int>{1, 3}));
  EXPECT_EQ(calls.size(), 2u + 2u + 2u + 3u);
}

TEST(UpdateStateByKey, NulloptRemovesAndInitialStateAndPartitions) {
  rill::testing::Harness h{rill::Config{}.batch_interval(1s).parallelism(4)};
  auto in = h.input<KV>({{{"a", 1}}, {{"a", -1}}, {{"a", 5}}});
  auto out = h.collect(in.update_state_by_key(
      [](const std::vector<int>& xs, std::optional<int> s) -> std::optional<int> {
        int sum = s.value_or(0);
        for (int x : xs)
          sum += x;
        if (sum == 0) return std::nullopt;
        return sum;
      },
      std::vector<KV>{{"z", 100}}, 3));
  h.run_batches(3);
  EXPECT_EQ(
      out.sorted_batches(),
      (std::vector<std::vector<KV>>{{{"a", 1}, {"z", 100}}, {{"z", 100}}, {{"a", 5}, {"z", 100}}}));
}

TEST(UpdateStateByKey, GenericLambdaWithExplicitState) {
  rill::testing::Harness h{1s};
  auto in = h.input<KV>({{{"a", 1}}, {{"a", 1}}});
  auto out = h.collect(in.update_state_by_key<long>([](const auto& xs, auto s) {
    return std::optional<long>(s.value_or(0L) + static_cast<long>(xs.size()));
  }));
  h.run_batches(2);
  EXPECT_EQ(out.batches()[1], (std::vector<std::pair<std::string, long>>{{"a", 2}}));
}

TEST(UpdateStateByKey, ReportsStateSizeOnBatchInfo) {
  struct Sizes : rill::StreamingListener {
    void on_batch_completed(const rill::BatchInfo& i) override {
      std::lock_guard lock(mutex);
      for (const auto& s : i.state)
        keys.emplace_back(s.name, s.keys);
    }
    std::mutex mutex;
    std::vector<std::pair<std::string, std::int64_t>> keys;
  };
  rill::testing::Harness h{1s};
  auto sizes = std::make_shared<Sizes>();
  h.context().add_listener(sizes);
  auto in = h.input<KV>({{{"a", 1}, {"b", 1}}, {{"c", 1}}});
  (void)h.collect(in.update_state_by_key([](const std::vector<int>&, std::optional<int> s) {
                      return std::optional<int>(s.value_or(0) + 1);
                    }).name("sessions"));
  h.run_batches(2);
  std::lock_guard lock(sizes->mutex);
  EXPECT_EQ(sizes->keys,
            (std::vector<std::pair<std::string, std::int64_t>>{{"sessions", 2}, {"sessions", 3}}));
}

TEST(MapWithState, OncePerRecordInArrivalOrder) {
  rill::testing::Harness h{rill::Config{}.batch_interval(1s).parallelism(3)};
  auto in = h.input<KV>({{{"a", 1}, {"b", 10}, {"a", 2}}, {{"a", 3}}, {}});
  auto spec = rill::state_spec<std::string, int, int>(
      [](const std::string& k, std::optional<int> v, rill::State<int>& s) {
        const int sum = s.get_option().value_or(0) + v.value_or(0);
        s.update(sum);
        return std::pair{k, sum};
      });
  auto mapped = in.map_with_state(spec);
  auto out = h.collect(mapped);
  auto snapshots = h.collect(mapped.state_snapshots());
  h.run_batches(3);
  const auto batches = out.batches();
  // Per key, in arrival order: a 1 then a 3 (running sums).
  std::vector<std::pair<std::string, int>> a_calls;
  for (const auto& kv : batches[0])
    if (kv.first == "a") a_calls.push_back(kv);
  EXPECT_EQ(a_calls, (std::vector<std::pair<std::string, int>>{{"a", 1}, {"a", 3}}));
  EXPECT_EQ(out.sorted_batches()[1], (std::vector<std::pair<std::string, int>>{{"a", 6}}));
  EXPECT_TRUE(batches[2].empty());
  EXPECT_EQ(snapshots.sorted_batches(),
            (std::vector<std::vector<KV>>{
                {{"a", 3}, {"b", 10}}, {{"a", 6}, {"b", 10}}, {{"a", 6}, {"b", 10}}}));
}

TEST(MapWithState, TimeoutCallsOnceInTheFirstBatchAfterIt) {
  rill::testing::Harness h{1s};
  // "a" at 1000 and 2000; "b" at 1000 only. Timeout 2s: b idles past 1000 + 2000 at 4000.
  auto in = h.input<KV>({{{"a", 1}, {"b", 1}}, {{"a", 1}}, {}, {}, {}, {}});
  auto spec = rill::state_spec<std::string, int, int>([](const std::string& k, std::optional<int> v,
                                                         rill::State<int>& s) {
                if (s.is_timing_out()) {
                  EXPECT_THROW(s.update(1), rill::IllegalState);
                  EXPECT_THROW(s.remove(), rill::IllegalState);
                  return fmt::format("{} timed out with {}", k, s.get());
                }
                s.update(s.get_option().value_or(0) + *v);
                return fmt::format("{}={}", k, s.get());
              }).timeout(2s);
  auto mapped = in.map_with_state(spec);
  auto out = h.collect(mapped);
  auto snapshots = h.collect(mapped.state_snapshots());
  h.run_batches(6);
  EXPECT_EQ(out.sorted_batches(),
            (std::vector<std::vector<std::string>>{
                {"a=1", "b=1"}, {"a=2"}, {}, {"b timed out with 1"}, {"a timed out with 2"}, {}}));
  EXPECT_EQ(snapshots.sorted_batches()[3], (std::vector<KV>{{"a", 2}}));
  EXPECT_TRUE(snapshots.batches()[4].empty());
}

TEST(MapWithState, RemoveAndInitialStateAndGetWithoutState) {
  rill::testing::Harness h{1s};
  auto in = h.input<KV>({{{"x", 1}, {"y", 1}}, {{"x", 1}}});
  auto spec = rill::state_spec<std::string, int, int>(
                  [](const std::string& k, std::optional<int>, rill::State<int>& s) -> std::string {
                    if (k == "y") {
                      EXPECT_FALSE(s.exists());
                      EXPECT_THROW((void)s.get(), rill::IllegalState);
                      return "y";
                    }
                    const int before = s.get();
                    s.remove();
                    EXPECT_FALSE(s.exists());
                    return fmt::format("x{}", before);
                  })
                  .initial_state({{"x", 41}})
                  .num_partitions(2);
  auto mapped = in.map_with_state(spec);
  auto out = h.collect(mapped);
  auto snapshots = h.collect(mapped.state_snapshots());
  h.run_batches(1);
  EXPECT_EQ(out.sorted_batches()[0], (std::vector<std::string>{"x41", "y"}));
  EXPECT_TRUE(snapshots.batches()[0].empty());
  EXPECT_THROW(h.run_batches(1), rill::IllegalState);  // x has no state any more: get() throws
}

namespace {

/// One map_with_state timeline: 1 s batches, a timeout, an initial state; every output batch
/// with its time.
struct TimeoutCase {
  std::string name;
  std::vector<std::vector<KV>> input;
  std::vector<KV> initial;
  std::chrono::seconds timeout;
  std::size_t batches;
  std::vector<std::pair<std::int64_t, std::vector<std::string>>> expected;
  /// When set, map_with_state reads input.window(slide, slide).
  std::optional<std::chrono::seconds> slide = std::nullopt;
};

}  // namespace

TEST(MapWithState, TimeoutBoundariesFollowSpark) {
  // Spark: a key times out in the first batch t with last_update < t - timeout; a record updates
  // it at its batch time; an initial key counts as updated at the operator's first batch time.
  const std::vector<TimeoutCase> cases = {
      {"initial key never updated: idle from the first batch (1000), out at 4000",
       {},
       {{"i", 5}},
       2s,
       5,
       {{1000, {}}, {2000, {}}, {3000, {}}, {4000, {"i timed out with 5"}}, {5000, {}}}},
      {"a longer timeout moves it by as much",
       {},
       {{"i", 5}},
       3s,
       6,
       {{1000, {}},
        {2000, {}},
        {3000, {}},
        {4000, {}},
        {5000, {"i timed out with 5"}},
        {6000, {}}}},
      {"key first seen at 2000: out at 5000",
       {{}, {{"u", 1}}},
       {},
       2s,
       6,
       {{1000, {}},
        {2000, {"u=1"}},
        {3000, {}},
        {4000, {}},
        {5000, {"u timed out with 1"}},
        {6000, {}}}},
      {"initial key updated in the first batch: out at 4000",
       {{{"i", 1}}},
       {{"i", 5}},
       2s,
       5,
       {{1000, {"i=6"}}, {2000, {}}, {3000, {}}, {4000, {"i timed out with 6"}}, {5000, {}}}},
      {"initial key updated at 2000 and 4000: out at 7000; the other initial key at 4000",
       {{}, {{"i", 1}}, {}, {{"i", 1}}},
       {{"i", 5}, {"j", 9}},
       2s,
       7,
       {{1000, {}},
        {2000, {"i=6"}},
        {3000, {}},
        {4000, {"i=7", "j timed out with 9"}},
        {5000, {}},
        {6000, {}},
        {7000, {"i timed out with 7"}}}},
      {"windowed parent (slide 2 s): the first batch is 2000, out at 6000",
       {{{"w", 1}}},
       {{"i", 5}},
       2s,
       6,
       {{2000, {"w=1"}}, {4000, {}}, {6000, {"i timed out with 5", "w timed out with 1"}}},
       2s},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    rill::testing::Harness h{1s};
    auto in = h.input<KV>(c.input);
    if (c.slide) in = in.window(*c.slide, *c.slide);
    auto spec = rill::state_spec<std::string, int, int>(
                    [](const std::string& k, std::optional<int> v, rill::State<int>& s) {
                      if (s.is_timing_out()) return fmt::format("{} timed out with {}", k, s.get());
                      s.update(s.get_option().value_or(0) + *v);
                      return fmt::format("{}={}", k, s.get());
                    })
                    .timeout(c.timeout)
                    .initial_state(c.initial);
    auto out = h.collect(in.map_with_state(spec));
    h.run_batches(c.batches);
    std::vector<std::pair<std::int64_t, std::vector<std::string>>> got;
    const auto times = out.times();
    const auto batches = out.sorted_batches();
    for (std::size_t i = 0; i < times.size(); ++i)
      got.emplace_back(times[i].milliseconds(), batches[i]);
    EXPECT_EQ(got, c.expected);
  }
}
