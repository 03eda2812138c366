// Narrow operators: map, flat_map, filter, map_partitions, glom, repartition, union_with,
// map_values, flat_map_values, and chains of them. Sources cut a batch into `parallelism`
// contiguous slices (Spark's parallelize positions: [i*n/p, (i+1)*n/p)); narrow operators keep
// partitions and order.

#include <map>

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <numeric>
#include <ranges>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include <rill/testing.hpp>

#include "support/sequences.hpp"
#include "support/table.hpp"

using namespace std::chrono_literals;
using rill::DStream;
using rill_test::Batches;
using rill_test::Case;
using rill_test::Case2;
using rill_test::test_operations;

namespace {

using KV = std::pair<std::string, int>;

using rill_test::iota_vector;

// Keyed operators are constrained by rill::KeyValue: they do not exist on other streams.
template <class S>
concept HasMapValues = requires(S s) {
  s.map_values([](int x) { return x; });
};
template <class S>
concept HasFlatMapValues = requires(S s) {
  s.flat_map_values([](int x) { return std::vector<int>{x}; });
};
static_assert(HasMapValues<DStream<std::pair<int, int>>>);
static_assert(!HasMapValues<DStream<int>>);
static_assert(HasFlatMapValues<DStream<std::pair<int, int>>>);
static_assert(!HasFlatMapValues<DStream<std::vector<int>>>);

}  // namespace

