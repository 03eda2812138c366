// parse_json<T>() and parse_csv<T>() on a stream of lines: parsed records downstream, malformed
// lines counted and routed to malformed() (never a failed batch), fused with the steps around.

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <spdlog/sinks/ostream_sink.h>
#include <boost/describe/class.hpp>
#include <rill/testing.hpp>

#include "support/log_capture.hpp"

#include "support/table.hpp"

using namespace std::chrono_literals;

namespace parse_test {
struct Item {
  std::string sku;
  std::int32_t qty = 0;
  bool operator==(const Item&) const = default;
  auto operator<=>(const Item&) const = default;
};
BOOST_DESCRIBE_STRUCT(Item, (), (sku, qty))

struct Order {
  std::string id;
  std::optional<std::string> note;
  std::vector<Item> items;
  bool operator==(const Order&) const = default;
};
BOOST_DESCRIBE_STRUCT(Order, (), (id, note, items))

struct Row {
  std::string name;
  std::int64_t n = 0;
  std::optional<double> x;
  bool operator==(const Row&) const = default;
  auto operator<=>(const Row&) const = default;
};
BOOST_DESCRIBE_STRUCT(Row, (), (name, n, x))
}  // namespace parse_test

using parse_test::Item;
using parse_test::Order;
using parse_test::Row;

using rill_test::LogCapture;

TEST(ParseJson, ParsesGoodLinesAndRoutesBadOnesTable) {
  struct Case {
    std::string line;
    bool good;
  };
  const std::vector<Case> cases = {
      {R"({"id":"a","items":[{"sku":"x","qty":1}]})", true},
      {R"({"id":"b","note":"say \"hi\"\nbye","items":[]})", true},
      {R"({"id":"c","note":null,"items":[{"sku":"é日","qty":-3},{"sku":"y","qty":2}]})", true},
      {R"({"id":"d","items":[{"sku":"x","qty":1})", false},      // truncated
      {R"({"id":"e","items":[{"sku":"x","qty":"1"}]})", false},  // wrong type
      {R"({"items":[]})", false},                                // missing field
      {"{\"id\":\"\xff\",\"items\":[]}", false},                 // invalid UTF-8
      {"", false},                                               // empty
      {"not json at all", false},
      {R"({"id":"f","items":[],"unknown":[1,2,3]})", true},
  };
  std::vector<std::string> lines;
  std::vector<Order> want_good;
  std::vector<std::string> want_bad;
  for (const auto& c : cases) {
    lines.push_back(c.line);
    if (c.good) {
      want_good.push_back(rill::json::parse<Order>(c.line));
    } else {
      want_bad.push_back(c.line);
    }
  }
  for (std::size_t parallelism : {1u, 3u}) {
    SCOPED_TRACE(parallelism);
    rill::testing::Harness h{rill_test::config(parallelism)};
    auto parsed = h.input<std::string>({lines, {}, {lines[0], lines[3]}}).parse_json<Order>();
    auto good = h.collect(parsed);
    auto bad = h.collect(parsed.malformed());
    h.run_batches(3);
    ASSERT_EQ(good.batches().size(), 3u);
    EXPECT_EQ(good.batches()[0], want_good);
    EXPECT_TRUE(good.batches()[1].empty());
    EXPECT_EQ(good.batches()[2], std::vector<Order>{want_good[0]});
    EXPECT_EQ(bad.batches(), (rill_test::Batches<std::string>{want_bad, {}, {lines[3]}}));
    EXPECT_EQ(parsed.malformed_count(), static_cast<std::int64_t>(want_bad.size()) + 1);
    EXPECT_EQ(parsed.malformed().node(), parsed.malformed().node());  // the same stream
  }
}

// The parse fuses with the steps before and after it (one pass per partition); without
// malformed() the bad lines are still counted.
TEST(ParseJson, FusesWithStepsAndCountsWithoutMalformed) {
  rill::testing::Harness h{rill_test::config(2)};
  auto in = h.input<std::string>({{" a ", "b", "oops", "c"}, {"d"}});
  auto parsed = in.map([](const std::string& s) {
                    return s == "oops" ? s : R"({"sku":")" + s + R"(","qty":2})";
                  })
                    .parse_json<Item>()
                    .name("items");
  auto out = h.collect(
      parsed.map([](const Item& i) { return i.qty * 10; }).filter([](int q) { return q > 0; }));
  h.run_batches(2);
  EXPECT_EQ(out.batches(), (rill_test::Batches<int>{{20, 20, 20}, {20}}));
  EXPECT_EQ(parsed.malformed_count(), 1);
  EXPECT_EQ(parsed.name(), "items");
}

