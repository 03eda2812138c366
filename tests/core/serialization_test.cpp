#include <sstream>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

using namespace std::chrono_literals;

namespace {
struct Plain {
  int x = 0;
};
struct Opted {
  int x = 0;
  std::string label;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(x, label);
  }
  friend bool operator==(const Opted&, const Opted&) = default;
};

std::vector<rill::StateDescriptor> descriptors(rill::testing::Harness& h) {
  EXPECT_THROW((void)h.context().state_descriptors(), rill::IllegalState);
  h.run_batches(1);
  return h.context().state_descriptors();
}
}  // namespace

TEST(Serialization, CerealCoversStandardAndOptedInTypes) {
  EXPECT_TRUE(rill::is_serializable_v<int>);
  EXPECT_TRUE((rill::is_serializable_v<std::pair<std::string, std::vector<std::optional<long>>>>));
  EXPECT_TRUE(rill::is_serializable_v<Opted>);
  EXPECT_FALSE(rill::is_serializable_v<Plain>);
  std::stringstream buffer;
  {
    cereal::BinaryOutputArchive out(buffer);
    out(std::vector<Opted>{{1, "a"}, {2, "b"}});
  }
  std::vector<Opted> back;
  cereal::BinaryInputArchive in(buffer);
  in(back);
  EXPECT_EQ(back, (std::vector<Opted>{{1, "a"}, {2, "b"}}));
}

TEST(Serialization, StatefulOperatorsAreIdentifiedByNameAndTypes) {
  rill::testing::Harness h{1s};
  auto in = h.input<std::pair<std::string, int>>({});
  auto counts = in.update_state_by_key([](const std::vector<int>&, std::optional<long> s) {
                    return std::optional<long>(s.value_or(0) + 1);
                  }).name("counts");
  auto plain =
      in.map([](const auto& kv) {
          return std::pair{kv.first, Plain{kv.second}};
        }).update_state_by_key<Plain>([](const std::vector<Plain>& v, std::optional<Plain> s) {
        return v.empty() ? s : std::optional<Plain>(v.back());
      });
  auto windowed = in.reduce_by_key_and_window([](int a, int b) { return a + b; },
                                              [](int a, int b) { return a - b; }, 2s, 1s);
  (void)h.collect(counts);
  plain.foreach_batch([](const auto&, rill::Time) {});
  (void)h.collect(windowed);
  const auto ds = descriptors(h);
  std::map<std::string, rill::StateDescriptor> by_name;
  for (const auto& d : ds)
    by_name[d.name] = d;
  ASSERT_TRUE(by_name.contains("counts"));
  EXPECT_EQ(by_name["counts"].kind, "update_state_by_key");
  EXPECT_TRUE(by_name["counts"].serializable);
  ASSERT_TRUE(by_name.contains("update_state_by_key#2"));
  EXPECT_FALSE(by_name["update_state_by_key#2"].serializable);
  EXPECT_NE(by_name["counts"].fingerprint, by_name["update_state_by_key#2"].fingerprint);
  ASSERT_TRUE(by_name.contains("reduce_by_key_and_window#1"));
  EXPECT_TRUE(by_name["reduce_by_key_and_window#1"].serializable);
  ASSERT_TRUE(by_name.contains("queue_stream#1"));  // a source's position is state too
}
