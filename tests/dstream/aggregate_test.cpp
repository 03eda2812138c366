// Whole-batch operators (reduce, count, transform, transform_with) and what the engine promises
// about computing the graph: a node read by several outputs computes once per batch, a stream no
// output reaches never computes, and the same input gives the same batches, in the same order,
// run after run.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <ranges>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <rill/testing.hpp>

#include "support/sequences.hpp"
#include "support/table.hpp"

using namespace std::chrono_literals;
using rill::Batch;
using rill::DStream;
using rill::Time;
using rill_test::Batches;
using rill_test::Case;
using rill_test::Case2;
using rill_test::test_operations;

namespace {

using rill_test::iota_vector;

const std::vector<Time> kThreeTimes{Time{1000}, Time{2000}, Time{3000}};

}  // namespace

TEST(Aggregate, ReduceTable) {
  std::vector<Case<int, int>> cases;
  for (std::size_t p : {1u, 2u, 8u}) {
    cases.push_back({"sum",
                     {{1, 2, 3}, {}, {4}},
                     [](DStream<int> s) { return s.reduce([](int a, int b) { return a + b; }); },
                     {{6}, {}, {4}},
                     p});
    cases.push_back(
        {"max_of_negatives",
         {{-5, -2, -9, -3}},
         [](DStream<int> s) { return s.reduce([](int a, int b) { return std::max(a, b); }); },
         {{-2}},
         p});
    cases.push_back({"single_record_many_partitions",
                     {{42}},
                     [](DStream<int> s) { return s.reduce([](int a, int b) { return a * b; }); },
                     {{42}},
                     p});
    cases.push_back({"after_filter_removing_everything",
                     {{1, 3, 5}},
                     [](DStream<int> s) {
                       return s.filter([](int x) { return x % 2 == 0; }).reduce([](int a, int b) {
                         return a + b;
                       });
                     },
                     {{}},
                     p});
    cases.push_back({"large_sum",
                     {iota_vector(1, 1001)},
                     [](DStream<int> s) { return s.reduce([](int a, int b) { return a + b; }); },
                     {{500500}},
                     p});
  }
  test_operations(cases);
}

TEST(Aggregate, CountTable) {
  std::vector<Case<int, std::int64_t>> cases;
  for (std::size_t p : {1u, 2u, 8u}) {
    cases.push_back({"count",
                     {{1, 2, 3}, {}, {4}},
                     [](DStream<int> s) { return s.count(); },
                     {{3}, {0}, {1}},
                     p});
    cases.push_back({"zero_after_filter",
                     {{1, 2, 3}},
                     [](DStream<int> s) { return s.filter([](int) { return false; }).count(); },
                     {{0}},
                     p});
    cases.push_back({"after_flat_map",
                     {{1, 2, 3}, {10}},
                     [](DStream<int> s) {
                       return s.flat_map([](int x) { return std::views::iota(0, x); }).count();
                     },
                     {{6}, {10}},
                     p});
    cases.push_back({"of_a_union",
                     {{1, 2, 3}},
                     [](DStream<int> s) { return s.union_with(s).count(); },
                     {{6}},
                     p});
    cases.push_back({"of_a_count_is_one",
                     {{1, 2, 3}, {}},
                     [](DStream<int> s) { return s.count().count(); },
                     {{1}, {1}},
                     p});
    cases.push_back(
        {"large", {iota_vector(0, 5000)}, [](DStream<int> s) { return s.count(); }, {{5000}}, p});
    // Past the input queue the batches are empty, and counted as 0.
    cases.push_back({"after_the_queue_runs_dry",
                     {{7}},
                     [](DStream<int> s) { return s.count(); },
                     {{1}, {0}, {0}},
                     p});
  }
  test_operations(cases);
}

TEST(Aggregate, ReduceAndCountAreOnePartition) {
  rill::testing::Harness h{rill_test::config(8)};
  auto in = h.input<int>({{1, 2, 3}});
  EXPECT_EQ(in.count().num_partitions(), 1u);
  EXPECT_EQ(in.reduce([](int a, int b) { return a + b; }).num_partitions(), 1u);
  auto glommed = h.collect(in.count().glom());
  h.run_batches(2);
  EXPECT_EQ(glommed.batches(), (Batches<std::vector<std::int64_t>>{{{3}}, {{0}}}));
}