// Only the malformed lines are used: the parse still runs.
TEST(ParseJson, MalformedAloneIsComputed) {
  rill::testing::Harness h{rill_test::config(2)};
  auto parsed = h.input<std::string>({{"1", "x", "2", "[3"}}).parse_json<int>();
  auto bad = h.collect(parsed.malformed());
  h.run_batches(1);
  EXPECT_EQ(bad.batches(), (rill_test::Batches<std::string>{{"x", "[3"}}));
}

// The first bad lines are logged with their reason, the rest summarized: never one log line
// per bad line.
TEST(ParseJson, LogsTheFirstBadLinesThenSummarizes) {
  std::string log;
  {
    LogCapture capture;
    {
      rill::testing::Harness h{rill_test::config(1)};
      std::vector<std::string> bad(50, R"({"sku":1,"qty":1})");
      auto parsed = h.input<std::string>({bad}).parse_json<Item>().name("orders");
      h.collect(parsed);
      h.run_batches(1);
      EXPECT_EQ(parsed.malformed_count(), 50);
    }
    log = capture.text();
  }
  EXPECT_NE(log.find("orders: malformed line skipped (field 'sku': expected a string, got an "
                     "integer): '{\"sku\":1,\"qty\":1}'"),
            std::string::npos)
      << log;
  std::size_t lines = 0;
  for (std::size_t at = log.find("orders:"); at != std::string::npos;
       at = log.find("orders:", at + 1))
    ++lines;
  EXPECT_EQ(lines, 11u) << log;  // 10 in full, one summary
  EXPECT_NE(log.find("orders: 1 more malformed lines skipped (11 in all)"), std::string::npos)
      << log;
}

TEST(ParseCsv, ParsesSkipsHeadersAndRoutesBadLinesTable) {
  struct Case {
    std::string line;
    char kind;  // g: good, b: bad, h: header
  };
  const std::vector<Case> cases = {
      {"name,n,x", 'h'},   {"a,1,2.5", 'g'},
      {"\"b,c\",2,", 'g'}, {"\"say \"\"hi\"\"\",3,-1.0\r", 'g'},
      {"name,n,x\r", 'h'}, {"a,1", 'b'},  // missing field
      {"a,one,1", 'b'},                   // wrong type
      {"\"open,1,1", 'b'},                // truncated quote
      {"a\xc3,1,1", 'b'},                 // invalid UTF-8
      {"\"multi", 'b'},                   // a record cut at its line break
      {"line\",1,1", 'b'},
  };
  std::vector<std::string> lines;
  std::vector<Row> want_good;
  std::vector<std::string> want_bad;
  for (const auto& c : cases) {
    lines.push_back(c.line);
    if (c.kind == 'g') want_good.push_back(rill::csv::parse<Row>(c.line));
    if (c.kind == 'b') want_bad.push_back(c.line);
  }
  rill::testing::Harness h{rill_test::config(2)};
  auto parsed = h.input<std::string>({lines}).parse_csv<Row>();
  auto good = h.collect(parsed);
  auto bad = h.collect(parsed.malformed());
  h.run_batches(1);
  EXPECT_EQ(good.batches(), (rill_test::Batches<Row>{want_good}));
  EXPECT_EQ(bad.batches(), (rill_test::Batches<std::string>{want_bad}));
  EXPECT_EQ(parsed.malformed_count(), static_cast<std::int64_t>(want_bad.size()));
}

TEST(ParseJson, MalformedAfterStartIsRefused) {
  rill::testing::Harness h{1s};
  auto parsed = h.input<std::string>({{"1"}}).parse_json<int>();
  h.collect(parsed);
  h.run_batches(1);
  EXPECT_THROW((void)parsed.malformed(), rill::IllegalState);
}
