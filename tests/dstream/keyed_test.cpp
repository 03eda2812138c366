// Keyed operators: reduce_by_key, group_by_key, combine_by_key, count_by_value, the join family
// and cogroup, with and without the trailing num_partitions. Their output order across
// partitions is unspecified, so most tables compare sorted batches; with num_partitions 1 the
// order is fixed (keys in first-appearance order: source partition, then position) and compared
// exactly. Grouped values always come in input order.

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <rill/testing.hpp>

#include "support/table.hpp"

using namespace std::chrono_literals;
using rill::DStream;
using rill_test::Batches;
using rill_test::Case;
using rill_test::Case2;
using rill_test::test_operations;

namespace {

using KV = std::pair<std::string, int>;
using KS = std::pair<std::string, std::string>;
using Group = std::pair<std::string, std::vector<int>>;
using OptI = std::optional<int>;
using OptS = std::optional<std::string>;

int plus(int a, int b) {
  return a + b;
}

constexpr std::size_t kParallelisms[] = {1, 2, 8};

template <class In1, class In2, class Out>
std::vector<Case2<In1, In2, Out>> at_every_parallelism(
    const std::vector<Case2<In1, In2, Out>>& cs) {
  std::vector<Case2<In1, In2, Out>> out;
  for (const auto& c : cs) {
    for (std::size_t p : kParallelisms) {
      auto copy = c;
      copy.parallelism = p;
      out.push_back(copy);
    }
  }
  return out;
}

/// Every case at parallelism 1, 2 and 8.
template <class In, class Out>
std::vector<Case<In, Out>> at_every_parallelism(const std::vector<Case<In, Out>>& cs) {
  std::vector<Case<In, Out>> out;
  for (const auto& c : cs) {
    for (std::size_t p : kParallelisms) {
      auto copy = c;
      copy.parallelism = p;
      out.push_back(copy);
    }
  }
  return out;
}

}  // namespace

TEST(Keyed, ReduceByKeyTable) {
  test_operations<KV, KV>(at_every_parallelism<KV, KV>({
      {"sum",
       {{{"a", 1}, {"b", 2}, {"a", 3}}, {}, {{"c", 5}, {"c", 5}}},
       [](DStream<KV> s) { return s.reduce_by_key(plus); },
       {{{"a", 4}, {"b", 2}}, {}, {{"c", 10}}},
       0,
       true},
      {"max",
       {{{"a", -1}, {"b", -7}, {"a", -3}, {"b", 4}}},
       [](DStream<KV> s) { return s.reduce_by_key([](int a, int b) { return std::max(a, b); }); },
       {{{"a", -1}, {"b", 4}}},
       0,
       true},
      {"single_key_many_values",
       {{{"k", 1}, {"k", 2}, {"k", 3}, {"k", 4}, {"k", 5}, {"k", 6}, {"k", 7}, {"k", 8}, {"k", 9}}},
       [](DStream<KV> s) { return s.reduce_by_key(plus); },
       {{{"k", 45}}},
       0,
       true},
      {"one_output_partition",
       {{{"a", 1}, {"b", 2}, {"a", 3}, {"c", 4}}},
       [](DStream<KV> s) { return s.reduce_by_key(plus, 1); },
       {{{"a", 4}, {"b", 2}, {"c", 4}}},
       0,
       true},
      {"more_partitions_than_keys",
       {{{"a", 1}, {"b", 2}, {"a", 3}}},
       [](DStream<KV> s) { return s.reduce_by_key(plus, 16); },
       {{{"a", 4}, {"b", 2}}},
       0,
       true},
      {"keys_differing_only_in_case_and_empty_key",
       {{{"A", 1}, {"a", 2}, {"", 3}, {"a", 4}, {"", 5}}},
       [](DStream<KV> s) { return s.reduce_by_key(plus); },
       {{{"", 8}, {"A", 1}, {"a", 6}}},
       0,
       true},
  }));
}

