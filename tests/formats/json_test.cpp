// rill::json::parse and rill::json::format: round trips of described structs (nested, optional,
// vectors, strings that need escaping), and the reason a malformed text gives.

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/describe/class.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>
#include <rill/formats/json.hpp>

namespace fmt_test {

struct Address {
  std::string city;
  std::optional<std::string> zip;
  bool operator==(const Address&) const = default;
};
BOOST_DESCRIBE_STRUCT(Address, (), (city, zip))

struct Person {
  std::string name;
  std::int32_t age = 0;
  double score = 0;
  bool active = false;
  std::optional<std::int64_t> id;
  std::vector<std::string> tags;
  Address home;
  std::optional<Address> work;
  std::vector<Address> past;
  std::map<std::string, int> counts;
  bool operator==(const Person&) const = default;
};
BOOST_DESCRIBE_STRUCT(Person, (), (name, age, score, active, id, tags, home, work, past, counts))

struct Small {
  std::uint8_t level = 0;
  float ratio = 0;
  bool operator==(const Small&) const = default;
};
BOOST_DESCRIBE_STRUCT(Small, (), (level, ratio))

/// A type Boost.JSON converts through tag_invoke, not described.
struct Point {
  int x = 0;
  int y = 0;
  bool operator==(const Point&) const = default;
};
void tag_invoke(boost::json::value_from_tag, boost::json::value& v, const Point& p) {
  v = boost::json::array{p.x, p.y};
}
Point tag_invoke(boost::json::value_to_tag<Point>, const boost::json::value& v) {
  const auto& a = v.as_array();
  return Point{static_cast<int>(a.at(0).as_int64()), static_cast<int>(a.at(1).as_int64())};
}

}  // namespace fmt_test

using fmt_test::Address;
using fmt_test::Person;
using fmt_test::Point;
using fmt_test::Small;

TEST(Json, RoundTripsTable) {
  const std::vector<Person> cases = {
      Person{},
      Person{"Ann",
             41,
             2.5,
             true,
             7,
             {"a", "b"},
             {"Paris", "75001"},
             Address{"Lyon", {}},
             {{"Nice", {}}, {"Metz", "57000"}},
             {{"x", 1}, {"y", -2}}},
      Person{"quote \" backslash \\ slash /",
             -1,
             -0.125,
             false,
             std::nullopt,
             {""},
             {"", ""},
             std::nullopt,
             {},
             {}},
      Person{"line\nbreak\r\ttab \x01 ctrl",
             std::numeric_limits<std::int32_t>::min(),
             1e300,
             true,
             std::numeric_limits<std::int64_t>::max(),
             {"\n", "\"\""},
             {"a,b", {}},
             std::nullopt,
             {},
             {{"k\"ey", 0}}},
      Person{"unicode: é ü 日本 😀",
             0,
             3.0,
             false,
             -5,
             {"Ω"},
             {"Zürich", "8000"},
             std::nullopt,
             {},
             {{"ключ", 9}}},
  };
  for (const auto& p : cases) {
    const std::string text = rill::json::format(p);
    SCOPED_TRACE(text);
    EXPECT_EQ(rill::json::parse<Person>(text), p);
    EXPECT_EQ(text.find('\n'), std::string::npos);  // one record, one line
  }
}

