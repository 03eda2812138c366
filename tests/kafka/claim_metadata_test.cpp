// The claim metadata a grouped direct stream commits with each claimed range
// (src/kafka/claim_metadata.hpp): its text, what a new claim carries forward, its bounds.
#include "kafka/claim_metadata.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace {

using rill::kafka::detail::Claim;
using rill::kafka::detail::ClaimMetadata;

const std::string kA(32, 'a');
const std::string kB = "0123456789abcdef0123456789abcdef";

TEST(KafkaClaimMetadata, FormatsAndParsesTheClaimAndTheOwedOnes) {
  ClaimMetadata m;
  m.primary = Claim{kA, 1'700'000'000'100, 10, 15};
  m.owed = {Claim{kB, 1'700'000'000'000, 0, 5}, Claim{kB, 1'700'000'000'050, 5, 10}};
  const std::string text = m.format();
  EXPECT_EQ(text, "rill1 " + kA + ":1700000000100:10:15 " + kB + ":1700000000000:0:5 " + kB +
                      ":1700000000050:5:10");
  const auto back = ClaimMetadata::parse(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->primary, m.primary);
  EXPECT_EQ(back->owed, m.owed);
  // No primary (a commit without a checkpoint carrying claims forward).
  ClaimMetadata none;
  none.owed = {Claim{kB, 7, 1, 2}};
  EXPECT_EQ(none.format(), "rill1 - " + kB + ":7:1:2");
  const auto none_back = ClaimMetadata::parse(none.format());
  ASSERT_TRUE(none_back.has_value());
  EXPECT_FALSE(none_back->primary.has_value());
  EXPECT_EQ(none_back->owed, none.owed);
}

TEST(KafkaClaimMetadata, TextOfAnotherKindNamesNoClaim) {
  for (const std::string& text :
       std::vector<std::string>{"", "rill1", "rill1 ", "rill2 -", "hello", "rill1 " + kA + ":1:2",
                                "rill1 " + kA + ":1:5:2",  // until before from
                                "rill1 " + kA + ":1:-1:2", "rill1 " + kA.substr(1) + ":1:2:3",
                                "rill1 " + std::string(32, 'G') + ":1:2:3",
                                "rill1 " + kA + ":1:2:3x", "rill1 - garbage"}) {
    EXPECT_FALSE(ClaimMetadata::parse(text).has_value()) << text;
  }
  EXPECT_TRUE(ClaimMetadata::parse("rill1 -").has_value());
}

TEST(KafkaClaimMetadata, CarriesOtherProcessesClaimsAndOwnUnsealedOnesForward) {
  ClaimMetadata found;
  found.primary = Claim{kB, 300, 20, 25};                      // a foreign claim
  found.owed = {Claim{kA, 100, 0, 5}, Claim{kA, 250, 10, 15},  // own: sealed, unsealed
                Claim{kB, 300, 20, 25}};                       // repeated
  const auto carried = ClaimMetadata::carry(found, kA, /*sealed_through=*/200);
  EXPECT_TRUE(carried.dropped.empty());
  EXPECT_EQ(carried.owed, (std::vector<Claim>{Claim{kA, 250, 10, 15}, Claim{kB, 300, 20, 25}}));
  // Everything of the process's own sealed: only the foreign claim stays.
  const auto later = ClaimMetadata::carry(found, kA, /*sealed_through=*/250);
  EXPECT_EQ(later.owed, (std::vector<Claim>{Claim{kB, 300, 20, 25}}));
  // Nothing found: nothing owed.
  EXPECT_TRUE(ClaimMetadata::carry(ClaimMetadata{}, kA, 0).owed.empty());
}

TEST(KafkaClaimMetadata, KeepsAtMostEightOwedClaimsDroppingTheOldestAndStaysSmall) {
  ClaimMetadata found;
  for (int i = 0; i < 8; ++i)
    found.owed.push_back(
        Claim{kB, 1'700'000'000'000 + i, 1'000'000'000'000 + i * 5, 1'000'000'000'000 + i * 5 + 5});
  found.primary = Claim{kB, 1'700'000'000'100, 2'000'000'000'000, 2'000'000'000'005};
  const auto carried = ClaimMetadata::carry(found, kA, 0);
  ASSERT_EQ(carried.owed.size(), ClaimMetadata::kMaxOwed);
  ASSERT_EQ(carried.dropped.size(), 1U);
  EXPECT_EQ(carried.dropped[0], found.owed[0]);
  EXPECT_EQ(carried.owed.back(), *found.primary);
  ClaimMetadata full;
  full.primary = Claim{kA, 1'700'000'000'200, 3'000'000'000'000, 3'000'000'000'005};
  full.owed = carried.owed;
  // Well under Kafka's default offset.metadata.max.bytes (4096), with 19-digit offsets.
  EXPECT_LT(full.format().size(), 1024U);
  const auto back = ClaimMetadata::parse(full.format());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->owed.size(), ClaimMetadata::kMaxOwed);
}

TEST(KafkaClaimMetadata, TokensAre128RandomBitsInHex) {
  std::set<std::string> tokens;
  for (int i = 0; i < 100; ++i) {
    const std::string t = rill::kafka::detail::new_claim_token();
    EXPECT_TRUE(rill::kafka::detail::is_claim_token(t)) << t;
    tokens.insert(t);
  }
  EXPECT_EQ(tokens.size(), 100U);
}

}  // namespace