// With one output partition the order is fixed: keys in first-appearance order, source partition
// by source partition.
TEST(Keyed, OnePartitionOrderIsFirstAppearance) {
  test_operations<KV, KV>({
      // parallelism 2: source partitions {b, a} and {c, a}.
      {"reduce_by_key_p2",
       {{{"b", 1}, {"a", 1}, {"c", 1}, {"a", 1}}},
       [](DStream<KV> s) { return s.reduce_by_key(plus, 1); },
       {{{"b", 1}, {"a", 2}, {"c", 1}}}},
      // parallelism 4: source partitions {d}, {c}, {b}, {a, d}.
      {"reduce_by_key_p4",
       {{{"d", 1}, {"c", 1}, {"b", 1}, {"a", 1}, {"d", 1}}},
       [](DStream<KV> s) { return s.reduce_by_key(plus, 1); },
       {{{"d", 2}, {"c", 1}, {"b", 1}, {"a", 1}}},
       4},
  });
  test_operations<KV, Group>({
      {"group_by_key_p2",
       {{{"z", 1}, {"y", 2}, {"x", 3}, {"y", 4}, {"z", 5}}},
       [](DStream<KV> s) { return s.group_by_key(1); },
       {{{"z", {1, 5}}, {"y", {2, 4}}, {"x", {3}}}}},
  });
  test_operations<std::string, std::pair<std::string, std::int64_t>>({
      {"count_by_value_p2",
       {{"q", "p", "q", "r"}},
       [](DStream<std::string> s) { return s.count_by_value(1); },
       {{{"q", 2}, {"p", 1}, {"r", 1}}}},
  });
}

TEST(Keyed, GroupByKeyTable) {
  test_operations<KV, Group>(at_every_parallelism<KV, Group>({
      {"values_in_input_order",
       {{{"a", 1}, {"b", 2}, {"a", 3}, {"a", 4}, {"b", 5}}, {}, {{"a", 9}, {"a", 8}}},
       [](DStream<KV> s) { return s.group_by_key(); },
       {{{"a", {1, 3, 4}}, {"b", {2, 5}}}, {}, {{"a", {9, 8}}}},
       0,
       true},
      {"descending_values_stay_descending",
       {{{"k", 9}, {"j", 8}, {"k", 7}, {"j", 6}, {"k", 5}, {"j", 4}, {"k", 3}, {"j", 2}, {"k", 1}}},
       [](DStream<KV> s) { return s.group_by_key(3); },
       {{{"j", {8, 6, 4, 2}}, {"k", {9, 7, 5, 3, 1}}}},
       0,
       true},
      {"duplicate_values_kept",
       {{{"a", 1}, {"a", 1}, {"a", 1}}},
       [](DStream<KV> s) { return s.group_by_key(); },
       {{{"a", {1, 1, 1}}}},
       0,
       true},
  }));
}

TEST(Keyed, CombineByKeyAverage) {
  using KD = std::pair<std::string, double>;
  using SumCount = std::pair<double, int>;
  auto average = [](DStream<KD> s) {
    return s
        .combine_by_key(
            [](double v) {
              return SumCount{v, 1};
            },
            [](SumCount c, double v) {
              return SumCount{c.first + v, c.second + 1};
            },
            [](SumCount a, SumCount b) {
              return SumCount{a.first + b.first, a.second + b.second};
            })
        .map_values([](const SumCount& c) { return c.first / c.second; });
  };
  test_operations<KD, KD>(at_every_parallelism<KD, KD>({
      {"average",
       {{{"a", 1.0}, {"b", 4.0}, {"a", 2.0}, {"a", 6.0}}, {}, {{"b", 0.5}}},
       average,
       {{{"a", 3.0}, {"b", 4.0}}, {}, {{"b", 0.5}}},
       0,
       true},
  }));
  // The combiner type may differ from the value type and come out as it is.
  using KC = std::pair<std::string, SumCount>;
  test_operations<KD, KC>(at_every_parallelism<KD, KC>({
      {"sum_and_count_with_partitions",
       {{{"x", 1.5}, {"y", 2.0}, {"x", 2.5}}},
       [](DStream<KD> s) {
         return s.combine_by_key(
             [](double v) {
               return SumCount{v, 1};
             },
             [](SumCount c, double v) {
               return SumCount{c.first + v, c.second + 1};
             },
             [](SumCount a, SumCount b) {
               return SumCount{a.first + b.first, a.second + b.second};
             },
             5);
       },
       {{{"x", {4.0, 2}}, {"y", {2.0, 1}}}},
       0,
       true},
  }));
}

