// Consumer groups across processes: this process hosts a mock cluster; children
// (tests/kafka/group_child.cpp) run a stateless checkpointed pipeline, each with its own
// checkpoint directory and output files, as members of one group. Each output line names the
// Kafka record it came from ("<partition>:<offset>"), so the union of the outputs can be compared
// with the input record for record.
#include <rill/kafka.hpp>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "kafka/claim_metadata.hpp"
#include "support/child_process.hpp"
#include "support/eventually.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using rill::kafka::detail::Claim;
using rill::kafka::detail::ClaimMetadata;

namespace {

constexpr int kPartitions = 4;
constexpr const char* kTopic = "events";

/// A Kafka record: (partition, offset).
using Key = std::pair<std::int32_t, std::int64_t>;

/// One output file of a member: its batch time (ms) and the records it holds.
struct OutputBatch {
  std::int64_t time = 0;
  std::vector<Key> records;
};

/// A member of the group: a child process with its own checkpoint directory and outputs.
class Member {
 public:
  Member(const rill::kafka::MockCluster& cluster, const fs::path& root, std::string name,
         std::string group)
      : cluster_(cluster), dir_(root / std::move(name)), group_(std::move(group)) {
    fs::create_directories(dir_ / "out");
  }
  Member(const Member&) = delete;
  Member& operator=(const Member&) = delete;
  ~Member() {
    if (child_) {
      child_->kill();
      static_cast<void>(child_->wait());
    }
  }

  /// Starts the child; with `exit_after_claims` n > 0 it ends itself (exit code 9) right after
  /// its n-th claim, before that batch's seal record is written.
  void start(int exit_after_claims = 0) {
    fs::remove(dir_ / "started");
    fs::remove(dir_ / "busy");
    std::vector<std::string> args{cluster_.bootstrap_servers(),
                                  kTopic,
                                  group_,
                                  (dir_ / "ckpt").string(),
                                  (dir_ / "out").string(),
                                  (dir_ / "stop").string()};
    if (exit_after_claims > 0) args.push_back(std::to_string(exit_after_claims));
    child_ = std::make_unique<rill_test::Child>(RILL_KAFKA_GROUP_CHILD, std::move(args), "");
  }
  /// How the child ended, once it ended by itself within `timeout`; nullopt while it runs.
  std::optional<rill_test::Outcome> exited_within(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int status = 0;
      if (::waitpid(child_->pid(), &status, WNOHANG) == child_->pid()) {
        child_.reset();
        if (WIFSIGNALED(status)) return rill_test::Outcome{true, WTERMSIG(status)};
        return rill_test::Outcome{false, WEXITSTATUS(status)};
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(20ms);
    }
  }
  /// Asks for a graceful stop and waits for it.
  rill_test::Outcome stop() {
    std::ofstream(dir_ / "stop").put('\n');
    return finish();
  }
  /// True once the child's context started (a restart: its checkpoint restored and the batches
  /// it had sealed queued to run again).
  [[nodiscard]] bool started() const { return fs::exists(dir_ / "started"); }
  /// True while the child works on a batch with records.
  [[nodiscard]] bool busy() const { return fs::exists(dir_ / "busy"); }
  rill_test::Outcome kill() {
    child_->kill();
    return finish();
  }

  /// The batches written so far, by batch time (files a kill left half-written excluded).
  [[nodiscard]] std::map<std::int64_t, OutputBatch> batches() const {
    std::map<std::int64_t, OutputBatch> out;
    for (const auto& [name, text] : rill_test::read_outputs(dir_ / "out")) {
      OutputBatch b;
      b.time = std::stoll(name.substr(name.rfind('-') + 1));
      std::istringstream in(text);
      for (std::string line; std::getline(in, line);) {
        const auto colon = line.find(':');
        b.records.emplace_back(std::stoi(line.substr(0, colon)),
                               std::stoll(line.substr(colon + 1)));
      }
      out[b.time] = std::move(b);
    }
    return out;
  }
  /// How many times each record is in this member's outputs.
  [[nodiscard]] std::map<Key, int> records() const {
    std::map<Key, int> out;
    for (const auto& [t, b] : batches()) {
      for (const auto& k : b.records)
        ++out[k];
    }
    return out;
  }