TEST(Narrow, IntToIntTable) {
  test_operations<int, int>({
      {"map",
       {{1, 2, 3}, {}, {4}},
       [](DStream<int> s) { return s.map([](int x) { return x * 10; }); },
       {{10, 20, 30}, {}, {40}}},
      {"map_by_value_parameter",
       {{1, 2}, {3}},
       [](DStream<int> s) {
         return s.map([](int x) { return x + 1; }).map([](int x) { return -x; });
       },
       {{-2, -3}, {-4}}},
      {"filter",
       {{1, 2, 3, 4}, {5}, {}},
       [](DStream<int> s) { return s.filter([](int x) { return x % 2 == 0; }); },
       {{2, 4}, {}, {}}},
      {"filter_keeps_all",
       {{5, 3, 1}},
       [](DStream<int> s) { return s.filter([](int) { return true; }); },
       {{5, 3, 1}}},
      {"flat_map_vector",
       {{1, 2, 3}, {0}, {}},
       [](DStream<int> s) {
         return s.flat_map([](int x) { return std::vector<int>(static_cast<std::size_t>(x), x); });
       },
       {{1, 2, 2, 3, 3, 3}, {}, {}}},
      {"flat_map_iota_view",
       {{3, 1, 0, 2}},
       [](DStream<int> s) { return s.flat_map([](int x) { return std::views::iota(0, x); }); },
       {{0, 1, 2, 0, 0, 1}}},
      {"flat_map_transform_view",
       {{1, 3}},
       [](DStream<int> s) {
         return s.flat_map([](int x) {
           return std::views::iota(1, x + 1) | std::views::transform([](int i) { return i * i; });
         });
       },
       {{1, 1, 4, 9}}},
      {"flat_map_std_array",
       {{1, 2}, {7}},
       [](DStream<int> s) { return s.flat_map([](int x) {
                              return std::array<int, 2>{x, -x};
                            }); },
       {{1, -1, 2, -2}, {7, -7}}},
      {"flat_map_empty_ranges",
       {{1, 2, 3}},
       [](DStream<int> s) { return s.flat_map([](int) { return std::vector<int>{}; }); },
       {{}}},
      {"map_partitions_sizes_parallelism_2",
       {{1, 2, 3, 4, 5}, {}},
       [](DStream<int> s) {
         return s.map_partitions(
             [](std::span<const int> p) { return std::vector<int>{static_cast<int>(p.size())}; });
       },
       {{2, 3}, {0, 0}}},
      {"map_partitions_sums_parallelism_3",
       {{1, 2, 3, 4, 5, 6, 7}},
       [](DStream<int> s) {
         return s.map_partitions([](std::span<const int> p) {
           return std::vector<int>{std::accumulate(p.begin(), p.end(), 0)};
         });
       },
       {{3, 7, 18}},
       3},
      // Over a thousand records reach map_partitions from a fused flat_map, in several chunks.
      {"map_partitions_over_many_chunks",
       {{1500, 1, 2000}},
       [](DStream<int> s) {
         return s.flat_map([](int x) { return std::views::iota(0, x); })
             .map_partitions([](std::span<const int> p) {
               return std::vector<int>{static_cast<int>(p.size()), p.empty() ? -1 : p.back()};
             });
       },
       {{3501, 1999}},
       1},
      {"map_partitions_drops_everything",
       {{1, 2, 3}},
       [](DStream<int> s) {
         return s.map_partitions([](std::span<const int>) { return std::vector<int>{}; });
       },
       {{}}},
      {"map_partitions_reverses_each_partition",
       {{1, 2, 3, 4, 5, 6}},
       [](DStream<int> s) {
         return s.map_partitions(
             [](std::span<const int> p) { return std::vector<int>(p.rbegin(), p.rend()); });
       },
       {{3, 2, 1, 6, 5, 4}}},
      {"repartition_keeps_order",
       {{9, 8, 7, 6, 5, 4, 3}, {1}},
       [](DStream<int> s) { return s.repartition(3); },
       {{9, 8, 7, 6, 5, 4, 3}, {1}},
       4},
      {"repartition_then_partition_sizes",
       {{1, 2, 3, 4, 5}},
       [](DStream<int> s) {
         return s.repartition(3).map_partitions(
             [](std::span<const int> p) { return std::vector<int>{static_cast<int>(p.size())}; });
       },
       {{1, 2, 2}}},
      {"union_with_itself",
       {{1, 2}, {3}, {}},
       [](DStream<int> s) { return s.union_with(s.map([](int x) { return x + 100; })); },
       {{1, 2, 101, 102}, {3, 103}, {}}},
      {"chain",
       {{1, 2, 3, 4}, {5}},
       [](DStream<int> s) {
         return s.map([](int x) { return x * 3; })
             .filter([](int x) { return x % 2 == 1; })
             .flat_map([](int x) {
               return std::array<int, 2>{x, x + 1};
             })
             .map([](int x) { return x - 1; });
       },
       {{2, 3, 8, 9}, {14, 15}}},
      {"chain_through_repartition",
       {{1, 2, 3, 4, 5, 6}},
       [](DStream<int> s) {
         return s.map([](int x) { return x * 2; })
             .repartition(1)
             .filter([](int x) { return x > 4; })
             .map_partitions([](std::span<const int> p) {
               return std::vector<int>{static_cast<int>(p.size()), p.front(), p.back()};
             });
       },
       {{4, 6, 12}}},
  });
}

TEST(Narrow, TypeChangingTable) {
  test_operations<int, std::string>({
      {"map_to_string",
       {{1, 22}, {}, {333}},
       [](DStream<int> s) { return s.map([](int x) { return std::to_string(x); }); },
       {{"1", "22"}, {}, {"333"}}},
      {"flat_map_to_strings",
       {{2, 1}},
       [](DStream<int> s) {
         return s.flat_map(
             [](int x) { return std::vector<std::string>(static_cast<std::size_t>(x), "x"); });
       },
       {{"x", "x", "x"}}},
      {"map_partitions_to_string",
       {{1, 2, 3}},
       [](DStream<int> s) {
         return s.map_partitions([](std::span<const int> p) {
           std::string joined;
           for (int x : p)
             joined += std::to_string(x);
           return std::vector<std::string>{joined};
         });
       },
       {{"1", "23"}}},
  });
  // A string is a range of chars: flat_map over it yields characters.
  test_operations<std::string, char>({
      {"flat_map_string_to_chars",
       {{"ab", "", "c"}},
       [](DStream<std::string> s) { return s.flat_map([](const std::string& x) { return x; }); },
       {{'a', 'b', 'c'}}},
  });
}