TEST(Aggregate, TransformTable) {
  test_operations<int, int>({
      {"sorts_descending_and_appends_the_time",
       {{3, 1, 2}, {}},
       [](DStream<int> s) {
         return s.transform([](const Batch<int>& b, Time t) {
           auto v = b.collect();
           std::sort(v.rbegin(), v.rend());
           v.push_back(static_cast<int>(t.milliseconds() / 1000));
           return v;
         });
       },
       {{3, 2, 1, 1}, {2}}},
      {"sees_the_parent_partitions",
       {{1, 2, 3, 4, 5, 6, 7}, {}},
       [](DStream<int> s) {
         return s.transform([](const Batch<int>& b, Time) {
           std::vector<int> out{static_cast<int>(b.num_partitions()), static_cast<int>(b.size())};
           for (std::size_t i = 0; i < b.num_partitions(); ++i)
             out.push_back(static_cast<int>(b.partition(i).size()));
           return out;
         });
       },
       {{3, 7, 2, 2, 3}, {3, 0, 0, 0, 0}},
       3},
      {"of_a_keyed_parent",
       {{1, 2, 1, 3, 1}},
       [](DStream<int> s) {
         return s.map([](int x) {
                   return std::pair{x, 1};
                 })
             .reduce_by_key([](int a, int b) { return a + b; })
             .transform([](const Batch<std::pair<int, int>>& b, Time) {
               auto v = b.collect();
               std::sort(v.begin(), v.end());
               std::vector<int> out;
               for (const auto& [k, n] : v)
                 out.push_back(k * 10 + n);
               return out;
             });
       },
       {{13, 21, 31}}},
      {"returns_nothing",
       {{1, 2}},
       [](DStream<int> s) {
         return s.transform([](const Batch<int>&, Time) { return std::vector<int>{}; });
       },
       {{}}},
  });
  // The result is cut into `parallelism` contiguous slices.
  using G = std::vector<std::string>;
  test_operations<int, G>({
      {"result_cut_into_parallelism_slices",
       {{1, 2, 3}},
       [](DStream<int> s) {
         return s
             .transform([](const Batch<int>& b, Time) {
               std::vector<std::string> out;
               for (int x : b)
                 out.push_back(std::string(static_cast<std::size_t>(x), 'x'));
               return out;
             })
             .glom();
       },
       {{G{"x"}, G{"xx", "xxx"}}}},
      {"result_cut_into_parallelism_slices_p4",
       {{1, 2, 3, 4, 5}},
       [](DStream<int> s) {
         return s.repartition(1)
             .transform([](const Batch<int>& b, Time) {
               std::vector<std::string> out;
               for (int x : b)
                 out.push_back(std::to_string(x));
               return out;
             })
             .glom();
       },
       {{G{"1"}, G{"2"}, G{"3"}, G{"4", "5"}}},
       4},
  });
}

TEST(Aggregate, TransformIsCalledOnceAtEveryBatchTime) {
  rill::testing::Harness h{1s};
  auto in = h.input<int>({{1, 2}});
  std::vector<std::pair<Time, std::size_t>> calls;  // transform runs on the batch thread
  auto out = h.collect(in.transform([&calls](const Batch<int>& b, Time t) {
    calls.emplace_back(t, b.size());
    return b.collect();
  }));
  h.run_batches(3);
  EXPECT_EQ(calls, (std::vector<std::pair<Time, std::size_t>>{
                       {Time{1000}, 2}, {Time{2000}, 0}, {Time{3000}, 0}}));
  EXPECT_EQ(out.batches(), (Batches<int>{{1, 2}, {}, {}}));
  EXPECT_EQ(out.times(), kThreeTimes);
}

TEST(Aggregate, TransformWithTable) {
  test_operations<int, int, int>({
      {"difference",
       {{1, 2, 3}, {4}, {}},
       {{2}, {4, 5}, {6}},
       [](DStream<int> a, DStream<int> b) {
         return a.transform_with(b, [](const Batch<int>& x, const Batch<int>& y, Time) {
           std::set<int> drop(y.begin(), y.end());
           std::vector<int> out;
           for (int v : x)
             if (!drop.contains(v)) out.push_back(v);
           return out;
         });
       },
       {{1, 3}, {}, {}}},
      {"sizes_and_time",
       {{1, 2, 3}, {}},
       {{9}, {8, 7}},
       [](DStream<int> a, DStream<int> b) {
         return a.transform_with(b, [](const Batch<int>& x, const Batch<int>& y, Time t) {
           return std::vector<int>{static_cast<int>(x.size()), static_cast<int>(y.size()),
                                   static_cast<int>(t.milliseconds())};
         });
       },
       {{3, 1, 1000}, {0, 2, 2000}}},
  });
  // Different element types on each side, and a third output type.
  using Tagged = std::pair<std::string, int>;
  test_operations<int, std::string, Tagged>({
      {"zip_in_order",
       {{1, 2, 3}},
       {{"a", "b"}},
       [](DStream<int> a, DStream<std::string> b) {
         return a.transform_with(b, [](const Batch<int>& x, const Batch<std::string>& y, Time) {
           auto xs = x.collect();
           auto ys = y.collect();
           std::vector<Tagged> out;
           for (std::size_t i = 0; i < std::min(xs.size(), ys.size()); ++i)
             out.emplace_back(ys[i], xs[i]);
           return out;
         });
       },
       {{{"a", 1}, {"b", 2}}}},
  });
}

