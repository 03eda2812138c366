// The RFC 4180 codec: splitting a record into fields, quoting a field. Table tests.

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include <rill/formats/detail/csv_codec.hpp>

using rill::formats::detail::append_csv_field;
using rill::formats::detail::CsvRecord;

namespace {
/// (field, quoted) pairs of a split record.
std::vector<std::pair<std::string, bool>> fields(const CsvRecord& r) {
  std::vector<std::pair<std::string, bool>> out;
  for (std::size_t i = 0; i < r.size(); ++i)
    out.emplace_back(std::string(r.field(i)), r.quoted(i));
  return out;
}
}  // namespace

TEST(CsvCodec, SplitsTable) {
  struct Case {
    std::string text;
    std::vector<std::pair<std::string, bool>> want;
  };
  const std::vector<Case> cases = {
      {"", {{"", false}}},
      {"a", {{"a", false}}},
      {"a,b,c", {{"a", false}, {"b", false}, {"c", false}}},
      {"a,,c", {{"a", false}, {"", false}, {"c", false}}},
      {",", {{"", false}, {"", false}}},
      {"a,b\n", {{"a", false}, {"b", false}}},
      {"a,b\r\n", {{"a", false}, {"b", false}}},
      {"a,\n", {{"a", false}, {"", false}}},
      {R"("a,b",c)", {{"a,b", true}, {"c", false}}},
      {R"("say ""hi""",x)", {{R"(say "hi")", true}, {"x", false}}},
      {R"("",x)", {{"", true}, {"x", false}}},
      {R"(x,"")", {{"x", false}, {"", true}}},
      {"\"two\nlines\",\"cr\r\n\"", {{"two\nlines", true}, {"cr\r\n", true}}},
      {"\"\"\"\"", {{"\"", true}}},
      {" a , b ", {{" a ", false}, {" b ", false}}},
      {"é,日本", {{"é", false}, {"日本", false}}},
  };
  CsvRecord r;  // reused: a longer record, then a shorter one
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    std::string reason;
    ASSERT_TRUE(r.split(c.text, reason)) << reason;
    EXPECT_EQ(fields(r), c.want);
  }
}

TEST(CsvCodec, RejectsTable) {
  struct Case {
    std::string text;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {R"("open)", "truncated: the quoted field opened at byte 0 is not closed"},
      {R"(a,"open,b)", "truncated: the quoted field opened at byte 2 is not closed"},
      {R"("a"b,c)", "invalid CSV at byte 3: a closing quote must be followed by a comma"},
      {R"(a"b,c)", "invalid CSV at byte 1: a quote inside an unquoted field"},
      {"a\nb", "invalid CSV at byte 1: a line break inside an unquoted field"},
  };
  CsvRecord r;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    std::string reason;
    EXPECT_FALSE(r.split(c.text, reason));
    EXPECT_NE(reason.find(c.reason), std::string::npos) << reason;
  }
}

TEST(CsvCodec, QuotesTable) {
  struct Case {
    std::string field;
    bool quote_empty;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"plain", true, "plain"},
      {"", true, R"("")"},
      {"", false, ""},
      {"a,b", false, R"("a,b")"},
      {R"(say "hi")", false, R"("say ""hi""")"},
      {"two\nlines", false, "\"two\nlines\""},
      {"cr\r", false, "\"cr\r\""},
      {" spaced ", false, " spaced "},
  };
  for (const auto& c : cases) {
    std::string out = "x";
    append_csv_field(out, c.field, c.quote_empty);
    EXPECT_EQ(out, "x" + c.want) << c.field;
    // What is written splits back into the same field.
    CsvRecord r;
    std::string reason;
    ASSERT_TRUE(r.split(c.want, reason)) << reason;
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r.field(0), c.field);
  }
}