TEST(Narrow, GlomShowsTheSourceSlices) {
  using G = std::vector<int>;
  test_operations<int, G>({
      {"parallelism_3",
       {{1, 2, 3, 4, 5, 6, 7}, {}},
       [](DStream<int> s) { return s.glom(); },
       {{G{1, 2}, G{3, 4}, G{5, 6, 7}}, {G{}, G{}, G{}}},
       3},
      {"parallelism_1", {{1, 2, 3}}, [](DStream<int> s) { return s.glom(); }, {{G{1, 2, 3}}}, 1},
      {"parallelism_64_two_records",
       {{1, 2}},
       [](DStream<int> s) { return s.glom().filter([](const G& p) { return !p.empty(); }); },
       {{G{1}, G{2}}},
       64},
      {"parallelism_8_fewer_records",
       {{1, 2, 3}},
       [](DStream<int> s) { return s.glom(); },
       {{G{}, G{}, G{1}, G{}, G{}, G{2}, G{}, G{3}}},
       8},
      {"after_filter_keeps_partitions",
       {{1, 2, 3, 4}},
       [](DStream<int> s) { return s.filter([](int x) { return x > 2; }).glom(); },
       {{G{}, G{3, 4}}}},
      {"repartition_3",
       {{1, 2, 3, 4, 5}},
       [](DStream<int> s) { return s.repartition(3).glom(); },
       {{G{1}, G{2, 3}, G{4, 5}}}},
      {"repartition_more_than_records",
       {{1, 2}},
       [](DStream<int> s) { return s.repartition(4).glom(); },
       {{G{}, G{1}, G{}, G{2}}}},
      {"repartition_1",
       {{1, 2, 3, 4, 5}},
       [](DStream<int> s) { return s.repartition(1).glom(); },
       {{G{1, 2, 3, 4, 5}}},
       4},
      {"flat_map_stays_in_its_partition",
       {{1, 2}},
       [](DStream<int> s) {
         return s.flat_map([](int x) { return std::views::iota(0, x * 2); }).glom();
       },
       {{G{0, 1}, G{0, 1, 2, 3}}}},
  });
}

TEST(Narrow, UnionTable) {
  using G = std::vector<int>;
  test_operations<int, int, int>({
      {"first_then_second",
       {{1, 2}, {3}, {}},
       {{10}, {}, {20, 30}},
       [](DStream<int> a, DStream<int> b) { return a.union_with(b); },
       {{1, 2, 10}, {3}, {20, 30}}},
      {"both_empty",
       {{}},
       {{}},
       [](DStream<int> a, DStream<int> b) { return a.union_with(b); },
       {{}}},
      {"three_way",
       {{1}, {2}},
       {{5}, {6}},
       [](DStream<int> a, DStream<int> b) {
         return a.union_with(b).union_with(a.map([](int x) { return -x; }));
       },
       {{1, 5, -1}, {2, 6, -2}}},
  });
  test_operations<int, int, G>({
      {"partitions_of_first_then_second",
       {{1, 2, 3}},
       {{10}},
       [](DStream<int> a, DStream<int> b) { return a.union_with(b).glom(); },
       {{G{1}, G{2, 3}, G{}, G{10}}}},
      {"partition_counts_add_up",
       {{1, 2, 3}},
       {{4, 5}},
       [](DStream<int> a, DStream<int> b) {
         return a.repartition(1).union_with(b.repartition(3)).glom();
       },
       {{G{1, 2, 3}, G{}, G{4}, G{5}}}},
  });
}

TEST(Narrow, UnionPartitionCount) {
  rill::testing::Harness h{rill_test::config(3)};
  auto a = h.input<int>({{1}});
  auto b = h.input<int>({{2}}).repartition(5);
  EXPECT_EQ(a.num_partitions(), 3u);
  EXPECT_EQ(b.num_partitions(), 5u);
  EXPECT_EQ(a.union_with(b).num_partitions(), 8u);
  EXPECT_EQ(a.map([](int x) { return x; }).num_partitions(), 3u);
  EXPECT_EQ(a.glom().num_partitions(), 3u);
}