// ---- computing the graph ----

// A node read by several outputs and operators computes once per batch.
TEST(Aggregate, SharedNodeComputesOnce) {
  rill::testing::Harness h{1s};
  auto in = h.input<int>({{1, 2, 3}, {4, 5}, {}});
  std::atomic<int> calls{0};
  auto shared = in.map([&calls](int x) {
    calls.fetch_add(1, std::memory_order_relaxed);
    return x * 2;
  });
  auto all = h.collect(shared);
  auto counted = h.collect(shared.count());
  auto evens = h.collect(shared.filter([](int x) { return x % 4 == 0; }));
  auto doubled = h.collect(shared.union_with(shared));
  auto summed = h.collect(shared.reduce([](int a, int b) { return a + b; }));
  h.run_batches(3);
  EXPECT_EQ(calls.load(), 5);
  EXPECT_EQ(all.batches(), (Batches<int>{{2, 4, 6}, {8, 10}, {}}));
  EXPECT_EQ(counted.batches(), (Batches<std::int64_t>{{3}, {2}, {0}}));
  EXPECT_EQ(evens.batches(), (Batches<int>{{4}, {8}, {}}));
  EXPECT_EQ(doubled.batches(), (Batches<int>{{2, 4, 6, 2, 4, 6}, {8, 10, 8, 10}, {}}));
  EXPECT_EQ(summed.batches(), (Batches<int>{{12}, {18}, {}}));
}

TEST(Aggregate, SharedNodeInsideAChainComputesOnce) {
  rill::testing::Harness h{rill_test::config(4)};
  auto in = h.input<int>({iota_vector(0, 100), iota_vector(100, 150)});
  std::atomic<int> first{0};
  std::atomic<int> second{0};
  auto head = in.map([&first](int x) {
    first.fetch_add(1, std::memory_order_relaxed);
    return x + 1;
  });
  auto middle = head.filter([](int x) { return x % 2 == 0; }).map([&second](int x) {
    second.fetch_add(1, std::memory_order_relaxed);
    return x / 2;
  });
  auto a = h.collect(middle.map([](int x) { return x * 10; }));
  auto b = h.collect(middle.count());
  auto c = h.collect(head.count());
  h.run_batches(2);
  EXPECT_EQ(first.load(), 150);
  EXPECT_EQ(second.load(), 75);
  EXPECT_EQ(b.batches(), (Batches<std::int64_t>{{50}, {25}}));
  EXPECT_EQ(c.batches(), (Batches<std::int64_t>{{100}, {50}}));
  ASSERT_EQ(a.batches().size(), 2u);
  EXPECT_EQ(a.batches()[0].front(), 10);
  EXPECT_EQ(a.batches()[1].back(), 750);
}

