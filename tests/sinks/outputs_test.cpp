// Output operations: print(n) in Spark's layout, save_as_text_files, foreach_batch.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <unistd.h>

#include <rill/testing.hpp>

#include "support/table.hpp"
#include "support/temp_dirs.hpp"

using namespace std::chrono_literals;
using rill::Batch;
using rill::Time;
using rill_test::Batches;

namespace fs = std::filesystem;

namespace {

const std::string kDashes(43, '-');

/// The block print() writes for one batch.
std::string block(std::int64_t ms, const std::vector<std::string>& lines) {
  std::string out = kDashes + "\nTime: " + std::to_string(ms) + " ms\n" + kDashes + "\n";
  for (const auto& l : lines)
    out += l + "\n";
  return out + "\n";
}

/// Runs one batch first (uncaptured: starting the context may log), then captures what stdout
/// receives while the next `n` batches run.
std::string capture_batches(rill::testing::Harness& h, std::size_t n) {
  h.run_batches(1);
  testing::internal::CaptureStdout();
  h.run_batches(n);
  return testing::internal::GetCapturedStdout();
}

using rill_test::read_file;
using rill_test::TempDir;

}  // namespace

// ---- print ----

TEST(Print, LayoutTable) {
  struct PrintCase {
    std::string name;
    std::vector<int> batch;
    std::size_t n;
    std::vector<std::string> lines;
  };
  const std::vector<PrintCase> cases{
      {"fewer_than_n", {1, 2, 3}, 10, {"1", "2", "3"}},
      {"exactly_n", {1, 2, 3}, 3, {"1", "2", "3"}},
      {"one_more_than_n", {1, 2, 3, 4}, 3, {"1", "2", "3", "..."}},
      {"many_more_than_n", {5, 6, 7, 8, 9, 10}, 2, {"5", "6", "..."}},
      {"empty_batch", {}, 10, {}},
      {"n_is_one", {-1, -2}, 1, {"-1", "..."}},
      {"n_is_zero", {1}, 0, {"..."}},
      {"n_is_zero_empty_batch", {}, 0, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    rill::testing::Harness h{1s};
    h.input<int>({{}, c.batch}).print(c.n);
    EXPECT_EQ(capture_batches(h, 1), block(2000, c.lines));
  }
}

TEST(Print, DefaultPrintsTen) {
  rill::testing::Harness h{1s};
  auto in = h.input<int>({{}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}});
  in.print();
  EXPECT_EQ(capture_batches(h, 2),
            block(2000, {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "..."}) +
                block(3000, {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}));
}

TEST(Print, EveryBatchTimeIncludingEmptyOnes) {
  rill::testing::Harness h{rill_test::config(3)};
  h.input<int>({{}, {1, 2, 3, 4, 5, 6, 7}, {}, {8}}).print(5);
  EXPECT_EQ(capture_batches(h, 3),
            block(2000, {"1", "2", "3", "4", "5", "..."}) + block(3000, {}) + block(4000, {"8"}));
}

TEST(Print, RecordsInPartitionOrder) {
  rill::testing::Harness h{rill_test::config(8)};
  h.input<int>({{}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}}).print(20);
  EXPECT_EQ(capture_batches(h, 1), block(2000, {"9", "8", "7", "6", "5", "4", "3", "2", "1", "0"}));
}

TEST(Print, TwoPrintsRunInRegistrationOrder) {
  rill::testing::Harness h{1s};
  auto in = h.input<int>({{}, {1, 2}});
  in.map([](int x) { return x * 100; }).print();
  in.print(1);
  EXPECT_EQ(capture_batches(h, 1), block(2000, {"100", "200"}) + block(2000, {"1", "..."}));
}

TEST(Print, FormatsRecordsLikeSpark) {
  rill::testing::Harness h{1s};
  using KV = std::pair<std::string, int>;
  auto words = h.input<KV>({{}, {{"a", 1}, {"b", 2}, {"a", 3}}});
  auto other = h.input<std::pair<std::string, double>>({{}, {{"a", 2.0}, {"c", 0.25}}});
  words.print();
  words.group_by_key(1).print();
  words.left_outer_join(other, 1).print();
  words.full_outer_join(other, 1).print();
  words.map_values([](int v) { return v / 2.0; }).print();
  words.map([](const KV& kv) { return std::tuple{kv.first, kv.second, kv.second == 1}; }).print();
  words.map([](const KV& kv) { return kv.first; }).glom().print();
  words
      .map([](const KV& kv) {
        return std::pair{kv.first, std::pair{kv.second, -0.5 * kv.second}};
      })
      .print(1);
  EXPECT_EQ(capture_batches(h, 1),
            block(2000, {"(a,1)", "(b,2)", "(a,3)"}) + block(2000, {"(a,[1, 3])", "(b,[2])"}) +
                block(2000, {"(a,(1,Some(2.0)))", "(a,(3,Some(2.0)))", "(b,(2,None))"}) +
                block(2000, {"(a,(Some(1),Some(2.0)))", "(a,(Some(3),Some(2.0)))",
                             "(b,(Some(2),None))", "(c,(None,Some(0.25)))"}) +
                block(2000, {"(a,0.5)", "(b,1.0)", "(a,1.5)"}) +
                block(2000, {"(a,1,true)", "(b,2,false)", "(a,3,false)"}) +
                block(2000, {"[a]", "[b, a]"}) + block(2000, {"(a,(1,-0.5))", "..."}));
}