TEST(Narrow, KeyValueTable) {
  test_operations<KV, KV>({
      {"map_values",
       {{{"a", 1}, {"b", 2}}, {}, {{"a", 3}}},
       [](DStream<KV> s) { return s.map_values([](int v) { return v * 2; }); },
       {{{"a", 2}, {"b", 4}}, {}, {{"a", 6}}}},
      {"flat_map_values_vector",
       {{{"a", 2}, {"b", 0}, {"c", 1}}},
       [](DStream<KV> s) {
         return s.flat_map_values(
             [](int v) { return std::vector<int>(static_cast<std::size_t>(v), v); });
       },
       {{{"a", 2}, {"a", 2}, {"c", 1}}}},
      {"flat_map_values_view",
       {{{"a", 3}, {"b", 1}}},
       [](DStream<KV> s) {
         return s.flat_map_values([](int v) { return std::views::iota(0, v); });
       },
       {{{"a", 0}, {"a", 1}, {"a", 2}, {"b", 0}}}},
      {"map_values_then_filter",
       {{{"a", 1}, {"b", 2}, {"c", 3}}},
       [](DStream<KV> s) {
         return s.map_values([](int v) { return v * v; }).filter([](const KV& kv) {
           return kv.second > 1;
         });
       },
       {{{"b", 4}, {"c", 9}}}},
  });
  using KS = std::pair<std::string, std::string>;
  test_operations<KV, KS>({
      {"map_values_changes_type",
       {{{"a", 1}, {"b", 22}}},
       [](DStream<KV> s) { return s.map_values([](int v) { return std::to_string(v); }); },
       {{{"a", "1"}, {"b", "22"}}}},
      {"flat_map_values_changes_type",
       {{{"a", 1}, {"b", 2}}},
       [](DStream<KV> s) {
         return s.flat_map_values([](int v) {
           return std::array<std::string, 2>{std::to_string(v), std::to_string(-v)};
         });
       },
       {{{"a", "1"}, {"a", "-1"}, {"b", "2"}, {"b", "-2"}}}},
  });
}

TEST(Narrow, SameResultAtEveryParallelism) {
  const Batches<int> input{iota_vector(0, 50), {}, iota_vector(50, 53)};
  auto op = [](DStream<int> s) {
    return s.filter([](int x) { return x % 3 != 0; })
        .flat_map([](int x) {
          return std::array<int, 2>{x, x * 100};
        })
        .map([](int x) { return x + 1; });
  };
  Batches<int> expected;
  for (const auto& batch : input) {
    std::vector<int> out;
    for (int x : batch) {
      if (x % 3 == 0) continue;
      out.push_back(x + 1);
      out.push_back(x * 100 + 1);
    }
    expected.push_back(out);
  }
  for (std::size_t p : {1u, 2u, 3u, 8u}) {
    SCOPED_TRACE("parallelism " + std::to_string(p));
    EXPECT_EQ((rill_test::run_operation<int, int>(input, op, p)), expected);
  }
}

// More records than one chunk (the fused chain hands records on 1024 at a time): order and
// content survive the chunking.
TEST(Narrow, LongChainKeepsOrderAcrossChunks) {
  rill::testing::Harness h{rill_test::config(4)};
  auto in = h.input<int>({iota_vector(0, 10000), iota_vector(10000, 13001)});
  auto out = h.collect(in.map([](int x) { return std::int64_t{x} * 3; })
                           .filter([](std::int64_t x) { return x % 2 == 0; })
                           .flat_map([](std::int64_t x) {
                             return std::vector<std::int64_t>{x, x + 1};
                           })
                           .map([](std::int64_t x) { return x - 1; }));
  auto sizes = h.collect(in.glom().map([](const std::vector<int>& p) { return p.size(); }));
  h.run_batches(2);
  Batches<std::int64_t> expected(2);
  for (int x = 0; x < 13001; ++x) {
    const std::int64_t y = std::int64_t{x} * 3;
    if (y % 2 != 0) continue;
    auto& b = expected[x < 10000 ? 0 : 1];
    b.push_back(y - 1);
    b.push_back(y);
  }
  EXPECT_EQ(out.batches(), expected);
  EXPECT_EQ(sizes.batches(),
            (Batches<std::size_t>{{2500, 2500, 2500, 2500}, {750, 750, 750, 751}}));
}

