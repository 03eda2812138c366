// save_as_json_files and save_as_csv_files: the text-file sink with the record formats' lines:
// one file per batch, Spark's names, atomic, exactly once across a restart.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <boost/describe/class.hpp>
#include <rill/testing.hpp>

#include "support/temp_dirs.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace files_test {
struct Quote {
  std::string symbol;
  double price = 0;
  std::optional<std::string> note;
  bool operator==(const Quote&) const = default;
};
BOOST_DESCRIBE_STRUCT(Quote, (), (symbol, price, note))
}  // namespace files_test
using files_test::Quote;

namespace {

using rill_test::read_file;
using rill_test::TempDir;

std::map<std::string, std::string> read_dir(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(dir))
    files[e.path().filename().string()] = read_file(e.path());
  return files;
}

const std::vector<std::vector<Quote>> kQuotes = {
    {{"ACME", 1.5, std::nullopt}, {"a,\"b\"", 2.0, "line\nbreak"}},
    {},
    {{"Zürich", -0.25, ""}},
};

}  // namespace

TEST(JsonFiles, OneFilePerBatchOfJsonLines) {
  TempDir dir;
  {
    rill::testing::Harness h{1s};
    h.input<Quote>(kQuotes).save_as_json_files((dir.path() / "quotes").string(), "json");
    h.run_batches(3);
  }
  EXPECT_EQ(read_dir(dir.path()),
            (std::map<std::string, std::string>{
                {"quotes-1000.json",
                 "{\"symbol\":\"ACME\",\"price\":1.5}\n"
                 "{\"symbol\":\"a,\\\"b\\\"\",\"price\":2.0,\"note\":\"line\\nbreak\"}\n"},
                {"quotes-2000.json", ""},
                {"quotes-3000.json", "{\"symbol\":\"Zürich\",\"price\":-0.25,\"note\":\"\"}\n"},
            }));
}

TEST(CsvFiles, OneFilePerBatchWithOrWithoutHeader) {
  TempDir dir;
  {
    rill::testing::Harness h{1s};
    auto in = h.input<Quote>(kQuotes);
    in.save_as_csv_files((dir.path() / "plain").string());
    in.save_as_csv_files((dir.path() / "headed").string(), "csv", rill::csv::Header::write);
    h.run_batches(3);
  }
  const std::string rows1 = "ACME,1.5,\n\"a,\"\"b\"\"\",2.0,\"line\nbreak\"\n";
  EXPECT_EQ(read_dir(dir.path()), (std::map<std::string, std::string>{
                                      {"plain-1000", rows1},
                                      {"plain-2000", ""},
                                      {"plain-3000", "Zürich,-0.25,\"\"\n"},
                                      {"headed-1000.csv", "symbol,price,note\n" + rows1},
                                      {"headed-2000.csv", "symbol,price,note\n"},
                                      {"headed-3000.csv", "symbol,price,note\nZürich,-0.25,\"\"\n"},
                                  }));
}

// What save_as_json_files writes, a text_file_stream's lines parse back: a round trip through
// files (records without line breaks in their CSV fields read back through parse_csv too).
TEST(FormatFiles, ReadBackThroughParse) {
  TempDir out;
  {
    rill::testing::Harness h{1s};
    auto in = h.input<Quote>(kQuotes);
    in.save_as_json_files((out.path() / "q").string());
    h.run_batches(3);
  }
  rill::testing::Harness h{1s};
  std::vector<std::vector<std::string>> lines;
  for (int t : {1000, 2000, 3000}) {
    std::istringstream text(read_file(out.path() / ("q-" + std::to_string(t))));
    std::vector<std::string> batch;
    for (std::string line; std::getline(text, line);)
      batch.push_back(line);
    lines.push_back(batch);
  }
  auto parsed = h.input<std::string>(lines).parse_json<Quote>();
  auto got = h.collect(parsed);
  h.run_batches(3);
  EXPECT_EQ(got.batches(), kQuotes);
  EXPECT_EQ(parsed.malformed_count(), 0);
}

TEST(FormatFiles, EmptyPrefixIsRejected) {
  rill::testing::Harness h{1s};
  auto in = h.input<Quote>({});
  EXPECT_THROW(in.save_as_json_files(""), rill::InvalidArgument);
  EXPECT_THROW(in.save_as_csv_files(""), rill::InvalidArgument);
}

namespace {
/// A checkpointed pipeline writing both formats; `until` batches on a fresh manual clock.
void run_checkpointed(const fs::path& root, std::int64_t until) {
  auto clock = rill::ManualClock::create();
  auto ctx = rill::StreamingContext::get_or_create(root / "ckpt", [&] {
    auto c = std::make_unique<rill::StreamingContext>(
        rill::Config{}.batch_interval(1s).parallelism(2).clock(clock).delivery(
            rill::Delivery::exactly_once));
    std::deque<std::vector<Quote>> input;
    for (int b = 0; b < 6; ++b) {
      std::vector<Quote> batch;
      for (int i = 0; i <= b % 3; ++i)
        batch.push_back(Quote{"s" + std::to_string(b), b + i * 0.5,
                              i % 2 == 0 ? std::nullopt : std::optional<std::string>("n,\"")});
      input.push_back(batch);
    }
    auto quotes = c->queue_stream<Quote>(input);
    quotes.save_as_json_files((root / "out" / "j").string());
    quotes.save_as_csv_files((root / "out" / "c").string(), "csv", rill::csv::Header::write);
    return c;
  });
  rill::testing::run_until(*ctx, *clock, rill::Time{until * 1000});
  ctx->stop(rill::StopOptions{.graceful = false});
}
}  // namespace

// A restart writes what an uninterrupted run writes; a batch whose files were committed but
// whose checkpoint was lost runs again and leaves its committed files alone (exactly once).
TEST(FormatFiles, ExactlyOnceAcrossARestart) {
  TempDir ref;
  fs::create_directories(ref.path() / "out");
  run_checkpointed(ref.path(), 6);
  const auto reference = read_dir(ref.path() / "out");
  ASSERT_EQ(reference.size(), 12u);

  TempDir dir;
  fs::create_directories(dir.path() / "out");
  run_checkpointed(dir.path(), 3);
  // As if the process died after batch 3000's outputs but before its checkpoint: the seal
  // record (sealed-3000) stays, the checkpoint goes.
  std::vector<fs::path> checkpoints;
  for (const auto& e : fs::directory_iterator(dir.path() / "ckpt")) {
    const std::string stem = e.path().stem().string();
    if ((stem.starts_with("snapshot-") || stem.starts_with("delta-")) && stem.ends_with("-3000"))
      checkpoints.push_back(e.path());
  }
  ASSERT_EQ(checkpoints.size(), 1u);
  fs::remove(checkpoints.front());
  // Marks the committed file: a replay that wrote it again would lose the mark.
  { std::ofstream(dir.path() / "out" / "j-3000", std::ios::app) << "mark\n"; }
  run_checkpointed(dir.path(), 6);
  auto got = read_dir(dir.path() / "out");
  EXPECT_EQ(got.at("j-3000"), reference.at("j-3000") + "mark\n");
  got["j-3000"] = reference.at("j-3000");
  EXPECT_EQ(got, reference);
}
