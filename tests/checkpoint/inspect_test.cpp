// rill::CheckpointReader on the checkpoints the crash test's pipeline (pipeline.hpp) writes: the
// typed state of its operators at every retained checkpoint against the live operator's output
// and a model, the operators' key counts and positions, wrong types refused, and verify() on
// damaged directories agreeing with what a restart does.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rill/rill.hpp>
#include <rill/testing.hpp>

#include "checkpoint/pipeline.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// Snapshots every 4th checkpoint: snapshot-0, delta-1000..3000, snapshot-4000, ..., snapshot-8000,
// delta-9000..11000; the newest is a delta with a chain of four.
constexpr int kInspectedBatches = 11;

std::vector<std::string> file_lines(const fs::path& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  std::sort(out.begin(), out.end());
  return out;
}

/// map_with_state "sessions" of pipeline.hpp after each batch: per word its count since its
/// session began; a word idle for more than 2 s leaves the state.
std::map<std::int64_t, std::vector<std::pair<std::string, int>>> session_model(int batches) {
  std::map<std::int64_t, std::vector<std::pair<std::string, int>>> out;
  std::map<std::string, std::pair<int, std::int64_t>> state;  // count, last record's batch
  const auto input = rill_test::lines(batches);
  for (int b = 0; b < batches; ++b) {
    const std::int64_t t = (b + 1) * 1000LL;
    for (const auto& line : input[static_cast<std::size_t>(b)]) {
      for (const auto& w : rill::split_words(line)) {
        state[w].first += 1;
        state[w].second = t;
      }
    }
    std::erase_if(state, [&](const auto& kv) { return kv.second.second + 2000 < t; });
    auto& after = out[t];  // empty when no word is in a session
    for (const auto& [w, s] : state)
      after.emplace_back(w, s.first);
  }
  return out;
}

void flip_byte(const fs::path& path, std::streamoff at) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(at);
  char c = 0;
  f.get(c);
  f.seekp(at);
  f.put(static_cast<char>(c ^ 0x5a));
}

class Inspect : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            fmt::format("rill-inspect-{}-{}", ::getpid(), std::random_device{}());
    fs::create_directories(root_ / "out");
    auto clock = rill::ManualClock::create();
    auto ctx = rill::StreamingContext::get_or_create(
        ckpt(), [&] { return rill_test::pipeline(root_ / "out", clock, {}, kInspectedBatches); });
    rill::testing::run_until(*ctx, *clock, rill::Time{kInspectedBatches * 1000});
    ctx->stop();
  }
  void TearDown() override { fs::remove_all(root_); }

  [[nodiscard]] fs::path ckpt() const { return root_ / "ckpt"; }
  /// A copy of the checkpoint directory to damage.
  [[nodiscard]] fs::path copy(const std::string& name) const {
    const fs::path to = root_ / name;
    fs::copy(ckpt(), to, fs::copy_options::recursive);
    return to;
  }
  /// Whether a restart from `dir` starts (recovers) or throws CheckpointError.
  [[nodiscard]] bool restart_succeeds(const fs::path& dir) const {
    const fs::path out = root_ / ("restart-" + dir.filename().string());
    fs::create_directories(out);
    auto clock = rill::ManualClock::create();
    try {
      auto ctx = rill::StreamingContext::get_or_create(
          dir, [&] { return rill_test::pipeline(out, clock, {}, kInspectedBatches); });
      ctx->start();
      ctx->stop(rill::StopOptions{.graceful = false});
      return true;
    } catch (const rill::CheckpointError&) {
      return false;
    }
  }

  fs::path root_;
};