// map, filter, flat_map, map_values and flat_map_values return a StepDStream (a DStream that
// knows its node's type, so that chains fuse statically). Held as a DStream<T>, a stream can be
// reassigned step by step, e.g. in a loop; the chain then runs through the dynamic sink path
// and gives the same result.
TEST(Narrow, StepStreamsHeldAsDStreamsCanBeReassigned) {
  rill::testing::Harness h{rill_test::config(2)};
  auto in = h.input<int>({iota_vector(0, 3000)});
  DStream<int> s = in.map([](int x) { return x + 1; });
  for (int k : {2, 3, 5})
    s = s.filter([k](int x) { return x % k != 0; });
  s = s.flat_map([](int x) { return std::vector<int>{x, -x}; });
  auto out = h.collect(s);
  h.run_batches(1);
  std::vector<int> expected;
  for (int x = 1; x <= 3000; ++x) {
    if (x % 2 == 0 || x % 3 == 0 || x % 5 == 0) continue;
    expected.push_back(x);
    expected.push_back(-x);
  }
  auto got = out.batches();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], expected);
}

// A record a node holds for two consumers must not be moved from by either of them.
TEST(Narrow, SharedRecordsAreNotMovedFrom) {
  rill::testing::Harness h{1s};
  auto in = h.input<std::string>({{"alpha", "beta", "gamma"}});
  auto shared = in.map([](const std::string& s) { return s + "!"; });
  auto taken = h.collect(shared.map([](std::string s) {
    std::string out = std::move(s);
    out += "?";
    return out;
  }));
  auto kept = h.collect(shared);
  auto source = h.collect(in.filter([](std::string s) { return !s.empty(); }));
  auto source_again = h.collect(in);
  h.run_batches(1);
  EXPECT_EQ(taken.batches(), (Batches<std::string>{{"alpha!?", "beta!?", "gamma!?"}}));
  EXPECT_EQ(kept.batches(), (Batches<std::string>{{"alpha!", "beta!", "gamma!"}}));
  EXPECT_EQ(source.batches(), (Batches<std::string>{{"alpha", "beta", "gamma"}}));
  EXPECT_EQ(source_again.batches(), (Batches<std::string>{{"alpha", "beta", "gamma"}}));
}

TEST(Narrow, RepartitionZeroIsRejected) {
  rill::testing::Harness h{1s};
  auto in = h.input<int>({{1}});
  EXPECT_THROW((void)in.repartition(0), rill::InvalidArgument);
}

TEST(Narrow, UnionOfTwoContextsIsRejected) {
  rill::testing::Harness h1{1s};
  rill::testing::Harness h2{1s};
  auto a = h1.input<int>({{1}});
  auto b = h2.input<int>({{2}});
  EXPECT_THROW((void)a.union_with(b), rill::InvalidArgument);
}

TEST(Narrow, OutputTimesAreBatchTimes) {
  rill::testing::Harness h{1s};
  auto out = h.collect(h.input<int>({{1}}).map([](int x) { return x; }));
  h.run_batches(3);
  EXPECT_EQ(out.batches(), (Batches<int>{{1}, {}, {}}));
  EXPECT_EQ(out.times(),
            (std::vector<rill::Time>{rill::Time{1000}, rill::Time{2000}, rill::Time{3000}}));
}

// The element type of flat_map is the range's value type, not its reference: a proxy
// (std::vector<bool>'s) must not leak into a stream. Streams of bool itself are refused at
// compile time (batches hand out std::span<const T>, which std::vector<bool> cannot give), so
// the type is checked here and a stream of char runs.
static_assert(std::is_same_v<rill::detail::range_element_t<std::vector<bool>>, bool>);
static_assert(std::is_same_v<rill::detail::range_element_t<std::map<std::string, int>>,
                             std::pair<std::string, int>>);