TEST(Print, Doubles) {
  rill::testing::Harness h{1s};
  h.input<double>({{}, {2.0, 2.5, -3.0, 0.0, 1e21, 0.1, 100.0}}).print();
  EXPECT_EQ(capture_batches(h, 1),
            block(2000, {"2.0", "2.5", "-3.0", "0.0", "1e+21", "0.1", "100.0"}));
}

TEST(Print, NonFiniteDoubles) {
  rill::testing::Harness h{1s};
  const double inf = std::numeric_limits<double>::infinity();
  h.input<double>({{}, {inf, -inf}}).print();
  EXPECT_EQ(capture_batches(h, 1), block(2000, {"inf", "-inf"}));
}

// A float prints as fmt prints that float: its shortest representation, not the double's.
TEST(Print, Floats) {
  rill::testing::Harness h{1s};
  h.input<float>({{}, {2.0f, 1.5f, 0.1f, -3.0f}}).print();
  EXPECT_EQ(capture_batches(h, 1), block(2000, {"2.0", "1.5", "0.1", "-3.0"}));
  EXPECT_EQ(fmt::format("{}", 0.1f), "0.1");
}

TEST(Print, CountsAndStrings) {
  rill::testing::Harness h{1s};
  auto in = h.input<std::string>({{}, {"hello world", "", "x"}});
  in.print();
  in.count().print();
  EXPECT_EQ(capture_batches(h, 1), block(2000, {"hello world", "", "x"}) + block(2000, {"3"}));
}

// Nothing but print's blocks reaches stdout, also while the context starts and stops.
TEST(Print, NothingElseOnStdout) {
  testing::internal::CaptureStdout();
  {
    rill::testing::Harness h{1s};
    h.input<int>({{1}}).print();
    h.run_batches(1);
  }
  EXPECT_EQ(testing::internal::GetCapturedStdout(), block(1000, {"1"}));
}

// ---- save_as_text_files ----

TEST(TextFiles, WithSuffix) {
  TempDir dir;
  {
    rill::testing::Harness h{1s};
    h.input<int>({{1, 2, 3}, {}, {4}}).save_as_text_files((dir.path() / "out").string(), "txt");
    h.run_batches(3);
  }
  EXPECT_EQ(dir.names(), (std::set<std::string>{"out-1000.txt", "out-2000.txt", "out-3000.txt"}));
  EXPECT_EQ(read_file(dir.path() / "out-1000.txt"), "1\n2\n3\n");
  EXPECT_EQ(read_file(dir.path() / "out-2000.txt"), "");
  EXPECT_EQ(read_file(dir.path() / "out-3000.txt"), "4\n");
}

TEST(TextFiles, WithoutSuffix) {
  TempDir dir;
  rill::testing::Harness h{1s};
  h.input<std::string>({{"a line", "another"}, {"x"}})
      .save_as_text_files((dir.path() / "lines").string());
  h.run_batches(3);
  EXPECT_EQ(dir.names(), (std::set<std::string>{"lines-1000", "lines-2000", "lines-3000"}));
  EXPECT_EQ(read_file(dir.path() / "lines-1000"), "a line\nanother\n");
  EXPECT_EQ(read_file(dir.path() / "lines-2000"), "x\n");
  EXPECT_EQ(read_file(dir.path() / "lines-3000"), "");
  EXPECT_TRUE(fs::is_regular_file(dir.path() / "lines-3000"));
}