TEST_F(Inspect, StateIsWhatTheLiveOperatorHeldAtEveryRetainedCheckpoint) {
  const rill::CheckpointReader reader(ckpt());
  ASSERT_EQ(reader.latest(), rill::Time{kInspectedBatches * 1000});
  const auto sessions = session_model(kInspectedBatches);
  int compared = 0;
  for (const auto& file : reader.checkpoints()) {
    ASSERT_FALSE(file.damage) << file.path << ": " << *file.damage;
    const std::int64_t t = file.batch_time.milliseconds();
    if (t == 0) continue;  // the zero-time checkpoint: no batch ran yet
    // update_state_by_key emits every key with its state each batch: the file of batch t is
    // the operator's state after it.
    std::vector<std::string> totals;
    for (const auto& [k, v] : reader.state<std::string, int>("totals", file.batch_time))
      totals.push_back(fmt::format("({},{})", k, v));
    EXPECT_EQ(totals, file_lines(root_ / "out" / fmt::format("totals-{}", t))) << "batch " << t;
    EXPECT_EQ((reader.state<std::string, int>("sessions", file.batch_time)), sessions.at(t))
        << "batch " << t;
    ++compared;
  }
  // Snapshots and deltas both (snapshot interval 4, 10 retained).
  EXPECT_GE(compared, 9);
  EXPECT_EQ(reader.chain(), (std::vector<rill::Time>{rill::Time{8000}, rill::Time{9000},
                                                     rill::Time{10000}, rill::Time{11000}}));
}

TEST_F(Inspect, DescribesOperatorsPositionsAndWatermarks) {
  const rill::CheckpointReader reader(ckpt());
  EXPECT_EQ(reader.zero(), rill::Time{0});
  EXPECT_EQ(reader.interval(), 1000ms);
  EXPECT_TRUE(reader.pending().empty());  // a graceful stop checkpoints every sealed batch
  std::map<std::string, rill::CheckpointedOperator> ops;
  for (auto& op : reader.operators())
    ops.emplace(op.name, op);
  ASSERT_TRUE(ops.contains("totals") && ops.contains("sessions") && ops.contains("recent"));
  EXPECT_EQ(ops.at("totals").kind, "update_state_by_key");
  EXPECT_EQ(ops.at("totals").keys,
            static_cast<std::int64_t>(reader.state<std::string, int>("totals").size()));
  EXPECT_EQ(ops.at("sessions").keys,
            static_cast<std::int64_t>(reader.state<std::string, int>("sessions").size()));
  EXPECT_EQ(ops.at("totals").fingerprint, (rill::detail::type_fingerprint<std::string, int>()));
  EXPECT_FALSE(ops.at("totals").input);
  int inputs = 0;
  for (const auto& [name, op] : ops) {
    if (!op.input) continue;
    ++inputs;
    EXPECT_EQ(op.kind, "queue_stream");
    EXPECT_EQ(op.position, fmt::format("next {}", kInspectedBatches)) << name;
  }
  EXPECT_EQ(inputs, 2);
  const auto watermarks = reader.watermarks();
  ASSERT_TRUE(watermarks);
  ASSERT_EQ(watermarks->inputs.size(), 1U);
  EXPECT_EQ(watermarks->inputs[0].input, "events");
  EXPECT_EQ(watermarks->global, watermarks->inputs[0].watermark);
  const auto verification = reader.verify();
  EXPECT_TRUE(verification.recoverable);
  EXPECT_TRUE(verification.damaged.empty());
  EXPECT_EQ(verification.restores, reader.latest());
}