TEST(Narrow, FlatMapUsesTheRangesValueType) {
  rill::testing::Harness h{1s};
  auto in = h.input<int>({{0, 1, 2}});
  auto bits = in.flat_map([](int x) { return std::vector<char>{x > 0, x > 1}; });
  auto pairs = in.flat_map([](int x) { return std::map<std::string, int>{{"k", x}}; });
  static_assert(std::is_same_v<decltype(pairs)::value_type, std::pair<std::string, int>>);
  auto out = h.collect(bits);
  auto pair_out = h.collect(pairs);
  h.run_batches(1);
  EXPECT_EQ(out.batches(), (Batches<char>{{0, 0, 1, 0, 1, 1}}));
  EXPECT_EQ(pair_out.batches(),
            (Batches<std::pair<std::string, int>>{{{"k", 0}, {"k", 1}, {"k", 2}}}));
}

// flat_map(rill::split_words) emits each word as it is found (SplitWords::each), and gives what
// the lambda returning split_words' vector gives, in order, for lines shared by two consumers
// (read-only) and owned by one.
TEST(Narrow, FlatMapSplitWordsMatchesTheVectorForm) {
  const Batches<std::string> lines{
      {"  a b\tc\r\n d  ", "", "   ", "one", "x  y"}, {}, {std::string(200, 'w') + " z"}};
  for (std::size_t p : {std::size_t{1}, std::size_t{3}}) {
    rill::testing::Harness h{rill_test::config(p)};
    auto in = h.input<std::string>(lines);
    auto direct = h.collect(in.flat_map(rill::split_words));
    auto by_vector =
        h.collect(in.flat_map([](const std::string& l) { return rill::split_words(l); }));
    auto owned = h.collect(in.map([](const std::string& l) { return l + " !"; })
                               .flat_map(rill::split_words)
                               .filter([](const std::string& w) { return w != "!"; }));
    h.run_batches(3);
    EXPECT_EQ(direct.batches(), by_vector.batches());
    EXPECT_EQ(direct.batches(), owned.batches());
    EXPECT_EQ(direct.batches(),
              (Batches<std::string>{
                  {"a", "b", "c", "d", "one", "x", "y"}, {}, {std::string(200, 'w'), "z"}}));
  }
}

// A flat_map function object with each(x, emit) is called through it: its elements are emitted
// one by one, and operator() is not called.
struct Digits {
  int* vectors_built;
  std::vector<int> operator()(int x) const {
    ++*vectors_built;
    std::vector<int> out;
    each(x, [&](int d) { out.push_back(d); });
    return out;
  }
  template <class Emit>
  void each(int x, Emit&& emit) const {
    for (; x > 0; x /= 10)
      emit(x % 10);
  }
};

TEST(Narrow, FlatMapCallsAFunctionObjectsEach) {
  int vectors_built = 0;
  rill::testing::Harness h{1s};
  auto in = h.input<int>({{123, 0, 45}});
  auto out = h.collect(in.flat_map(Digits{&vectors_built}).map([](int d) { return d * 2; }));
  h.run_batches(1);
  EXPECT_EQ(out.batches(), (Batches<int>{{6, 4, 2, 10, 8}}));
  EXPECT_EQ(vectors_built, 0);
}

// An exception thrown by an operator function on a worker thread fails the batch: run_batches
// rethrows it, after the earlier batches' outputs ran.
TEST(Narrow, ExceptionInMapFailsRunBatches) {
  rill::testing::Harness h{rill_test::config(4)};
  auto in = h.input<int>({{1, 2, 3, 4}, {5, 6, 66, 7}, {8}});
  auto out = h.collect(in.map([](int x) {
    if (x == 66) throw std::runtime_error("bad record 66");
    return x;
  }));
  try {
    h.run_batches(3);
    ADD_FAILURE() << "run_batches did not rethrow";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("bad record 66"), std::string::npos) << e.what();
  }
  EXPECT_EQ(out.batches(), (Batches<int>{{1, 2, 3, 4}}));
}