TEST(Keyed, CountByValueTable) {
  using Counted = std::pair<std::string, std::int64_t>;
  test_operations<std::string, Counted>(at_every_parallelism<std::string, Counted>({
      {"counts",
       {{"x", "y", "x"}, {}, {"z"}},
       [](DStream<std::string> s) { return s.count_by_value(); },
       {{{"x", 2}, {"y", 1}}, {}, {{"z", 1}}},
       0,
       true},
      {"with_partitions",
       {{"x", "x", "x", "y", "y", "w"}},
       [](DStream<std::string> s) { return s.count_by_value(3); },
       {{{"w", 1}, {"x", 3}, {"y", 2}}},
       0,
       true},
  }));
  using CountedInt = std::pair<int, std::int64_t>;
  test_operations<int, CountedInt>(at_every_parallelism<int, CountedInt>({
      {"int_values",
       {{3, 1, 3, 3, 2, 1}},
       [](DStream<int> s) { return s.count_by_value(); },
       {{{1, 2}, {2, 1}, {3, 3}}},
       0,
       true},
  }));
}

namespace {
// Left (a1, b2, a3 | d4 | -) and right (ax, cy, az | - | ew) inputs of the join tables.
const Batches<KV> kLeft{{{"a", 1}, {"b", 2}, {"a", 3}}, {{"d", 4}}, {}};
const Batches<KS> kRight{{{"a", "x"}, {"c", "y"}, {"a", "z"}}, {}, {{"e", "w"}}};
}  // namespace

TEST(Keyed, JoinTable) {
  using J = std::pair<std::string, std::pair<int, std::string>>;
  test_operations<KV, KS, J>(at_every_parallelism<KV, KS, J>({
      {"inner",
       kLeft,
       kRight,
       [](DStream<KV> a, DStream<KS> b) { return a.join(b); },
       {{{"a", {1, "x"}}, {"a", {1, "z"}}, {"a", {3, "x"}}, {"a", {3, "z"}}}, {}, {}},
       0,
       true},
      {"inner_with_partitions",
       kLeft,
       kRight,
       [](DStream<KV> a, DStream<KS> b) { return a.join(b, 3); },
       {{{"a", {1, "x"}}, {"a", {1, "z"}}, {"a", {3, "x"}}, {"a", {3, "z"}}}, {}, {}},
       0,
       true},
      // One output partition: the pairs of a key in value order (left-major).
      {"inner_one_partition_order",
       kLeft,
       kRight,
       [](DStream<KV> a, DStream<KS> b) { return a.join(b, 1); },
       {{{"a", {1, "x"}}, {"a", {1, "z"}}, {"a", {3, "x"}}, {"a", {3, "z"}}}, {}, {}}},
  }));
}

TEST(Keyed, LeftOuterJoinTable) {
  using J = std::pair<std::string, std::pair<int, OptS>>;
  test_operations<KV, KS, J>(at_every_parallelism<KV, KS, J>({
      {"left_outer",
       kLeft,
       kRight,
       [](DStream<KV> a, DStream<KS> b) { return a.left_outer_join(b); },
       {{{"a", {1, "x"}}, {"a", {1, "z"}}, {"a", {3, "x"}}, {"a", {3, "z"}}, {"b", {2, {}}}},
        {{"d", {4, {}}}},
        {}},
       0,
       true},
      {"left_outer_one_partition_order",
       kLeft,
       kRight,
       [](DStream<KV> a, DStream<KS> b) { return a.left_outer_join(b, 1); },
       {{{"a", {1, "x"}}, {"a", {1, "z"}}, {"a", {3, "x"}}, {"a", {3, "z"}}, {"b", {2, {}}}},
        {{"d", {4, {}}}},
        {}}},
  }));
}

