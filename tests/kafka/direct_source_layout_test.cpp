// The direct stream's checkpointed bytes (docs/checkpoint-format.md, "The Kafka direct stream's
// seal record and position"): the current layouts round-trip and the first ones still load, on
// a DirectSource against the mock cluster without a context.
#include "kafka/direct_source.hpp"

#include <rill/core/errors.hpp>
#include <rill/core/serialization.hpp>
#include <rill/kafka.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

namespace {

using rill::Time;
using rill::kafka::detail::DirectSource;
using rill::kafka::detail::Offsets;
using Ranges = std::vector<std::tuple<std::string, std::int32_t, std::int64_t, std::int64_t>>;

class KafkaDirectSourceLayout : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.create_topic("t", 2);
    std::vector<rill::kafka::ProducerRecord> records;
    for (int i = 0; i < 6; ++i)
      records.push_back(
          {.key = std::nullopt, .value = std::to_string(i), .partition = i % 2, .headers = {}});
    cluster_.produce("t", records);
  }
  [[nodiscard]] rill::kafka::SourceOptions options() const {
    rill::kafka::SourceOptions o;
    o.bootstrap_servers = cluster_.bootstrap_servers();
    o.topics = {"t"};
    o.properties = {{"fetch.wait.max.ms", "20"}};
    return o;
  }

  rill::kafka::MockCluster cluster_{1};
};

TEST_F(KafkaDirectSourceLayout, APositionOfTheFirstLayoutLoadsAndIsSavedInTheCurrentOne) {
  DirectSource source(options());
  const Offsets offsets{{"t", {{0, 2}, {1, 1}}}};
  source.load_position(rill::detail::to_bytes(offsets));  // the first layout: the map alone
  const std::string saved = source.save_position(Time{500});
  ASSERT_TRUE(saved.starts_with("rillkpos"));
  std::uint32_t version = 0;
  Offsets back;
  std::string token;
  std::int64_t mark = 0;
  rill::detail::from_bytes(std::string_view{saved}.substr(8), version, back, token, mark);
  EXPECT_EQ(version, 2U);
  EXPECT_EQ(back, offsets);
  // The first layout knew of no claims: no batch is known sealed.
  EXPECT_EQ(mark, std::numeric_limits<std::int64_t>::min());
  // The current layout loads back to the same bytes.
  DirectSource again(options());
  again.load_position(saved);
  EXPECT_EQ(again.save_position(Time{500}), saved);
  // A later version is refused.
  std::string later = "rillkpos" + rill::detail::to_bytes(std::uint32_t{3}, back, token, mark);
  DirectSource third(options());
  EXPECT_THROW(third.load_position(later), rill::CheckpointError);
}

TEST_F(KafkaDirectSourceLayout, SealRecordsOfBothLayoutsReplayTheirRanges) {
  DirectSource source(options());
  // The first layout: version 1 and the ranges.
  const auto first = source.replay(
      Time{100}, rill::detail::to_bytes(std::uint32_t{1}, Ranges{{"t", 0, 0, 2}, {"t", 1, 1, 3}}));
  ASSERT_EQ(first.size(), 4U);
  EXPECT_EQ(first[0].partition, 0);
  EXPECT_EQ(first[0].offset, 0);
  EXPECT_EQ(first[3].partition, 1);
  EXPECT_EQ(first[3].offset, 2);
  // The current layout: with the claim token and the seal mark, which the position then holds.
  const std::string token(32, 'c');
  const auto second = source.replay(
      Time{200},
      rill::detail::to_bytes(std::uint32_t{2}, Ranges{{"t", 0, 2, 3}}, token, std::int64_t{250}));
  ASSERT_EQ(second.size(), 1U);
  EXPECT_EQ(second[0].offset, 2);
  const std::string saved = source.save_position(Time{200});
  std::uint32_t version = 0;
  Offsets offsets;
  std::string saved_token;
  std::int64_t mark = 0;
  rill::detail::from_bytes(std::string_view{saved}.substr(8), version, offsets, saved_token, mark);
  EXPECT_EQ(saved_token, token) << "the token comes back from a replayed seal record";
  EXPECT_EQ(mark, 250) << "the replayed batch's seal mark";
  EXPECT_EQ(offsets.at("t").at(0), 3);
  EXPECT_EQ(offsets.at("t").at(1), 3);
  EXPECT_THROW(static_cast<void>(
                   source.replay(Time{300}, rill::detail::to_bytes(std::uint32_t{7}, Ranges{}))),
               rill::CheckpointError);
}

}  // namespace
