// Window operators on the harness: Spark's grid and contents, partial first windows, slides
// longer than the interval, empty batches, keys that vanish and come back.
#include <gtest/gtest.h>
#include <rill/testing.hpp>

using namespace std::chrono_literals;

namespace {
using KV = std::pair<std::string, int>;
using Batches = std::vector<std::vector<KV>>;

rill::Time ms(std::int64_t v) {
  return rill::Time{v};
}

// Spark's WindowOperationsSuite inputs.
const Batches kLargerSlideInput = {{{"a", 1}}, {{"a", 2}}, {{"a", 3}}, {{"a", 4}},
                                   {{"a", 5}}, {{"a", 6}}, {},         {}};
const Batches kVanishing = {{{"a", 1}, {"b", 1}}, {{"a", 1}}, {}, {{"b", 2}}, {}, {}, {{"a", 5}}};
}  // namespace

TEST(Window, GridAndContentsTable) {
  struct Case {
    const char* name;
    rill::Duration window;
    rill::Duration slide;
    std::size_t batches;
    std::vector<std::vector<int>> expected;
    std::vector<rill::Time> times;
  };
  const std::vector<std::vector<int>> input = {{1, 2}, {3}, {}, {4}, {5, 6}, {}};
  const std::vector<Case> cases = {
      {"tumbling 1s", 1s, 1s, 6, {{1, 2}, {3}, {}, {4}, {5, 6}, {}}, {}},
      {"2s every 1s (partial first)",
       2s,
       1s,
       6,
       {{1, 2}, {1, 2, 3}, {3}, {4}, {4, 5, 6}, {5, 6}},
       {}},
      {"3s every 1s", 3s, 1s, 4, {{1, 2}, {1, 2, 3}, {1, 2, 3}, {3, 4}}, {}},
      {"2s every 2s", 2s, 2s, 6, {{1, 2, 3}, {4}, {5, 6}}, {ms(2000), ms(4000), ms(6000)}},
      {"4s every 2s",
       4s,
       2s,
       6,
       {{1, 2, 3}, {1, 2, 3, 4}, {4, 5, 6}},
       {ms(2000), ms(4000), ms(6000)}},
      {"3s every 3s", 3s, 3s, 6, {{1, 2, 3}, {4, 5, 6}}, {ms(3000), ms(6000)}},
      {"1s every 2s (slide longer than window)",
       1s,
       2s,
       6,
       {{3}, {4}, {}},
       {ms(2000), ms(4000), ms(6000)}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    rill::testing::Harness h{1s};
    auto out = h.collect(h.input<int>(input).window(c.window, c.slide));
    h.run_batches(c.batches);
    EXPECT_EQ(out.batches(), c.expected);
    if (!c.times.empty()) {
      EXPECT_EQ(out.times(), c.times);
    }
  }
}

TEST(Window, DefaultSlideIsTheParentsAndWindowsNest) {
  rill::testing::Harness h{1s};
  auto in = h.input<int>({{1}, {2}, {3}, {4}, {5}, {6}});
  auto w2 = in.window(2s, 2s);
  auto nested = h.collect(w2.window(4s).count());  // slide 2s, windows of two w2 batches
  auto plain = h.collect(in.window(2s));
  h.run_batches(6);
  EXPECT_EQ(nested.times(), (std::vector<rill::Time>{ms(2000), ms(4000), ms(6000)}));
  EXPECT_EQ(nested.batches(), (std::vector<std::vector<std::int64_t>>{{2}, {4}, {4}}));
  EXPECT_EQ(plain.batches().size(), 6u);
  EXPECT_EQ(plain.batches()[3], (std::vector<int>{3, 4}));
}

TEST(Window, RejectsDurationsOffTheParentsGrid) {
  rill::testing::Harness h{1s};
  auto in = h.input<int>({});
  try {
    (void)in.window(2500ms, 1s);
    FAIL() << "expected rill::InvalidArgument";
  } catch (const rill::InvalidArgument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("2500 ms"), std::string::npos) << what;
    EXPECT_NE(what.find("1000 ms"), std::string::npos) << what;
  }
  EXPECT_THROW((void)in.window(2s, 1500ms), rill::InvalidArgument);
  EXPECT_THROW((void)in.window(0s, 1s), rill::InvalidArgument);
  auto windowed = in.window(4s, 2s);
  EXPECT_THROW((void)windowed.window(3s, 2s), rill::InvalidArgument);  // parent slide is 2s
  EXPECT_THROW((void)in.count_by_window(3s, 1500ms), rill::InvalidArgument);
  EXPECT_THROW((void)in.reduce_by_window([](int a, int b) { return a + b; }, 1500ms, 1s),
               rill::InvalidArgument);
}