TEST(Keyed, RightOuterJoinTable) {
  using J = std::pair<std::string, std::pair<OptI, std::string>>;
  test_operations<KV, KS, J>(at_every_parallelism<KV, KS, J>({
      {"right_outer",
       kLeft,
       kRight,
       [](DStream<KV> a, DStream<KS> b) { return a.right_outer_join(b, 4); },
       {{{"a", {1, "x"}}, {"a", {1, "z"}}, {"a", {3, "x"}}, {"a", {3, "z"}}, {"c", {{}, "y"}}},
        {},
        {{"e", {{}, "w"}}}},
       0,
       true},
  }));
}

TEST(Keyed, FullOuterJoinTable) {
  using J = std::pair<std::string, std::pair<OptI, OptS>>;
  test_operations<KV, KS, J>(at_every_parallelism<KV, KS, J>({
      {"full_outer",
       kLeft,
       kRight,
       [](DStream<KV> a, DStream<KS> b) { return a.full_outer_join(b); },
       {{{"a", {1, "x"}},
         {"a", {1, "z"}},
         {"a", {3, "x"}},
         {"a", {3, "z"}},
         {"b", {2, {}}},
         {"c", {{}, "y"}}},
        {{"d", {4, {}}}},
        {{"e", {{}, "w"}}}},
       0,
       true},
      // Left keys first, in first-appearance order, then keys only the right stream has.
      {"full_outer_one_partition_order",
       kLeft,
       kRight,
       [](DStream<KV> a, DStream<KS> b) { return a.full_outer_join(b, 1); },
       {{{"a", {1, "x"}},
         {"a", {1, "z"}},
         {"a", {3, "x"}},
         {"a", {3, "z"}},
         {"b", {2, {}}},
         {"c", {{}, "y"}}},
        {{"d", {4, {}}}},
        {{"e", {{}, "w"}}}}},
  }));
}

TEST(Keyed, CogroupTable) {
  using G = std::pair<std::string, std::pair<std::vector<int>, std::vector<std::string>>>;
  test_operations<KV, KS, G>(at_every_parallelism<KV, KS, G>({
      {"cogroup",
       kLeft,
       kRight,
       [](DStream<KV> a, DStream<KS> b) { return a.cogroup(b); },
       {{{"a", {{1, 3}, {"x", "z"}}}, {"b", {{2}, {}}}, {"c", {{}, {"y"}}}},
        {{"d", {{4}, {}}}},
        {{"e", {{}, {"w"}}}}},
       0,
       true},
      {"cogroup_one_partition_order",
       kLeft,
       kRight,
       [](DStream<KV> a, DStream<KS> b) { return a.cogroup(b, 1); },
       {{{"a", {{1, 3}, {"x", "z"}}}, {"b", {{2}, {}}}, {"c", {{}, {"y"}}}},
        {{"d", {{4}, {}}}},
        {{"e", {{}, {"w"}}}}}},
  }));
}

// Joining a stream with itself (one node read twice by the shuffle).
TEST(Keyed, SelfJoinAndSelfCogroup) {
  using J = std::pair<std::string, std::pair<int, int>>;
  test_operations<KV, J>(at_every_parallelism<KV, J>({
      {"self_join",
       {{{"a", 1}, {"b", 2}, {"a", 3}}},
       [](DStream<KV> s) { return s.join(s); },
       {{{"a", {1, 1}}, {"a", {1, 3}}, {"a", {3, 1}}, {"a", {3, 3}}, {"b", {2, 2}}}},
       0,
       true},
  }));
  using G = std::pair<std::string, std::pair<std::vector<int>, std::vector<int>>>;
  test_operations<KV, G>(at_every_parallelism<KV, G>({
      {"self_cogroup",
       {{{"a", 1}, {"b", 2}, {"a", 3}}},
       [](DStream<KV> s) { return s.cogroup(s.map_values([](int v) { return -v; })); },
       {{{"a", {{1, 3}, {-1, -3}}}, {"b", {{2}, {-2}}}}},
       0,
       true},
  }));
}