TEST(Aggregate, SharedShuffleAndTransformComputeOnce) {
  rill::testing::Harness h{rill_test::config(3)};
  auto in = h.input<std::string>({{"a", "b", "a", "c"}, {"b"}});
  std::atomic<int> mapped{0};
  std::atomic<int> reduced{0};
  std::atomic<int> transformed{0};
  auto counts = in.map([&mapped](const std::string& w) {
                    mapped.fetch_add(1, std::memory_order_relaxed);
                    return std::pair{w, 1};
                  }).reduce_by_key([&reduced](int x, int y) {
    reduced.fetch_add(1, std::memory_order_relaxed);
    return x + y;
  });
  auto keys = counts.transform([&transformed](const Batch<std::pair<std::string, int>>& b, Time) {
    transformed.fetch_add(1, std::memory_order_relaxed);
    return b.collect();
  });
  auto x = h.collect(counts);
  auto y = h.collect(counts.count());
  auto z = h.collect(counts.join(counts));
  auto k1 = h.collect(keys);
  auto k2 = h.collect(keys.map([](const auto& kv) { return kv.first; }));
  auto k3 = h.collect(keys.transform_with(keys, [](const auto& l, const auto& r, Time) {
    return std::vector<std::size_t>{l.size() + r.size()};
  }));
  h.run_batches(2);
  EXPECT_EQ(mapped.load(), 5);
  EXPECT_EQ(reduced.load(), 1);  // the two "a" records; all other keys have one record
  EXPECT_EQ(transformed.load(), 2);
  EXPECT_EQ(x.sorted_batches(),
            (Batches<std::pair<std::string, int>>{{{"a", 2}, {"b", 1}, {"c", 1}}, {{"b", 1}}}));
  EXPECT_EQ(y.batches(), (Batches<std::int64_t>{{3}, {1}}));
  EXPECT_EQ(z.batches()[1],
            (std::vector<std::pair<std::string, std::pair<int, int>>>{{"b", {1, 1}}}));
  EXPECT_EQ(k1.sorted_batches(), x.sorted_batches());
  EXPECT_EQ(k2.sorted_batches(), (Batches<std::string>{{"a", "b", "c"}, {"b"}}));
  EXPECT_EQ(k3.batches(), (Batches<std::size_t>{{6}, {2}}));
}

// Only what an output reaches runs.
TEST(Aggregate, UnreachedStreamsNeverCompute) {
  rill::testing::Harness h{1s};
  auto in = h.input<int>({{1, 2, 3}, {4}});
  std::atomic<int> dangling{0};
  std::atomic<int> dangling_keyed{0};
  std::atomic<int> dangling_transform{0};
  std::atomic<int> used{0};
  auto branch = in.map([&dangling](int x) {
    dangling.fetch_add(1, std::memory_order_relaxed);
    return x;
  });
  (void)branch.count();
  (void)branch.union_with(in).filter([](int) { return true; });
  (void)
      in.map([&dangling_keyed](int x) {
          dangling_keyed.fetch_add(1, std::memory_order_relaxed);
          return std::pair{x, x};
        }).group_by_key();
  (void)in.transform([&dangling_transform](const Batch<int>& b, Time) {
    dangling_transform.fetch_add(1, std::memory_order_relaxed);
    return b.collect();
  });
  auto out = h.collect(in.map([&used](int x) {
    used.fetch_add(1, std::memory_order_relaxed);
    return x;
  }));
  h.run_batches(3);
  EXPECT_EQ(dangling.load(), 0);
  EXPECT_EQ(dangling_keyed.load(), 0);
  EXPECT_EQ(dangling_transform.load(), 0);
  EXPECT_EQ(used.load(), 4);
  EXPECT_EQ(out.batches(), (Batches<int>{{1, 2, 3}, {4}, {}}));
}

// ---- determinism ----