TEST(TextFiles, FormatsAndOrdersRecords) {
  TempDir dir;
  rill::testing::Harness h{rill_test::config(8)};
  using KV = std::pair<std::string, int>;
  auto in = h.input<KV>({{{"b", 1}, {"a", 2}, {"b", 3}}});
  in.save_as_text_files((dir.path() / "pairs").string(), "csv");
  in.group_by_key(1).save_as_text_files((dir.path() / "groups").string());
  in.map_values([](int v) {
      return std::optional<double>{v * 1.0};
    }).save_as_text_files((dir.path() / "opts").string());
  h.input<int>({std::vector<int>{20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10}})
      .save_as_text_files((dir.path() / "ints").string());
  h.run_batches(1);
  EXPECT_EQ(read_file(dir.path() / "pairs-1000.csv"), "(b,1)\n(a,2)\n(b,3)\n");
  EXPECT_EQ(read_file(dir.path() / "groups-1000"), "(b,[1, 3])\n(a,[2])\n");
  EXPECT_EQ(read_file(dir.path() / "opts-1000"), "(b,Some(1.0))\n(a,Some(2.0))\n(b,Some(3.0))\n");
  EXPECT_EQ(read_file(dir.path() / "ints-1000"), "20\n19\n18\n17\n16\n15\n14\n13\n12\n11\n10\n");
  EXPECT_EQ(dir.names().size(), 4u);
}

// Files are written under a temporary name and renamed: none is left behind, and none starts
// with '.' or '_' (which a text_file_stream on the directory would skip).
TEST(TextFiles, NoTemporaryFilesLeft) {
  TempDir dir;
  rill::testing::Harness h{rill_test::config(4)};
  auto in = h.input<int>({{1, 2, 3, 4, 5}, {}, {6, 7}, {8}});
  in.save_as_text_files((dir.path() / "a").string(), "out");
  in.map([](int x) { return x * 2; }).save_as_text_files((dir.path() / "b").string());
  h.run_batches(5);
  const auto names = dir.names();
  EXPECT_EQ(names.size(), 10u);
  for (const auto& name : names) {
    EXPECT_NE(name.front(), '.') << name;
    EXPECT_NE(name.front(), '_') << name;
    EXPECT_EQ(name.find("tmp"), std::string::npos) << name;
    EXPECT_TRUE(fs::is_regular_file(dir.path() / name)) << name;
  }
  EXPECT_EQ(read_file(dir.path() / "a-1000.out"), "1\n2\n3\n4\n5\n");
  EXPECT_EQ(read_file(dir.path() / "b-3000"), "12\n14\n");
  EXPECT_EQ(read_file(dir.path() / "b-5000"), "");
}

// An existing file of the same name is replaced whole.
TEST(TextFiles, ExistingFileIsReplaced) {
  TempDir dir;
  {
    std::ofstream old(dir.path() / "out-1000");
    old << "stale contents that are longer than the new ones\n";
  }
  rill::testing::Harness h{1s};
  h.input<int>({{7}}).save_as_text_files((dir.path() / "out").string());
  h.run_batches(1);
  EXPECT_EQ(read_file(dir.path() / "out-1000"), "7\n");
}

TEST(TextFiles, EmptyPrefixIsRejected) {
  rill::testing::Harness h{1s};
  auto in = h.input<int>({{1}});
  EXPECT_THROW(in.save_as_text_files(""), rill::InvalidArgument);
  EXPECT_THROW(in.save_as_text_files("", "txt"), rill::InvalidArgument);
}

TEST(TextFiles, MissingDirectoryFailsTheBatch) {
  TempDir dir;
  rill::testing::Harness h{1s};
  h.input<int>({{1}}).save_as_text_files((dir.path() / "no" / "such" / "dir" / "out").string());
  EXPECT_THROW(h.run_batches(1), rill::IoError);
  EXPECT_TRUE(dir.names().empty());
}

// ---- foreach_batch ----