TEST(Keyed, EmptyBatchesGiveEmptyOutputs) {
  const Batches<KV> none{{}, {}};
  const Batches<KS> none_s{{}, {}};
  for (std::size_t p : kParallelisms) {
    SCOPED_TRACE("parallelism " + std::to_string(p));
    rill::testing::Harness h{rill_test::config(p)};
    auto a = h.input<KV>(none);
    auto b = h.input<KS>(none_s);
    auto reduced = h.collect(a.reduce_by_key(plus));
    auto grouped = h.collect(a.group_by_key(3));
    auto counted = h.collect(a.count_by_value());
    auto joined = h.collect(a.join(b));
    auto full = h.collect(a.full_outer_join(b, 2));
    auto cogrouped = h.collect(a.cogroup(b));
    h.run_batches(3);
    EXPECT_EQ(reduced.batches().size(), 3u);
    for (const auto& batch : reduced.batches())
      EXPECT_TRUE(batch.empty());
    for (const auto& batch : grouped.batches())
      EXPECT_TRUE(batch.empty());
    for (const auto& batch : counted.batches())
      EXPECT_TRUE(batch.empty());
    for (const auto& batch : joined.batches())
      EXPECT_TRUE(batch.empty());
    for (const auto& batch : full.batches())
      EXPECT_TRUE(batch.empty());
    for (const auto& batch : cogrouped.batches())
      EXPECT_TRUE(batch.empty());
    EXPECT_EQ(cogrouped.times(),
              (std::vector<rill::Time>{rill::Time{1000}, rill::Time{2000}, rill::Time{3000}}));
  }
}

TEST(Keyed, JoinWithOneSideEmpty) {
  const Batches<KV> left{{{"a", 1}, {"b", 2}}};
  const Batches<KS> right{{}};
  using Inner = std::pair<std::string, std::pair<int, std::string>>;
  using Left = std::pair<std::string, std::pair<int, OptS>>;
  using Right = std::pair<std::string, std::pair<OptI, std::string>>;
  EXPECT_EQ((rill_test::run_operation2<Inner, KV, KS>(
                left, right, [](DStream<KV> a, DStream<KS> b) { return a.join(b); })),
            (Batches<Inner>{{}}));
  EXPECT_EQ(rill_test::sorted(rill_test::run_operation2<Left, KV, KS>(
                left, right, [](DStream<KV> a, DStream<KS> b) { return a.left_outer_join(b); })),
            (Batches<Left>{{{"a", {1, {}}}, {"b", {2, {}}}}}));
  EXPECT_EQ((rill_test::run_operation2<Right, KV, KS>(
                left, right, [](DStream<KV> a, DStream<KS> b) { return a.right_outer_join(b); })),
            (Batches<Right>{{}}));
}

TEST(Keyed, NumPartitionsOfKeyedStreams) {
  rill::testing::Harness h{rill_test::config(8)};
  auto a = h.input<KV>({});
  auto b = h.input<KS>({});
  EXPECT_EQ(a.reduce_by_key(plus).num_partitions(), 8u);
  EXPECT_EQ(a.reduce_by_key(plus, 5).num_partitions(), 5u);
  EXPECT_EQ(a.group_by_key().num_partitions(), 8u);
  EXPECT_EQ(a.group_by_key(1).num_partitions(), 1u);
  EXPECT_EQ(a.map([](const KV& kv) { return kv.first; }).count_by_value(3).num_partitions(), 3u);
  EXPECT_EQ(a.join(b).num_partitions(), 8u);
  EXPECT_EQ(a.join(b, 2).num_partitions(), 2u);
  EXPECT_EQ(a.left_outer_join(b, 7).num_partitions(), 7u);
  EXPECT_EQ(a.right_outer_join(b, 6).num_partitions(), 6u);
  EXPECT_EQ(a.full_outer_join(b, 4).num_partitions(), 4u);
  EXPECT_EQ(a.cogroup(b, 9).num_partitions(), 9u);
}