 private:
  rill_test::Outcome finish() {
    const auto outcome = child_->wait();
    child_.reset();
    return outcome;
  }

  const rill::kafka::MockCluster& cluster_;
  fs::path dir_;
  std::string group_;
  std::unique_ptr<rill_test::Child> child_;
};

/// The input: `per_partition` more records in each partition.
class Input {
 public:
  explicit Input(rill::kafka::MockCluster& cluster) : cluster_(cluster) {
    cluster.create_topic(kTopic, kPartitions);
  }
  void produce(int per_partition) {
    std::vector<rill::kafka::ProducerRecord> records;
    for (int p = 0; p < kPartitions; ++p) {
      for (int i = 0; i < per_partition; ++i)
        records.push_back({.key = std::nullopt, .value = "x", .partition = p, .headers = {}});
      for (int i = 0; i < per_partition; ++i)
        produced_.insert(Key{p, next_[p]++});
    }
    cluster_.produce(kTopic, records);
  }
  [[nodiscard]] const std::set<Key>& produced() const { return produced_; }
  /// The next offset of each partition.
  [[nodiscard]] const std::map<std::int32_t, std::int64_t>& next() const { return next_; }

 private:
  rill::kafka::MockCluster& cluster_;
  std::map<std::int32_t, std::int64_t> next_;
  std::set<Key> produced_;
};

/// The group's committed offsets of every partition (-1: none), read with a client that does
/// not join the group.
std::map<std::int32_t, std::int64_t> committed(const std::string& bootstrap,
                                               const std::string& group) {
  std::array<char, 256> err{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  EXPECT_EQ(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err.data(), err.size()),
            RD_KAFKA_CONF_OK);
  EXPECT_EQ(rd_kafka_conf_set(conf, "group.id", group.c_str(), err.data(), err.size()),
            RD_KAFKA_CONF_OK);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err.data(), err.size());
  std::map<std::int32_t, std::int64_t> out;
  if (rk == nullptr) {
    ADD_FAILURE() << err.data();
    return out;
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(kPartitions);
  for (int p = 0; p < kPartitions; ++p)
    rd_kafka_topic_partition_list_add(list, kTopic, p);
  EXPECT_EQ(rd_kafka_committed(rk, list, 5000), RD_KAFKA_RESP_ERR_NO_ERROR);
  for (int i = 0; i < list->cnt; ++i)
    out[list->elems[i].partition] = list->elems[i].offset;
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

/// The claims named by the group's committed offset of every partition that has rill's claim
/// metadata, read with a client that does not join the group.
std::map<std::int32_t, ClaimMetadata> committed_claims(const std::string& bootstrap,
                                                       const std::string& group) {
  std::array<char, 256> err{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  EXPECT_EQ(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err.data(), err.size()),
            RD_KAFKA_CONF_OK);
  EXPECT_EQ(rd_kafka_conf_set(conf, "group.id", group.c_str(), err.data(), err.size()),
            RD_KAFKA_CONF_OK);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err.data(), err.size());
  std::map<std::int32_t, ClaimMetadata> out;
  if (rk == nullptr) {
    ADD_FAILURE() << err.data();
    return out;
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(kPartitions);
  for (int p = 0; p < kPartitions; ++p)
    rd_kafka_topic_partition_list_add(list, kTopic, p);
  EXPECT_EQ(rd_kafka_committed(rk, list, 5000), RD_KAFKA_RESP_ERR_NO_ERROR);
  for (int i = 0; i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    if (e.metadata == nullptr) continue;
    if (auto m = ClaimMetadata::parse(
            std::string_view{static_cast<const char*>(e.metadata), e.metadata_size}))
      out[e.partition] = std::move(*m);
  }
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

fs::path fresh_root(const char* what) {
  const fs::path root = fs::temp_directory_path() / fmt::format("rill-kafka-group-{}-{}-{}", what,
                                                                ::getpid(), std::random_device{}());
  fs::remove_all(root);
  return root;
}

std::string unique_group(const char* what) {
  return fmt::format("rill-group-{}-{}-{}", what, ::getpid(), std::random_device{}());
}

/// True once every produced record is in `seen`.
bool covers(const std::set<Key>& produced, const std::map<Key, int>& seen) {
  for (const auto& k : produced) {
    if (!seen.contains(k)) return false;
  }
  return true;
}

/// What the outputs must hold: every produced record, once.
std::map<Key, int> each_once(const std::set<Key>& produced) {
  std::map<Key, int> out;
  for (const auto& k : produced)
    out[k] = 1;
  return out;
}

std::map<Key, int> merged(const std::map<Key, int>& a, const std::map<Key, int>& b) {
  std::map<Key, int> out = a;
  for (const auto& [k, n] : b)
    out[k] += n;
  return out;
}

}  // namespace

// A second process joins a running one: the group splits the partitions between them at a
// batch boundary, and across the rebalance every record is read by exactly one of them, once.
TEST(KafkaGroup, ASecondProcessTakesHalfThePartitionsAndEachRecordIsReadOnce) {
  const fs::path root = fresh_root("join");
  rill::kafka::MockCluster cluster(1);
  Input input(cluster);
  const std::string group = unique_group("join");
  input.produce(10);
  Member a(cluster, root, "a", group);
  Member b(cluster, root, "b", group);
  a.start();
  ASSERT_TRUE(rill_test::eventually([&] { return covers(input.produced(), a.records()); }, 15s))
      << "the first member did not read the input alone";
  // B joins while records keep coming.
  b.start();
  // The records produced once B has read something: the split shows in them (batch times are
  // each process's own, so the split is judged by offsets).
  std::map<std::int32_t, std::int64_t> late_from;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline) {
    input.produce(2);
    std::this_thread::sleep_for(200ms);
    if (late_from.empty() && !b.records().empty()) late_from = input.next();
    if (!late_from.empty() && input.next().begin()->second >= late_from.begin()->second + 6 &&
        covers(input.produced(), merged(a.records(), b.records())))
      break;
  }
  input.produce(1);
  ASSERT_TRUE(rill_test::eventually(
      [&] { return covers(input.produced(), merged(a.records(), b.records())); }, 10s));
  EXPECT_EQ(a.stop().code, 0);
  EXPECT_EQ(b.stop().code, 0);

  const auto all = merged(a.records(), b.records());
  const std::map<Key, int> want = each_once(input.produced());
  EXPECT_EQ(all, want) << "every record exactly once across both processes";
  // Each partition's committed offset is the end of the last range sealed for it: the input's
  // end.
  std::map<std::int32_t, std::int64_t> ends(input.next().begin(), input.next().end());
  EXPECT_EQ(committed(cluster.bootstrap_servers(), group), ends);
  ASSERT_FALSE(late_from.empty()) << "the second member never read anything";
  const auto late = [&](const Member& m) {
    std::set<std::int32_t> out;
    for (const auto& [k, n] : m.records()) {
      if (k.second >= late_from.at(k.first)) out.insert(k.first);
    }
    return out;
  };
  const auto pa = late(a);
  const auto pb = late(b);
  EXPECT_FALSE(pa.empty());
  EXPECT_FALSE(pb.empty());
  for (const auto p : pa)
    EXPECT_FALSE(pb.contains(p)) << "partition " << p << " read by both after the rebalance";
  EXPECT_EQ(pa.size() + pb.size(), static_cast<std::size_t>(kPartitions));
  fs::remove_all(root);
}

// One of two processes is killed (SIGKILL) while it runs: after the session timeout the other
// takes its partitions over at the group's committed offsets, which are the ends of the ranges
// the killed process sealed (it commits each range before the batch runs). The killed process,
// restarted on its checkpoint directory, runs the batches it had sealed (the records it owes),
// then joins again. The union of both processes' output files (a kill's half-written file is not
// one: the file sink renames a batch's file into place) holds every record exactly once.
TEST(KafkaGroup, AKilledProcessesPartitionsMoveToTheOtherAndEachRecordIsReadOnce) {
  const fs::path root = fresh_root("kill");
  rill::kafka::MockCluster cluster(1);
  Input input(cluster);
  const std::string group = unique_group("kill");
  input.produce(10);
  Member a(cluster, root, "a", group);
  Member b(cluster, root, "b", group);
  a.start();
  b.start();
  // Both members read records produced once both have read something.
  std::map<std::int32_t, std::int64_t> late_from;
  const auto late = [&](const Member& m) {
    std::set<std::int32_t> out;
    for (const auto& [k, n] : m.records()) {
      if (!late_from.empty() && k.second >= late_from.at(k.first)) out.insert(k.first);
    }
    return out;
  };
  ASSERT_TRUE(rill_test::eventually(
      [&] {
        input.produce(1);
        std::this_thread::sleep_for(100ms);
        if (late_from.empty() && !a.records().empty() && !b.records().empty())
          late_from = input.next();
        return !late(a).empty() && !late(b).empty() &&
               late(a).size() + late(b).size() == static_cast<std::size_t>(kPartitions);
      },
      15s))
      << "the group did not split the partitions between the two members";
  const auto a_parts = late(a);
  // Killed while a batch runs (the child's batches with records work for 60 ms of a 100 ms
  // interval), a random time into it, with records coming: the restart has a sealed batch to
  // replay. (A kill between a range's claim and its seal record is the tests below.)
  std::mt19937 random(std::random_device{}());
  input.produce(8);
  ASSERT_TRUE(rill_test::eventually([&] { return a.busy(); }, 5s));
  std::this_thread::sleep_for(std::chrono::milliseconds(random() % 40));
  EXPECT_TRUE(a.kill().killed);
  const auto at_kill = committed(cluster.bootstrap_servers(), group);
  // B takes A's partitions once A's session timed out (4 s) and a join round passed (3 s).
  const auto after_kill = input.next();
  ASSERT_TRUE(rill_test::eventually(
      [&] {
        input.produce(1);
        std::this_thread::sleep_for(100ms);
        const auto rb = b.records();
        for (const auto p : a_parts) {
          if (!rb.contains(Key{p, after_kill.at(p)})) return false;
        }
        return true;
      },
      15s))
      << "the survivor did not take the killed member's partitions";
  // B read everything produced; what A had sealed and not run is A's alone (B started after it).
  ASSERT_TRUE(rill_test::eventually(
      [&] {
        const auto rb = b.records();
        for (const auto& [p, end] : input.next()) {
          if (end > 0 && !rb.contains(Key{p, end - 1})) return false;
        }
        return true;
      },
      10s));
  // A comes back on its checkpoint directory: it runs what it had sealed, then joins again.
  a.start();
  ASSERT_TRUE(rill_test::eventually(
      [&] { return a.started() && covers(input.produced(), merged(a.records(), b.records())); },
      15s))
      << "records missing after the restart";
  // Their output is complete (a batch's file is renamed into place whole). A graceful stop now
  // would wait for the mock's join round that A's return started (3 s); the join test covers it.
  EXPECT_TRUE(a.kill().killed);
  EXPECT_TRUE(b.kill().killed);

  const std::map<Key, int> want = each_once(input.produced());
  EXPECT_EQ(merged(a.records(), b.records()), want)
      << "every record exactly once across the kill, the takeover and the restart";
  // B took each of A's partitions over exactly at the offset committed when A died.
  const auto rb = b.records();
  for (const auto p : a_parts) {
    std::int64_t first = -1;
    for (const auto& [k, n] : rb) {
      if (k.first == p && k.second >= late_from.at(p) && (first < 0 || k.second < first))
        first = k.second;
    }
    EXPECT_EQ(first, at_kill.at(p)) << "partition " << p;
  }
  fs::remove_all(root);
}

// A process that ends right after a claim's commit, before that batch's seal record is written
// (the test hook ends it there: exit code 9), restarted on its checkpoint, finds its claim in the
// group's committed metadata (its token, a batch after the last one it sealed) and reads that
// range first. Alone in the group, it also gets its partitions back at the committed offsets.
TEST(KafkaGroup, AProcessKilledBetweenItsClaimAndItsSealRecordFinishesTheClaimOnRestart) {
  const fs::path root = fresh_root("window");
  rill::kafka::MockCluster cluster(1);
  Input input(cluster);
  const std::string group = unique_group("window");
  input.produce(10);
  Member a(cluster, root, "a", group);
  // Five records per partition and batch: the second claim takes offsets 5..10.
  a.start(/*exit_after_claims=*/2);
  const auto outcome = a.exited_within(30s);
  ASSERT_TRUE(outcome.has_value()) << "the child did not claim twice";
  EXPECT_FALSE(outcome->killed);
  ASSERT_EQ(outcome->code, 9) << "the child did not end in the claim-to-seal-record window";
  // The group's offsets moved past the claim: without the claim's metadata the restart would
  // start after it, and its records would be nobody's.
  const auto at_exit = committed(cluster.bootstrap_servers(), group);
  const auto claims = committed_claims(cluster.bootstrap_servers(), group);
  std::set<std::string> tokens;
  for (int p = 0; p < kPartitions; ++p) {
    ASSERT_TRUE(claims.contains(p)) << "partition " << p << " has no claim metadata";
    const auto& primary = claims.at(p).primary;
    ASSERT_TRUE(primary.has_value()) << "partition " << p;
    EXPECT_EQ(primary->until, at_exit.at(p)) << "partition " << p;
    EXPECT_EQ(primary->from, 5) << "partition " << p;
    tokens.insert(primary->token);
  }
  EXPECT_EQ(tokens.size(), 1U) << "one process, one token";
  const auto before = a.records();
  for (int p = 0; p < kPartitions; ++p) {
    for (std::int64_t o = claims.at(p).primary->from; o < claims.at(p).primary->until; ++o)
      EXPECT_FALSE(before.contains(Key{p, o})) << "the claimed batch ran before the exit";
  }

  a.start();
  ASSERT_TRUE(rill_test::eventually(
      [&] { return a.started() && covers(input.produced(), a.records()); }, 15s))
      << "the restart did not finish its claim";
  // It joins the group again and reads on from the committed offsets.
  input.produce(3);
  ASSERT_TRUE(rill_test::eventually([&] { return covers(input.produced(), a.records()); }, 20s));
  EXPECT_EQ(a.stop().code, 0);
  const std::map<Key, int> want = each_once(input.produced());
  EXPECT_EQ(a.records(), want) << "every record exactly once across the exit and the restart";
  // Leaving the group (alone in it, so no join round refuses the commit), it struck its claims,
  // all sealed, from the partitions' metadata: nothing for a next owner to carry forward.
  const auto left = committed_claims(cluster.bootstrap_servers(), group);
  EXPECT_EQ(left.size(), static_cast<std::size_t>(kPartitions));
  for (const auto& [p, m] : left) {
    EXPECT_FALSE(m.primary.has_value()) << "partition " << p << ": " << m.format();
    EXPECT_TRUE(m.owed.empty()) << "partition " << p << ": " << m.format();
  }
  EXPECT_EQ(committed(cluster.bootstrap_servers(), group),
            (std::map<std::int32_t, std::int64_t>(input.next().begin(), input.next().end())));
  fs::remove_all(root);
}

// Two members: A ends right after its first claim (before the seal record), the survivor B takes
// A's partitions over at the committed offsets, claims further on them and carries A's claim
// forward in its commits' metadata (A's token is foreign to B); A, restarted later, finds its
// claim there and reads it. Every record is output exactly once by the two.
TEST(KafkaGroup, AClaimOfAKilledProcessIsCarriedForwardByTheSurvivorAndFinishedOnRestart) {
  const fs::path root = fresh_root("carry");
  rill::kafka::MockCluster cluster(1);
  Input input(cluster);
  const std::string group = unique_group("carry");
  input.produce(10);
  Member a(cluster, root, "a", group);
  Member b(cluster, root, "b", group);
  b.start();
  ASSERT_TRUE(rill_test::eventually([&] { return covers(input.produced(), b.records()); }, 15s))
      << "the first member did not read the input alone";
  std::string b_token;
  for (const auto& [p, m] : committed_claims(cluster.bootstrap_servers(), group)) {
    ASSERT_TRUE(m.primary.has_value());
    b_token = m.primary->token;
  }
  ASSERT_FALSE(b_token.empty());
  // A joins with records coming; its first claim (after the group gave it partitions) ends it.
  a.start(/*exit_after_claims=*/1);
  std::optional<rill_test::Outcome> outcome;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!outcome && std::chrono::steady_clock::now() < deadline) {
    input.produce(1);
    outcome = a.exited_within(100ms);
  }
  ASSERT_TRUE(outcome.has_value()) << "the second member never claimed";
  EXPECT_FALSE(outcome->killed);
  ASSERT_EQ(outcome->code, 9) << "the child did not end in the claim-to-seal-record window";
  std::map<std::int32_t, Claim> a_claims;  // partition -> A's unsealed claim
  for (const auto& [p, m] : committed_claims(cluster.bootstrap_servers(), group)) {
    ASSERT_TRUE(m.primary.has_value());
    if (m.primary->token != b_token) a_claims[p] = *m.primary;
  }
  ASSERT_FALSE(a_claims.empty()) << "no partition names the second member's claim";
  // B takes A's partitions over (A's session times out) and claims further on them.
  ASSERT_TRUE(rill_test::eventually(
      [&] {
        input.produce(1);
        std::this_thread::sleep_for(100ms);
        const auto rb = b.records();
        for (const auto& [p, c] : a_claims) {
          if (!rb.contains(Key{p, c.until})) return false;
        }
        return true;
      },
      20s))
      << "the survivor did not take the partitions over";
  // Its commits on them carry A's claim forward.
  const auto carried = committed_claims(cluster.bootstrap_servers(), group);
  for (const auto& [p, c] : a_claims) {
    ASSERT_TRUE(carried.contains(p));
    const auto& m = carried.at(p);
    ASSERT_TRUE(m.primary.has_value());
    EXPECT_EQ(m.primary->token, b_token) << "partition " << p;
    EXPECT_NE(std::find(m.owed.begin(), m.owed.end(), c), m.owed.end())
        << "partition " << p << ": " << m.format();
  }
  const auto rb = b.records();
  for (const auto& [p, c] : a_claims) {
    for (std::int64_t o = c.from; o < c.until; ++o)
      EXPECT_FALSE(rb.contains(Key{p, o})) << "the survivor read the killed member's claim";
  }
  // B read everything else produced (A's claim is A's alone).
  const auto owed_to_a = [&](const Key& k) {
    const auto it = a_claims.find(k.first);
    return it != a_claims.end() && k.second >= it->second.from && k.second < it->second.until;
  };
  ASSERT_TRUE(rill_test::eventually(
      [&] {
        const auto seen = merged(a.records(), b.records());
        for (const auto& k : input.produced()) {
          if (!owed_to_a(k) && !seen.contains(k)) return false;
        }
        return true;
      },
      15s));
  // A restarted finishes its claim first (before it joins the group again).
  a.start();
  ASSERT_TRUE(rill_test::eventually(
      [&] {
        const auto ra = a.records();
        for (const auto& [p, c] : a_claims) {
          for (std::int64_t o = c.from; o < c.until; ++o) {
            if (!ra.contains(Key{p, o})) return false;
          }
        }
        return a.started();
      },
      15s))
      << "the restarted member did not finish its claim";
  EXPECT_TRUE(covers(input.produced(), merged(a.records(), b.records())));
  // A graceful stop would wait for the mock's join round A's return started (3 s); the join test
  // covers it.
  EXPECT_TRUE(a.kill().killed);
  EXPECT_TRUE(b.kill().killed);
  const std::map<Key, int> want = each_once(input.produced());
  EXPECT_EQ(merged(a.records(), b.records()), want)
      << "every record exactly once across the exit, the takeover and the restart";
  fs::remove_all(root);
}