TEST(Window, ReduceByKeyAndWindowLikeSpark) {
  // Spark's "larger slide time" case: window 4s, slide 2s.
  const Batches expected = {{{"a", 3}}, {{"a", 10}}, {{"a", 18}}, {{"a", 11}}};
  auto plus = [](int a, int b) { return a + b; };
  auto minus = [](int a, int b) { return a - b; };
  for (std::size_t parallelism : {1u, 3u}) {
    rill::testing::Harness h{rill::Config{}.batch_interval(1s).parallelism(parallelism)};
    auto in = h.input<KV>(kLargerSlideInput);
    auto plain = h.collect(in.reduce_by_key_and_window(plus, 4s, 2s));
    auto incremental = h.collect(in.reduce_by_key_and_window(plus, minus, 4s, 2s));
    h.run_batches(8);
    EXPECT_EQ(plain.sorted_batches(), expected);
    EXPECT_EQ(incremental.sorted_batches(), expected);
  }
}

TEST(Window, KeysVanishAndComeBack) {
  auto plus = [](int a, int b) { return a + b; };
  auto minus = [](int a, int b) { return a - b; };
  const Batches expected = {{{"a", 1}, {"b", 1}},
                            {{"a", 2}, {"b", 1}},
                            {{"a", 1}},
                            {{"b", 2}},
                            {{"b", 2}},
                            {},
                            {{"a", 5}}};
  rill::testing::Harness h{1s};
  auto in = h.input<KV>(kVanishing);
  auto plain = h.collect(in.reduce_by_key_and_window(plus, 2s, 1s));
  auto incremental = h.collect(in.reduce_by_key_and_window(plus, minus, 2s, 1s));
  auto filtered = h.collect(
      in.reduce_by_key_and_window(plus, minus, 2s, 1s, [](const KV& kv) { return kv.second > 1; }));
  auto counts =
      h.collect(in.map([](const KV& kv) { return kv.first; }).count_by_value_and_window(2s, 1s));
  h.run_batches(7);
  EXPECT_EQ(plain.sorted_batches(), expected);
  EXPECT_EQ(incremental.sorted_batches(), expected);  // Spark would keep ("a",0) and ("b",0)
  EXPECT_EQ(filtered.sorted_batches(),
            (Batches{{}, {{"a", 2}}, {}, {{"b", 2}}, {{"b", 2}}, {}, {{"a", 5}}}));
  EXPECT_EQ(counts.sorted_batches(),
            (std::vector<std::vector<std::pair<std::string, std::int64_t>>>{
                {{"a", 1}, {"b", 1}},
                {{"a", 2}, {"b", 1}},
                {{"a", 1}},
                {{"b", 1}},
                {{"b", 1}},
                {},
                {{"a", 1}}}));
}

