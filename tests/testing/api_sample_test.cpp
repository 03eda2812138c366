// The harness sample of shared/api.md, unchanged below the marker.
// ---- begin sample ----
// clang-format off
#include <rill/testing.hpp>
#include <gtest/gtest.h>
using namespace std::chrono_literals;

TEST(Window, SumOverTwoBatches) {
  rill::testing::Harness h{1s};
  auto in = h.input<int>({{1, 2}, {3}, {}, {4}});     // queue stream, one inner vector per batch
  auto out = h.collect(in.window(2s, 1s).reduce([](int a, int b) { return a + b; }));
  h.run_batches(4);
  EXPECT_EQ(out.batches(), (std::vector<std::vector<int>>{{3}, {6}, {3}, {4}}));
  EXPECT_EQ(out.times(), (std::vector<rill::Time>{rill::Time{1000}, rill::Time{2000}, rill::Time{3000}, rill::Time{4000}}));
}

TEST(State, RunningCount) {
  rill::testing::Harness h{1s};
  auto in = h.input<std::pair<std::string, int>>({{{"a", 1}, {"b", 1}}, {{"a", 1}}, {}});
  auto out = h.collect(in.update_state_by_key(
      [](const std::vector<int>& xs, std::optional<int> s) -> std::optional<int> {
        return s.value_or(0) + static_cast<int>(xs.size());
      }));
  h.run_batches(3);
  // out.sorted_batches() sorts each batch's elements: a keyed batch has no order.
  EXPECT_EQ(out.sorted_batches()[2], (std::vector<std::pair<std::string, int>>{{"a", 2}, {"b", 1}}));
}
// clang-format on
// ---- end sample ----

// The statement of shared/api.md: window(4s, 2s).count() over run_batches(5) has two entries.
TEST(Window, CountEveryTwoBatches) {
  rill::testing::Harness h{1s};
  auto in = h.input<int>({{1}, {2}, {3}, {4}, {5}});
  auto out = h.collect(in.window(4s, 2s).count());
  h.run_batches(5);
  EXPECT_EQ(out.times(), (std::vector<rill::Time>{rill::Time{2000}, rill::Time{4000}}));
  EXPECT_EQ(out.batches(), (std::vector<std::vector<std::int64_t>>{{2}, {4}}));
}
