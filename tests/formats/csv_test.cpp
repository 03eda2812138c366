// rill::csv::parse, format and header for described structs of scalar fields.

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <boost/describe/class.hpp>
#include <rill/formats/csv.hpp>

namespace csv_test {
struct Trade {
  std::string symbol;
  std::int64_t qty = 0;
  double price = 0;
  bool buy = false;
  std::optional<std::string> note;
  std::optional<std::int32_t> venue;
  bool operator==(const Trade&) const = default;
};
BOOST_DESCRIBE_STRUCT(Trade, (), (symbol, qty, price, buy, note, venue))
}  // namespace csv_test
using csv_test::Trade;

static_assert(rill::csv::Record<Trade>);
static_assert(!rill::csv::Record<std::string>);

TEST(Csv, HeaderIsTheFieldNames) {
  EXPECT_EQ(rill::csv::header<Trade>(), "symbol,qty,price,buy,note,venue");
}

TEST(Csv, RoundTripsTable) {
  struct Case {
    Trade trade;
    std::string text;
  };
  const std::vector<Case> cases = {
      {{"ACME", 10, 2.5, true, "fast", 3}, "ACME,10,2.5,true,fast,3"},
      {{"ACME", -1, 2.0, false, std::nullopt, std::nullopt}, "ACME,-1,2.0,false,,"},
      {{"", 0, 0.0, false, "", 0}, R"("",0,0.0,false,"",0)"},
      {{"a,b", 1, 1e-7, true, R"(he said "no")", std::nullopt},
       R"("a,b",1,1e-07,true,"he said ""no""",)"},
      {{"multi\nline", std::numeric_limits<std::int64_t>::min(), -1e300, true, "cr\r\nlf", 1},
       "\"multi\nline\",-9223372036854775808,-1e+300,true,\"cr\r\nlf\",1"},
      {{"Zürich 日本", 1, 0.1, false, "😀", -2}, "Zürich 日本,1,0.1,false,😀,-2"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(rill::csv::format(c.trade), c.text);
    EXPECT_EQ(rill::csv::parse<Trade>(c.text), c.trade);
    EXPECT_EQ(rill::csv::parse<Trade>(c.text + "\r\n"), c.trade);
  }
  // Non-finite numbers as Spark writes them.
  Trade t{"x", 1, std::numeric_limits<double>::infinity(), true, {}, {}};
  EXPECT_EQ(rill::csv::format(t), "x,1,Infinity,true,,");
  EXPECT_EQ(rill::csv::parse<Trade>("x,1,-Infinity,TRUE,,").price,
            -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(rill::csv::parse<Trade>("x,1,NaN,false,,").price));
  EXPECT_EQ(rill::csv::parse<Trade>("x,+5,+1.5,False,,").qty, 5);
}

TEST(Csv, MalformedRecordsSayWhyTable) {
  struct Case {
    std::string text;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"ACME,10,2.5,true,", "expected 6 fields (symbol,qty,price,buy,note,venue), got 5"},
      {"ACME,10,2.5,true,,,", "expected 6 fields"},
      {"ACME,ten,2.5,true,,", "field 'qty': expected an integer, got 'ten'"},
      {"ACME,1.5,2.5,true,,", "field 'qty': expected an integer, got '1.5'"},
      {"ACME,,2.5,true,,", "field 'qty': expected an integer, got ''"},
      {"ACME,99999999999999999999,2.5,true,,", "field 'qty': '99999999999999999999' is out of"},
      {"ACME,1,2.5x,true,,", "field 'price': expected a number, got '2.5x'"},
      {"ACME,1,2.5,yes,,", "field 'buy': expected true or false, got 'yes'"},
      {"ACME,1,2.5,true,,3000000000", "field 'venue': '3000000000' is out of range"},
      {"\"ACME,1,2.5,true,,", "truncated: the quoted field opened at byte 0 is not closed"},
      {"AC\"ME,1,2.5,true,,", "a quote inside an unquoted field"},
      {"AC\xffME,1,2.5,true,,", "invalid UTF-8 at byte 2"},
      {"symbol,qty,price,buy,note,venue", "field 'qty': expected an integer, got 'qty'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    try {
      (void)rill::csv::parse<Trade>(c.text);
      ADD_FAILURE() << "parsed";
    } catch (const rill::ParseError& e) {
      EXPECT_NE(std::string(e.what()).find(c.reason), std::string::npos) << e.what();
    }
  }
}