TEST(ForeachBatch, SeesPartitions) {
  rill::testing::Harness h{rill_test::config(3)};
  struct Seen {
    Time time;
    std::size_t size;
    bool empty;
    std::size_t num_partitions;
    Batches<int> partitions;
    std::vector<int> iterated;
    std::vector<int> collected;
  };
  std::vector<Seen> seen;  // foreach_batch runs on the batch thread; read after run_batches
  h.input<int>({{1, 2, 3, 4, 5, 6, 7}, {}}).foreach_batch([&seen](const Batch<int>& b, Time t) {
    Seen s{t, b.size(), b.empty(), b.num_partitions(), {}, {}, b.collect()};
    for (std::size_t i = 0; i < b.num_partitions(); ++i)
      s.partitions.emplace_back(b.partition(i).begin(), b.partition(i).end());
    for (int x : b)
      s.iterated.push_back(x);
    seen.push_back(std::move(s));
  });
  h.run_batches(2);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].time, Time{1000});
  EXPECT_EQ(seen[0].size, 7u);
  EXPECT_FALSE(seen[0].empty);
  EXPECT_EQ(seen[0].num_partitions, 3u);
  EXPECT_EQ(seen[0].partitions, (Batches<int>{{1, 2}, {3, 4}, {5, 6, 7}}));
  EXPECT_EQ(seen[0].iterated, (std::vector<int>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(seen[0].collected, seen[0].iterated);
  EXPECT_EQ(seen[1].time, Time{2000});
  EXPECT_EQ(seen[1].size, 0u);
  EXPECT_TRUE(seen[1].empty);
  EXPECT_EQ(seen[1].num_partitions, 3u);
  EXPECT_EQ(seen[1].partitions, (Batches<int>{{}, {}, {}}));
  EXPECT_TRUE(seen[1].iterated.empty());
}

TEST(ForeachBatch, SeesKeyedPartitions) {
  rill::testing::Harness h{rill_test::config(2)};
  using KV = std::pair<int, int>;
  std::vector<KV> input;
  for (int i = 0; i < 40; ++i)
    input.push_back({i % 10, 1});
  std::vector<std::size_t> partition_counts;
  std::vector<std::vector<std::size_t>> partition_sizes;
  std::vector<KV> records;
  h.input<KV>({input})
      .reduce_by_key([](int a, int b) { return a + b; }, 5)
      .foreach_batch([&](const Batch<KV>& b, Time) {
        partition_counts.push_back(b.num_partitions());
        auto& sizes = partition_sizes.emplace_back();
        for (std::size_t i = 0; i < b.num_partitions(); ++i) {
          sizes.push_back(b.partition(i).size());
          records.insert(records.end(), b.partition(i).begin(), b.partition(i).end());
        }
      });
  h.run_batches(2);
  EXPECT_EQ(partition_counts, (std::vector<std::size_t>{5, 5}));
  std::size_t total = 0;
  for (auto s : partition_sizes[0])
    total += s;
  EXPECT_EQ(total, 10u);
  EXPECT_EQ(partition_sizes[1], (std::vector<std::size_t>{0, 0, 0, 0, 0}));
  std::sort(records.begin(), records.end());
  std::vector<KV> expected;
  for (int k = 0; k < 10; ++k)
    expected.push_back({k, 4});
  EXPECT_EQ(records, expected);
}

TEST(ForeachBatch, OutputsRunInRegistrationOrderEveryBatch) {
  rill::testing::Harness h{1s};
  auto in = h.input<int>({{1}, {}});
  std::vector<std::string> log;
  in.foreach_batch([&log](const Batch<int>& b, Time t) {
    log.push_back("first@" + std::to_string(t.milliseconds()) + ":" + std::to_string(b.size()));
  });
  in.count().foreach_batch([&log](const Batch<std::int64_t>& b, Time t) {
    log.push_back("count@" + std::to_string(t.milliseconds()) + ":" + std::to_string(*b.begin()));
  });
  in.foreach_batch([&log](const Batch<int>&, Time t) {
    log.push_back("last@" + std::to_string(t.milliseconds()));
  });
  h.run_batches(3);
  EXPECT_EQ(log, (std::vector<std::string>{"first@1000:1", "count@1000:1", "last@1000",
                                           "first@2000:0", "count@2000:0", "last@2000",
                                           "first@3000:0", "count@3000:0", "last@3000"}));
}

// Two outputs of one stream read the same batch: it is shared, not copied.
TEST(ForeachBatch, OutputsShareTheBatch) {
  rill::testing::Harness h{1s};
  auto doubled = h.input<int>({{1, 2, 3}}).map([](int x) { return x * 2; });
  const Batch<int>* first = nullptr;
  const Batch<int>* second = nullptr;
  doubled.foreach_batch([&first](const Batch<int>& b, Time) { first = &b; });
  doubled.foreach_batch([&second](const Batch<int>& b, Time) {
    second = &b;
    EXPECT_EQ(b.collect(), (std::vector<int>{2, 4, 6}));
  });
  h.run_batches(1);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first, second);
}

TEST(ForeachBatch, ExceptionFailsRunBatches) {
  rill::testing::Harness h{1s};
  std::vector<Time> seen;
  h.input<int>({{1}, {2}, {3}}).foreach_batch([&seen](const Batch<int>&, Time t) {
    seen.push_back(t);
    if (t == Time{2000}) throw std::runtime_error("boom at 2000");
  });
  try {
    h.run_batches(3);
    ADD_FAILURE() << "run_batches did not rethrow";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("boom at 2000"), std::string::npos) << e.what();
  }
  EXPECT_EQ(seen, (std::vector<Time>{Time{1000}, Time{2000}}));
}
