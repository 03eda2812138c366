#include <gtest/gtest.h>
#include <rill/rill.hpp>

TEST(Format, LikeSpark) {
  using rill::format_record;
  EXPECT_EQ(format_record(42), "42");
  EXPECT_EQ(format_record(2.0), "2.0");
  EXPECT_EQ(format_record(2.5), "2.5");
  EXPECT_EQ(format_record(-0.0), "-0.0");
  EXPECT_EQ(format_record(std::string("a b")), "a b");
  EXPECT_EQ(format_record(std::pair<std::string, long>{"a", 2}), "(a,2)");
  EXPECT_EQ(format_record(std::pair{std::string("k"), std::pair{1, std::optional<int>{}}}),
            "(k,(1,None))");
  EXPECT_EQ(format_record(std::optional<int>{3}), "Some(3)");
  EXPECT_EQ(format_record(std::vector<int>{1, 2}), "[1, 2]");
  EXPECT_EQ(format_record(std::tuple<int, std::string, double>{1, "x", 3.0}), "(1,x,3.0)");
  EXPECT_EQ(format_record(true), "true");
}
