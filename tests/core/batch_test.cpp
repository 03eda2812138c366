#include <gtest/gtest.h>
#include <rill/rill.hpp>

TEST(Batch, PartitionsIterationAndCollect) {
  const rill::Batch<int> b({{1, 2}, {}, {3}, {}});
  EXPECT_EQ(b.size(), 3u);
  EXPECT_FALSE(b.empty());
  EXPECT_EQ(b.num_partitions(), 4u);
  EXPECT_EQ(b.partition(0).size(), 2u);
  EXPECT_TRUE(b.partition(1).empty());
  std::vector<int> seen(b.begin(), b.end());
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(b.collect(), seen);
  EXPECT_THROW((void)b.partition(4), std::out_of_range);
}

TEST(Batch, EmptyBatch) {
  const rill::Batch<int> none({{}, {}});
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.begin(), none.end());
  const rill::Batch<int> zero;
  EXPECT_EQ(zero.num_partitions(), 0u);
  EXPECT_TRUE(zero.collect().empty());
}

TEST(SplitWords, OnWhiteSpace) {
  EXPECT_EQ(rill::split_words("  a b\tc\r\n d  "), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_TRUE(rill::split_words("   ").empty());
  EXPECT_TRUE(rill::split_words("").empty());
  // More words than split_words finds on the stack (64) before it allocates.
  std::string many;
  std::vector<std::string> expected;
  for (int i = 0; i < 150; ++i) {
    // Not "w" + std::to_string(i): GCC 12 at -O3 warns of a false overlap in that operator+
    // (-Wrestrict, GCC bug 105329), which -Werror makes an error in a Release build.
    expected.push_back(std::string{"w"}.append(std::to_string(i)));
    many += expected.back() + (i % 2 == 0 ? " " : "\t\n");
  }
  EXPECT_EQ(rill::split_words(many), expected);
  std::vector<std::string> each;
  rill::split_words.each(many, [&](std::string w) { each.push_back(std::move(w)); });
  EXPECT_EQ(each, expected);
}

TEST(Batch, SizedKeepsTheGivenPartitionsFirstAndPadsOrMergesTheRest) {
  auto parts = [](const rill::Batch<int>& b) {
    std::vector<std::vector<int>> out;
    for (std::size_t i = 0; i < b.num_partitions(); ++i)
      out.emplace_back(b.partition(i).begin(), b.partition(i).end());
    return out;
  };
  using P = std::vector<std::vector<int>>;
  // Fewer sizes than partitions: the rest are empty.
  EXPECT_EQ(parts(rill::Batch<int>::sized({1, 2, 3, 4, 5}, {3, 2}, 4)),
            (P{{1, 2, 3}, {4, 5}, {}, {}}));
  // More sizes than partitions: the extra ones join the last partition.
  EXPECT_EQ(parts(rill::Batch<int>::sized({1, 2, 3, 4}, {1, 1, 2}, 2)), (P{{1}, {2, 3, 4}}));
  // Sizes that do not add up: cut evenly, as contiguous() does.
  EXPECT_EQ(parts(rill::Batch<int>::sized({1, 2, 3, 4}, {1}, 2)), (P{{1, 2}, {3, 4}}));
  EXPECT_EQ(rill::Batch<int>::sized({}, {}, 3).num_partitions(), 3u);
}
