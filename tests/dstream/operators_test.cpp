#include <gtest/gtest.h>
#include <rill/testing.hpp>

using namespace std::chrono_literals;

TEST(Operators, MapFilterCount) {
  rill::testing::Harness h{1s};
  auto in = h.input<int>({{1, 2, 3}, {}, {4}});
  auto out = h.collect(in.map([](int x) { return x * 10; }).filter([](int x) { return x != 20; }));
  auto counts = h.collect(in.count());
  h.run_batches(4);
  EXPECT_EQ(out.batches(), (std::vector<std::vector<int>>{{10, 30}, {}, {40}, {}}));
  EXPECT_EQ(counts.batches(), (std::vector<std::vector<std::int64_t>>{{3}, {0}, {1}, {0}}));
  EXPECT_EQ(out.times(), (std::vector<rill::Time>{rill::Time{1000}, rill::Time{2000},
                                                  rill::Time{3000}, rill::Time{4000}}));
}

TEST(Operators, WordCount) {
  rill::testing::Harness h{1s};
  auto in = h.input<std::string>({{"a b a", "b"}});
  auto out = h.collect(in.flat_map([](const std::string& l) { return rill::split_words(l); })
                           .map([](const std::string& w) {
                             return std::pair{w, 1L};
                           })
                           .reduce_by_key([](long a, long b) { return a + b; }));
  h.run_batches(1);
  EXPECT_EQ(out.sorted_batches()[0],
            (std::vector<std::pair<std::string, long>>{{"a", 2}, {"b", 2}}));
}