TEST(Json, FormatsAsSparkToJson) {
  struct Case {
    Person in;
    std::string out;
  };
  const Person p{"Ann",        41, 2.0, true, std::nullopt, {"a"}, {"Paris", std::nullopt},
                 std::nullopt, {}, {}};
  EXPECT_EQ(rill::json::format(p),
            R"({"name":"Ann","age":41,"score":2.0,"active":true,"tags":["a"],)"
            R"("home":{"city":"Paris"},"past":[],"counts":{}})");
  EXPECT_EQ(rill::json::format(std::string("a\"b\\c\nd\x1f")), R"("a\"b\\c\nd\u001f")");
  EXPECT_EQ(rill::json::format(std::string("bad \xff byte")), R"("bad \ufffd byte")");
  EXPECT_EQ(rill::json::format(std::vector<std::optional<int>>{1, std::nullopt}), "[1,null]");
  EXPECT_EQ(rill::json::format(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(rill::json::format(Small{3, 0.1f}), R"({"level":3,"ratio":0.1})");
  EXPECT_EQ(rill::json::format(Point{1, 2}), "[1,2]");
  EXPECT_EQ(rill::json::parse<Point>("[3, 4]"), (Point{3, 4}));
}

TEST(Json, ParsesWhatOthersWrite) {
  // White space, members in another order, unknown members, null and absent optionals, an
  // integer for a double, \u escapes (a surrogate pair too).
  const auto p = rill::json::parse<Person>(R"(
    { "extra": [1, {"deep": null}], "counts": {}, "past": [], "work": null,
      "home": {"city": "Caf\u00e9 \ud83d\ude00"}, "tags": [], "active": false,
      "score": 4, "age": 7, "name": "x" }  )");
  EXPECT_EQ(p.name, "x");
  EXPECT_EQ(p.age, 7);
  EXPECT_EQ(p.score, 4.0);
  EXPECT_EQ(p.id, std::nullopt);
  EXPECT_EQ(p.work, std::nullopt);
  EXPECT_EQ(p.home.city, "Café 😀");
  EXPECT_EQ(p.home.zip, std::nullopt);
}

TEST(Json, MalformedTextsSayWhyTable) {
  struct Case {
    std::string text;
    std::string reason;  // the ParseError's message contains it
  };
  const std::string ok_rest = R"("score":1,"active":true,"tags":[],"home":{"city":"c"},)"
                              R"("past":[],"counts":{}})";
  const std::vector<Case> cases = {
      {"", "empty input"},
      {"   ", "empty input"},
      {R"({"name":"Ann","age":4)", "truncated"},
      {R"({"name":"Ann)", "truncated"},
      {R"({"name":"Ann","age":"41",)" + ok_rest, "field 'age': expected an integer, got a string"},
      {R"({"name":"Ann","age":4.5,)" + ok_rest, "field 'age': expected an integer, got a number"},
      {R"({"name":"Ann","age":3000000000,)" + ok_rest, "field 'age': 3000000000 is out of range"},
      {R"({"name":null,"age":1,)" + ok_rest, "field 'name': expected a string, got null"},
      {R"({"age":1,)" + ok_rest, "missing field 'name'"},
      {R"({"name":"A","age":1,"score":1,"active":true,"tags":[],"home":{},"past":[],)"
       R"("counts":{}})",
       "missing field 'home.city'"},
      {R"({"name":"A","age":1,"score":1,"active":true,"tags":[],"home":{"city":"c"},)"
       R"("past":[{"city":"a"},{"city":5}],"counts":{}})",
       "field 'past[1].city': expected a string, got an integer"},
      {R"({"name":"A","age":1,"score":1,"active":true,"tags":[1],"home":{"city":"c"},)"
       R"("past":[],"counts":{}})",
       "field 'tags[0]': expected a string, got an integer"},
      {R"({"name":"A","age":1,"score":1,"active":true,"tags":[],"home":{"city":"c"},)"
       R"("past":[],"counts":{"a":"b"}})",
       "field 'counts.a': expected an integer, got a string"},
      {"[1,2]", "expected an object, got an array"},
      {"{\"name\":\"\xc3\x28\"}", "invalid UTF-8 at byte 9"},
      {"{\"name\":\"\xed\xa0\x80\"}", "invalid UTF-8 at byte 9"},
      {R"({"name":"A"} extra)", "invalid JSON at byte"},
      {R"({name:"A"})", "invalid JSON at byte 1"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    try {
      (void)rill::json::parse<Person>(c.text);
      ADD_FAILURE() << "parsed";
    } catch (const rill::ParseError& e) {
      EXPECT_NE(std::string(e.what()).find(c.reason), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW((void)rill::json::parse<Small>(R"({"level":300,"ratio":1})"), rill::ParseError);
  EXPECT_THROW((void)rill::json::parse<Point>(R"({"x":1})"), rill::ParseError);
}
