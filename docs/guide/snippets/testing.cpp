// Testing a pipeline with the harness (<rill/testing.hpp>) and GoogleTest: a manual clock,
// queued input, collected output; nothing sleeps.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

using namespace std::chrono_literals;

// [pipeline]
// The code under test: a function from streams to streams, as the application uses it.
rill::DStream<std::pair<std::string, int>> running_counts(
    const rill::DStream<std::pair<std::string, int>>& in) {
  return in.update_state_by_key([](const std::vector<int>& xs, std::optional<int> s) {
    return std::optional<int>{s.value_or(0) + static_cast<int>(xs.size())};
  });
}
// [/pipeline]

// [test]
TEST(RunningCounts, CountEveryKeySinceTheStart) {
  rill::testing::Harness h{1s};  // parallelism 2, a manual clock at 0 ms
  auto in = h.input<std::pair<std::string, int>>({{{"a", 1}, {"b", 1}}, {{"a", 1}}, {}});
  auto out = h.collect(running_counts(in));
  h.run_batches(3);  // batches at 1000, 2000, 3000 ms; returns when their outputs ran
  using Counts = std::vector<std::pair<std::string, int>>;
  // sorted_batches(): a keyed batch has no order.
  EXPECT_EQ(
      out.sorted_batches(),
      (std::vector<Counts>{{{"a", 1}, {"b", 1}}, {{"a", 2}, {"b", 1}}, {{"a", 2}, {"b", 1}}}));
  EXPECT_EQ(out.times(),
            (std::vector<rill::Time>{rill::Time{1000}, rill::Time{2000}, rill::Time{3000}}));
}

TEST(Windows, DefinedOnlyAtTheirSlide) {
  rill::testing::Harness h{1s};
  auto in = h.input<int>({{1}, {2}, {3}, {4}, {5}});
  auto out = h.collect(in.window(4s, 2s).count());
  h.run_batches(5);
  EXPECT_EQ(out.times(), (std::vector<rill::Time>{rill::Time{2000}, rill::Time{4000}}));
  EXPECT_EQ(out.batches(), (std::vector<std::vector<std::int64_t>>{{2}, {4}}));
}
// [/test]