// Many keys over few partitions: every key lands in exactly one partition, the same one in
// every batch and for every operator with the same partition count, and the sums are right.
TEST(Keyed, ManyKeysAreHashPartitionedConsistently) {
  constexpr int kKeys = 500;
  Batches<std::pair<int, int>> input(3);
  for (int b = 0; b < 3; ++b) {
    for (int i = 0; i < 3 * kKeys; ++i)
      input[static_cast<std::size_t>(b)].push_back({(i * 7 + b) % kKeys, i});
  }
  rill::testing::Harness h{rill_test::config(8)};
  auto in = h.input<std::pair<int, int>>(input);
  std::vector<std::map<int, std::size_t>> reduce_owner;  // per batch: key -> partition
  std::vector<std::map<int, std::size_t>> group_owner;
  std::vector<std::map<int, int>> sums;
  std::vector<std::size_t> reduce_parts;
  in.reduce_by_key(plus, 3).foreach_batch(
      [&](const rill::Batch<std::pair<int, int>>& batch, rill::Time) {
        reduce_parts.push_back(batch.num_partitions());
        auto& owner = reduce_owner.emplace_back();
        auto& sum = sums.emplace_back();
        for (std::size_t p = 0; p < batch.num_partitions(); ++p) {
          for (const auto& [k, v] : batch.partition(p)) {
            EXPECT_TRUE(owner.emplace(k, p).second) << "key " << k << " appears twice";
            sum[k] = v;
          }
        }
      });
  in.group_by_key(3).foreach_batch(
      [&](const rill::Batch<std::pair<int, std::vector<int>>>& batch, rill::Time) {
        auto& owner = group_owner.emplace_back();
        for (std::size_t p = 0; p < batch.num_partitions(); ++p) {
          for (const auto& kv : batch.partition(p))
            owner.emplace(kv.first, p);
        }
      });
  h.run_batches(3);
  ASSERT_EQ(reduce_owner.size(), 3u);
  ASSERT_EQ(group_owner.size(), 3u);
  EXPECT_EQ(reduce_parts, (std::vector<std::size_t>{3, 3, 3}));
  for (std::size_t b = 0; b < 3; ++b) {
    std::map<int, int> expected;
    for (const auto& [k, v] : input[b])
      expected[k] += v;
    EXPECT_EQ(sums[b], expected) << "batch " << b;
    EXPECT_EQ(reduce_owner[b].size(), static_cast<std::size_t>(kKeys));
    EXPECT_EQ(reduce_owner[b], reduce_owner[0]) << "a key moved partition in batch " << b;
    EXPECT_EQ(group_owner[b], reduce_owner[0]) << "group_by_key partitions differently";
  }
  // The keys spread over all three partitions.
  std::set<std::size_t> used;
  for (const auto& [k, p] : reduce_owner[0])
    used.insert(p);
  EXPECT_EQ(used.size(), 3u);
}

// String keys over several partitions: the map side hashes each key once, for its partition and
// its table (Prehashed); the sums and the partition of every key are those of a plain count.
TEST(Keyed, StringKeysAreCountedOncePerPartition) {
  Batches<std::pair<std::string, int>> input(2);
  for (int i = 0; i < 6000; ++i)
    input[static_cast<std::size_t>(i % 2)].push_back({"key" + std::to_string(i * 31 % 700), i});
  for (std::size_t p : {std::size_t{1}, std::size_t{2}, std::size_t{4}}) {
    SCOPED_TRACE("parallelism " + std::to_string(p));
    rill::testing::Harness h{rill_test::config(p)};
    auto in = h.input<std::pair<std::string, int>>(input);
    std::vector<std::map<std::string, std::pair<int, std::size_t>>> got;  // key -> (sum, part)
    in.reduce_by_key(plus, 3).foreach_batch(
        [&](const rill::Batch<std::pair<std::string, int>>& batch, rill::Time) {
          auto& sums = got.emplace_back();
          for (std::size_t q = 0; q < batch.num_partitions(); ++q) {
            for (const auto& [k, v] : batch.partition(q)) {
              EXPECT_TRUE(sums.emplace(k, std::pair{v, q}).second) << k << " appears twice";
              EXPECT_EQ(q, rill::detail::partition_of(k, 3)) << k;
            }
          }
        });
    h.run_batches(2);
    ASSERT_EQ(got.size(), 2u);
    for (std::size_t b = 0; b < 2; ++b) {
      std::map<std::string, int> expected;
      for (const auto& [k, v] : input[b])
        expected[k] += v;
      ASSERT_EQ(got[b].size(), expected.size());
      for (const auto& [k, sum] : expected)
        EXPECT_EQ(got[b][k].first, sum) << k;
    }
  }
}