TEST_F(Inspect, WrongTypesNamesAndKindsAreRefused) {
  const rill::CheckpointReader reader(ckpt());
  const auto fingerprint =
      fmt::format("{:#018x}", rill::detail::type_fingerprint<std::string, int>());
  try {
    (void)reader.state<std::string, long>("totals");
    FAIL() << "state<std::string, long> of an int state was read";
  } catch (const rill::InvalidArgument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'totals'"), std::string::npos) << what;
    EXPECT_NE(what.find(fingerprint), std::string::npos) << what;
    EXPECT_NE(
        what.find(fmt::format("{:#018x}", rill::detail::type_fingerprint<std::string, long>())),
        std::string::npos)
        << what;
  }
  // map_with_state's fingerprint includes the time of the last record: another type.
  EXPECT_THROW((void)(reader.state<int, int>("sessions")), rill::InvalidArgument);
  try {
    (void)reader.state<std::string, int>("no_such_operator");
    FAIL();
  } catch (const rill::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("'sessions' (map_with_state)"), std::string::npos)
        << e.what();
  }
  try {
    (void)reader.state<std::string, int>("recent");
    FAIL();
  } catch (const rill::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("reduce_by_key_and_window"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW((void)(reader.state<std::string, int>("totals", rill::Time{123})),
               rill::CheckpointError);
  EXPECT_THROW(rill::CheckpointReader(root_ / "missing"), rill::CheckpointError);
  EXPECT_THROW(rill::CheckpointReader(ckpt() / "snapshot-8000.rill"), rill::CheckpointError);
}

TEST_F(Inspect, VerifyNamesEachDamagedFileAndAgreesWithRecovery) {
  struct Case {
    std::string name;
    std::function<void(const fs::path&)> damage;
    std::string file;                      // the file verify must name
    std::optional<std::int64_t> restores;  // nullopt: recovery refuses
  };
  const std::vector<Case> cases = {
      {"flipped", [](const fs::path& d) { flip_byte(d / "snapshot-8000.rill", 40); },
       "snapshot-8000.rill", 7000},
      {"truncated", [](const fs::path& d) { fs::resize_file(d / "delta-10000.rill", 30); },
       "delta-10000.rill", 9000},
      {"deleted", [](const fs::path& d) { fs::remove(d / "delta-9000.rill"); }, "delta-9000.rill",
       8000},
      {"every snapshot",
       [](const fs::path& d) {
         for (const char* f : {"snapshot-8000.rill", "snapshot-4000.rill", "snapshot-0.rill"})
           flip_byte(d / f, 30);
       },
       "snapshot-4000.rill", std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path dir = copy("case-" + std::to_string(&c - cases.data()));
    c.damage(dir);
    const auto v = rill::CheckpointReader(dir).verify();
    const bool named = std::any_of(v.damaged.begin(), v.damaged.end(),
                                   [&](const auto& d) { return d.path.filename() == c.file; });
    const bool warned = std::any_of(v.warnings.begin(), v.warnings.end(), [&](const auto& w) {
      return w.find(c.file) != std::string::npos;
    });
    EXPECT_TRUE(named) << c.file;
    EXPECT_TRUE(warned) << c.file;
    EXPECT_EQ(v.recoverable, c.restores.has_value()) << v.refusal.value_or("");
    if (c.restores) {
      EXPECT_EQ(v.restores, rill::Time{*c.restores});
    } else {
      EXPECT_NE(v.refusal.value_or("").find("no valid checkpoint"), std::string::npos);
    }
    EXPECT_EQ(restart_succeeds(dir), v.recoverable);
  }
}

TEST_F(Inspect, VerifyRefusesAMissingSealRecordBeforeALaterOne) {
  // Two seal records after the newest checkpoint, the first gone: a restart must refuse.
  const fs::path dir = copy("seals");
  for (const char* f : {"delta-11000.rill", "delta-10000.rill"})
    fs::remove(dir / f);
  ASSERT_TRUE(fs::exists(dir / "sealed-10000.rill"));
  ASSERT_TRUE(fs::exists(dir / "sealed-11000.rill"));
  {
    const rill::CheckpointReader reader(dir);
    EXPECT_EQ(reader.latest(), rill::Time{9000});
    ASSERT_EQ(reader.pending().size(), 2U);
    EXPECT_EQ(reader.pending()[0].inputs.size(), 2U);
    const auto v = reader.verify();
    EXPECT_TRUE(v.recoverable);
    EXPECT_EQ(v.replayed, (std::vector<rill::Time>{rill::Time{10000}, rill::Time{11000}}));
  }
  fs::remove(dir / "sealed-10000.rill");
  const auto v = rill::CheckpointReader(dir).verify();
  EXPECT_FALSE(v.recoverable);
  EXPECT_NE(v.refusal.value_or("").find("sealed-10000.rill"), std::string::npos)
      << v.refusal.value_or("");
  EXPECT_FALSE(restart_succeeds(dir));
}

}  // namespace