TEST(Window, ReduceAndCountByWindow) {
  auto plus = [](int a, int b) { return a + b; };
  auto minus = [](int a, int b) { return a - b; };
  rill::testing::Harness h{1s};
  auto in = h.input<int>({{1, 2}, {3}, {}, {}, {}, {4}});
  auto plain = h.collect(in.reduce_by_window(plus, 2s, 1s));
  auto incremental = h.collect(in.reduce_by_window(plus, minus, 2s, 1s));
  auto counted = h.collect(in.count_by_window(2s, 1s));
  auto by_definition = h.collect(in.window(2s, 1s).count());
  auto slower = h.collect(in.count_by_window(4s, 2s));
  h.run_batches(7);
  const std::vector<std::vector<int>> sums = {{3}, {6}, {3}, {}, {}, {4}, {4}};
  EXPECT_EQ(plain.batches(), sums);
  EXPECT_EQ(incremental.batches(), sums);  // nothing for an empty window
  const std::vector<std::vector<std::int64_t>> counts = {{2}, {3}, {1}, {0}, {0}, {1}, {1}};
  EXPECT_EQ(counted.batches(), counts);  // 0 for an empty window
  EXPECT_EQ(by_definition.batches(), counts);
  EXPECT_EQ(slower.batches(), (std::vector<std::vector<std::int64_t>>{{3}, {3}, {1}}));
  EXPECT_EQ(slower.times(), (std::vector<rill::Time>{ms(2000), ms(4000), ms(6000)}));
}

TEST(Window, CountByWindowBeforeTheFirstRecordIsZero) {
  rill::testing::Harness h{1s};
  auto out = h.collect(h.input<int>({{}, {}, {7}}).count_by_window(3s, 1s));
  h.run_batches(3);
  EXPECT_EQ(out.batches(), (std::vector<std::vector<std::int64_t>>{{0}, {0}, {1}}));
}

TEST(Window, GroupByKeyAndWindowKeepsInputOrder) {
  rill::testing::Harness h{rill::Config{}.batch_interval(1s).parallelism(3)};
  auto in = h.input<KV>({{{"a", 1}, {"b", 2}, {"a", 3}}, {{"a", 4}}, {{"b", 5}, {"a", 6}}});
  auto out = h.collect(in.group_by_key_and_window(2s, 1s));
  h.run_batches(3);
  using G = std::pair<std::string, std::vector<int>>;
  EXPECT_EQ(out.sorted_batches(), (std::vector<std::vector<G>>{{{"a", {1, 3}}, {"b", {2}}},
                                                               {{"a", {1, 3, 4}}, {"b", {2}}},
                                                               {{"a", {4, 6}}, {"b", {5}}}}));
}

TEST(Window, KeepsOnlyTheBatchesItNeeds) {
  rill::testing::Harness h{1s};
  std::vector<std::vector<int>> input(20, std::vector<int>(100, 1));
  auto in = h.input<int>(input);
  auto windowed = in.map([](int x) { return x + 1; });
  auto out = h.collect(windowed.window(3s, 1s).count());
  h.run_batches(20);
  EXPECT_EQ(out.batches().back(), (std::vector<std::int64_t>{300}));
  // The windowed parent keeps the batches of one window (3), never the whole history.
  EXPECT_LE(windowed.node()->cached_batches(), 3u);
  EXPECT_EQ(h.context().memory_usage().retained_bytes,
            300 * static_cast<std::int64_t>(sizeof(int)));
}

TEST(Slice, ReturnsRememberedBatches) {
  rill::testing::Harness h{1s};
  h.context().remember(3s);
  auto in = h.input<int>({{1}, {2}, {3}, {4}, {5}});
  auto doubled = in.map([](int x) { return 2 * x; });
  (void)h.collect(doubled);
  EXPECT_THROW((void)doubled.slice(ms(1000), ms(2000)), rill::IllegalState);
  h.run_batches(5);
  auto batches = doubled.slice(ms(3000), ms(5500));
  std::vector<std::vector<int>> got;
  for (const auto& b : batches)
    got.push_back(b.collect());
  EXPECT_EQ(got, (std::vector<std::vector<int>>{{6}, {8}, {10}}));
  EXPECT_TRUE(doubled.slice(ms(1000), ms(1000)).empty());  // forgotten: older than 3 s
  EXPECT_THROW((void)doubled.slice(ms(3000), ms(2000)), rill::InvalidArgument);
}