namespace {

using Word = std::pair<std::string, int>;

/// Everything one pipeline run produced, batch by batch and in order (not sorted).
struct PipelineRun {
  Batches<Word> reduced;
  Batches<std::pair<std::string, std::vector<int>>> grouped;
  Batches<std::pair<std::string, std::int64_t>> counted;
  Batches<std::pair<std::string, std::pair<int, int>>> joined;
  Batches<std::pair<std::string, std::pair<int, std::optional<int>>>> left_joined;
  Batches<std::pair<std::string, std::pair<std::vector<int>, std::vector<int>>>> cogrouped;
  Batches<Word> repartitioned;
  Batches<Word> unioned;
  Batches<int> reduced_total;
  Batches<std::vector<Word>> partitions;
};

Batches<Word> random_words(std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> word(0, 59);
  std::uniform_int_distribution<int> value(0, 999);
  std::uniform_int_distribution<int> size(0, 400);
  Batches<Word> out(4);
  for (auto& batch : out) {
    const int n = size(gen);
    for (int i = 0; i < n; ++i)
      batch.emplace_back("w" + std::to_string(word(gen)), value(gen));
  }
  out[2].clear();  // an empty batch in the middle
  return out;
}

PipelineRun run_pipeline(const Batches<Word>& input, std::size_t parallelism, std::size_t threads) {
  rill::testing::Harness h{rill_test::config(parallelism, threads)};
  auto in = h.input<Word>(input);
  auto other = in.filter([](const Word& w) { return w.second % 3 == 0; }).map_values([](int v) {
    return -v;
  });
  auto plus = [](int a, int b) { return a + b; };
  auto reduced = h.collect(in.reduce_by_key(plus));
  auto grouped = h.collect(in.group_by_key(3));
  auto counted = h.collect(in.map([](const Word& w) { return w.first; }).count_by_value(5));
  auto joined = h.collect(in.join(other));
  auto left_joined = h.collect(in.left_outer_join(other, 2));
  auto cogrouped = h.collect(in.cogroup(other, 7));
  auto repartitioned = h.collect(in.repartition(3).reduce_by_key(plus));
  auto unioned = h.collect(in.union_with(other).reduce_by_key(plus, 4));
  auto total = h.collect(in.map([](const Word& w) { return w.second; }).reduce(plus));
  auto partitions = h.collect(
      in.group_by_key()
          .map_values([](const std::vector<int>& vs) { return static_cast<int>(vs.size()); })
          .glom());
  h.run_batches(input.size() + 1);
  return PipelineRun{reduced.batches(),       grouped.batches(),     counted.batches(),
                     joined.batches(),        left_joined.batches(), cogrouped.batches(),
                     repartitioned.batches(), unioned.batches(),     total.batches(),
                     partitions.batches()};
}

void expect_same(const PipelineRun& a, const PipelineRun& b) {
  EXPECT_EQ(a.reduced, b.reduced);
  EXPECT_EQ(a.grouped, b.grouped);
  EXPECT_EQ(a.counted, b.counted);
  EXPECT_EQ(a.joined, b.joined);
  EXPECT_EQ(a.left_joined, b.left_joined);
  EXPECT_EQ(a.cogrouped, b.cogrouped);
  EXPECT_EQ(a.repartitioned, b.repartitioned);
  EXPECT_EQ(a.unioned, b.unioned);
  EXPECT_EQ(a.reduced_total, b.reduced_total);
  EXPECT_EQ(a.partitions, b.partitions);
}

}  // namespace

TEST(Aggregate, SameInputTwiceGivesIdenticalBatches) {
  const auto input = random_words(20240611);
  const PipelineRun first = run_pipeline(input, 4, 2);
  const PipelineRun second = run_pipeline(input, 4, 2);
  ASSERT_EQ(first.reduced.size(), input.size() + 1);
  EXPECT_FALSE(first.joined[0].empty());
  EXPECT_TRUE(first.reduced[2].empty());
  expect_same(first, second);
}

// The number of worker threads does not change the result: only the partition count shapes it.
TEST(Aggregate, WorkerThreadCountDoesNotChangeBatches) {
  const auto input = random_words(7);
  const PipelineRun one_thread = run_pipeline(input, 4, 1);
  const PipelineRun two_threads = run_pipeline(input, 4, 2);
  const PipelineRun four_threads = run_pipeline(input, 4, 4);
  expect_same(one_thread, two_threads);
  expect_same(one_thread, four_threads);
}

// Results agree with a plain computation, and with each other across parallelisms (sorted).
TEST(Aggregate, PipelineMatchesAReferenceAtEveryParallelism) {
  const auto input = random_words(99);
  std::vector<std::map<std::string, int>> expected(input.size() + 1);
  for (std::size_t b = 0; b < input.size(); ++b) {
    for (const auto& [w, v] : input[b])
      expected[b][w] += v;
  }
  const PipelineRun base = run_pipeline(input, 1, 1);
  for (std::size_t p : {1u, 2u, 8u}) {
    SCOPED_TRACE("parallelism " + std::to_string(p));
    const PipelineRun run = run_pipeline(input, p, 2);
    ASSERT_EQ(run.reduced.size(), expected.size());
    for (std::size_t b = 0; b < expected.size(); ++b) {
      std::map<std::string, int> got(run.reduced[b].begin(), run.reduced[b].end());
      EXPECT_EQ(got.size(), run.reduced[b].size()) << "a key appears twice";
      EXPECT_EQ(got, expected[b]);
    }
    EXPECT_EQ(rill_test::sorted(run.grouped), rill_test::sorted(base.grouped));
    EXPECT_EQ(rill_test::sorted(run.joined), rill_test::sorted(base.joined));
    EXPECT_EQ(rill_test::sorted(run.left_joined), rill_test::sorted(base.left_joined));
    EXPECT_EQ(rill_test::sorted(run.cogrouped), rill_test::sorted(base.cogrouped));
    EXPECT_EQ(rill_test::sorted(run.unioned), rill_test::sorted(base.unioned));
    EXPECT_EQ(run.reduced_total, base.reduced_total);
  }
}