// Large batches at several parallelisms: a source partition whose first 4096 records mostly
// have keys of their own only routes the rest to the reduce side; one whose keys repeat
// combines on the map side. Either way the sums, the grouped values (in input order) and each
// partition's key order (first appearance: source partition, then position) are the model's.
TEST(Keyed, RoutedAndCombinedShufflesGiveTheModelsOutput) {
  constexpr std::size_t kPartitions = 3;
  Batches<std::pair<int, int>> input(3);
  for (int i = 0; i < 20'000; ++i) {
    input[0].push_back({(i * 7919) % 15'000, i});     // mostly distinct: routed
    input[1].push_back({i % 50, i});                  // 50 keys: combined
    input[2].push_back({i < 6000 ? i : i % 300, i});  // distinct first, then repeats: routed
  }
  for (std::size_t p : {std::size_t{1}, std::size_t{2}, std::size_t{4}}) {
    SCOPED_TRACE("parallelism " + std::to_string(p));
    rill::testing::Harness h{rill_test::config(p)};
    auto in = h.input<std::pair<int, int>>(input);
    std::vector<std::vector<std::vector<std::pair<int, int>>>> sums;  // batch, partition
    std::vector<std::vector<std::vector<std::pair<int, std::vector<int>>>>> groups;
    in.reduce_by_key(plus, kPartitions)
        .foreach_batch([&](const rill::Batch<std::pair<int, int>>& b, rill::Time) {
          auto& parts = sums.emplace_back();
          for (std::size_t q = 0; q < b.num_partitions(); ++q)
            parts.emplace_back(b.partition(q).begin(), b.partition(q).end());
        });
    in.group_by_key(kPartitions)
        .foreach_batch([&](const rill::Batch<std::pair<int, std::vector<int>>>& b, rill::Time) {
          auto& parts = groups.emplace_back();
          for (std::size_t q = 0; q < b.num_partitions(); ++q)
            parts.emplace_back(b.partition(q).begin(), b.partition(q).end());
        });
    h.run_batches(3);
    ASSERT_EQ(sums.size(), 3u);
    ASSERT_EQ(groups.size(), 3u);
    for (std::size_t b = 0; b < 3; ++b) {
      // The model: the batch is read in order (sources are contiguous slices of it), each key
      // listed in its partition where it first appears.
      std::vector<std::vector<std::pair<int, int>>> want_sums(kPartitions);
      std::vector<std::vector<std::pair<int, std::vector<int>>>> want_groups(kPartitions);
      std::map<int, std::size_t> index;  // key -> position in its partition's list
      for (const auto& [k, v] : input[b]) {
        const std::size_t q = rill::detail::partition_of(k, kPartitions);
        auto [it, fresh] = index.emplace(k, want_sums[q].size());
        if (fresh) {
          want_sums[q].push_back({k, 0});
          want_groups[q].push_back({k, {}});
        }
        want_sums[q][it->second].second += v;
        want_groups[q][it->second].second.push_back(v);
      }
      EXPECT_EQ(sums[b], want_sums) << "batch " << b;
      EXPECT_EQ(groups[b], want_groups) << "batch " << b;
    }
  }
}

// Grouped values keep input order (source partition, then position), whatever the parallelism
// and the partition count, also after a repartition upstream.
TEST(Keyed, GroupValuesInInputOrderAtScale) {
  Batches<std::pair<int, int>> input(2);
  for (int i = 0; i < 300; ++i)
    input[static_cast<std::size_t>(i / 150)].push_back({i % 7, i});
  for (std::size_t p : kParallelisms) {
    for (std::size_t n : {std::size_t{1}, std::size_t{3}, std::size_t{16}}) {
      SCOPED_TRACE("parallelism " + std::to_string(p) + ", partitions " + std::to_string(n));
      rill::testing::Harness h{rill_test::config(p)};
      auto in = h.input<std::pair<int, int>>(input);
      auto grouped = h.collect(in.group_by_key(n));
      auto regrouped = h.collect(in.repartition(5).group_by_key(n));
      auto cogrouped = h.collect(in.cogroup(in.map_values([](int v) { return -v; }), n));
      h.run_batches(2);
      const auto grouped_batches = grouped.batches();
      const auto regrouped_batches = regrouped.batches();
      const auto cogrouped_batches = cogrouped.batches();
      ASSERT_EQ(grouped_batches.size(), 2u);
      ASSERT_EQ(regrouped_batches.size(), 2u);
      ASSERT_EQ(cogrouped_batches.size(), 2u);
      for (std::size_t b = 0; b < 2; ++b) {
        std::map<int, std::vector<int>> expected;
        for (const auto& [k, v] : input[b])
          expected[k].push_back(v);
        std::map<int, std::vector<int>> got(grouped_batches[b].begin(), grouped_batches[b].end());
        EXPECT_EQ(got, expected);
        std::map<int, std::vector<int>> got_re(regrouped_batches[b].begin(),
                                               regrouped_batches[b].end());
        EXPECT_EQ(got_re, expected);
        ASSERT_EQ(cogrouped_batches[b].size(), expected.size());
        for (const auto& [k, both] : cogrouped_batches[b]) {
          EXPECT_EQ(both.first, expected[k]);
          std::vector<int> negated;
          for (int v : expected[k])
            negated.push_back(-v);
          EXPECT_EQ(both.second, negated);
        }
      }
    }
  }
}

// Keyed operators chained: a word count followed by a join with a second keyed stream.
TEST(Keyed, ChainedShuffles) {
  rill::testing::Harness h{rill_test::config(4)};
  auto words = h.input<std::string>({{"a b a", "c b a"}, {"d"}});
  auto labels = h.input<KS>({{{"a", "first"}, {"c", "third"}}, {{"d", "fourth"}}});
  auto counts = words.flat_map([](const std::string& l) { return rill::split_words(l); })
                    .map([](const std::string& w) {
                      return KV{w, 1};
                    })
                    .reduce_by_key(plus, 3);
  auto joined = h.collect(counts.join(labels, 2).map(
      [](const auto& kv) { return kv.second.second + "=" + std::to_string(kv.second.first); }));
  auto totals = h.collect(counts.map([](const KV& kv) {
                                  return KV{"all", kv.second};
                                })
                              .reduce_by_key(plus));
  h.run_batches(2);
  EXPECT_EQ(joined.sorted_batches(), (Batches<std::string>{{"first=3", "third=1"}, {"fourth=1"}}));
  EXPECT_EQ(totals.batches(), (Batches<KV>{{{"all", 6}}, {{"all", 1}}}));
}

// An exception in a reduce function (inside the shuffle) fails the batch and reaches run_batches.
TEST(Keyed, ExceptionInReduceFailsRunBatches) {
  rill::testing::Harness h{rill_test::config(2)};
  auto in = h.input<KV>({{{"a", 1}, {"a", 2}}, {{"b", -1}, {"b", 1}}});
  auto out = h.collect(in.reduce_by_key([](int x, int y) {
    if (x < 0 || y < 0) throw std::invalid_argument("negative value");
    return x + y;
  }));
  EXPECT_THROW(h.run_batches(2), std::invalid_argument);
  EXPECT_EQ(out.batches(), (Batches<KV>{{{"a", 3}}}));
}
