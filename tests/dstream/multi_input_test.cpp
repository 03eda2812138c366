// Operators of two streams (union_with, transform_with, cogroup and the join family): like Spark,
// they refuse parents with different slide durations at the call, naming both slides; with one
// slide they run at that slide's times only.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rill/testing.hpp>

using namespace std::chrono_literals;
using rill::DStream;

namespace {

using KV = std::pair<std::string, int>;

/// One operator of two streams: `combine(x, y)` calls it as x.op(y).
struct TwoInputOperator {
  std::string call;  // what the error names
  std::function<void(const DStream<KV>&, const DStream<KV>&)> combine;
};

std::vector<KV> first_batch(const rill::Batch<KV>& a, const rill::Batch<KV>& /*b*/,
                            rill::Time /*t*/) {
  return a.collect();
}

/// Every operator with more than one parent.
const std::vector<TwoInputOperator>& two_input_operators() {
  static const std::vector<TwoInputOperator> ops = {
      {"DStream::union_with", [](const auto& x, const auto& y) { (void)x.union_with(y); }},
      {"DStream::transform_with",
       [](const auto& x, const auto& y) { (void)x.transform_with(y, first_batch); }},
      {"DStream::cogroup", [](const auto& x, const auto& y) { (void)x.cogroup(y); }},
      {"DStream::join", [](const auto& x, const auto& y) { (void)x.join(y); }},
      {"DStream::left_outer_join",
       [](const auto& x, const auto& y) { (void)x.left_outer_join(y); }},
      {"DStream::right_outer_join",
       [](const auto& x, const auto& y) { (void)x.right_outer_join(y); }},
      {"DStream::full_outer_join",
       [](const auto& x, const auto& y) { (void)x.full_outer_join(y); }},
  };
  return ops;
}

}  // namespace

TEST(TwoInputs, DifferentSlidesAreRefusedAtTheCallNamingBothSlides) {
  for (const auto& op : two_input_operators()) {
    for (const bool windowed_first : {false, true}) {
      SCOPED_TRACE(op.call + (windowed_first ? " (windowed stream first)" : " (windowed second)"));
      rill::testing::Harness h{1s};
      auto plain = h.input<KV>({{{"k", 1}}});
      auto windowed = h.input<KV>({{{"k", 2}}}).window(2s, 2s);
      const auto& x = windowed_first ? windowed : plain;
      const auto& y = windowed_first ? plain : windowed;
      try {
        op.combine(x, y);
        ADD_FAILURE() << "no rill::InvalidArgument";
      } catch (const rill::InvalidArgument& e) {
        const std::string expected =
            windowed_first ? "(2000 ms and 1000 ms)" : "(1000 ms and 2000 ms)";
        EXPECT_THAT(e.what(), ::testing::HasSubstr(op.call + ": "));
        EXPECT_THAT(e.what(), ::testing::HasSubstr(expected));
        EXPECT_THAT(e.what(), ::testing::HasSubstr("window both to the same slide"));
      }
      // The refused call added nothing: the context still runs the streams it has.
      auto out = h.collect(plain);
      h.run_batches(2);
      EXPECT_EQ(out.batches(), (std::vector<std::vector<KV>>{{{"k", 1}}, {}}));
    }
  }
}

TEST(TwoInputs, WindowsOfOneSlideCombineAtTheirTimesOnly) {
  // Both windowed 2 s / 2 s: defined at 2000 and 4000 only, whatever the operand order.
  const std::vector<std::vector<KV>> left = {{{"k", 1}}, {{"k", 2}}, {{"j", 3}}, {}};
  const std::vector<std::vector<KV>> right = {{{"k", 10}}, {}, {{"j", 30}}, {{"k", 40}}};
  using Joined = std::pair<std::string, std::pair<int, int>>;
  for (const bool swapped : {false, true}) {
    SCOPED_TRACE(swapped ? "right.join(left)" : "left.join(right)");
    rill::testing::Harness h{1s};
    auto a = h.input<KV>(left).window(2s, 2s);
    auto b = h.input<KV>(right).window(2s, 2s);
    auto joined = h.collect(swapped ? b.join(a) : a.join(b));
    auto unioned = h.collect(a.union_with(b));
    auto counted = h.collect(
        a.transform_with(b, [](const rill::Batch<KV>& x, const rill::Batch<KV>& y, rill::Time t) {
          return std::vector<std::pair<std::int64_t, std::size_t>>{
              {t.milliseconds(), x.size() + y.size()}};
        }));
    h.run_batches(4);
    const std::vector<rill::Time> at = {rill::Time{2000}, rill::Time{4000}};
    EXPECT_EQ(joined.times(), at);
    EXPECT_EQ(unioned.times(), at);
    EXPECT_EQ(counted.times(), at);
    std::vector<std::vector<Joined>> expected = {{{"k", {1, 10}}, {"k", {2, 10}}},
                                                 {{"j", {3, 30}}}};
    if (swapped) expected = {{{"k", {10, 1}}, {"k", {10, 2}}}, {{"j", {30, 3}}}};
    EXPECT_EQ(joined.sorted_batches(), expected);
    EXPECT_EQ(unioned.sorted_batches(),
              (std::vector<std::vector<KV>>{{{"k", 1}, {"k", 2}, {"k", 10}},
                                            {{"j", 3}, {"j", 30}, {"k", 40}}}));
    EXPECT_EQ(counted.batches(), (std::vector<std::vector<std::pair<std::int64_t, std::size_t>>>{
                                     {{2000, 3}}, {{4000, 3}}}));
  }
}
