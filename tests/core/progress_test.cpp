// The progress record of every batch (docs/operations.md): BatchInfo as listeners,
// StreamingContext::last_progress() and recent_progress() see it, its JSON form (rill::to_json),
// and Config::progress_log() with its rotation. Under the manual clock the batch times, record
// counts, input rates, state sizes and watermarks are exact; the wall-clock times are only
// checked for consistency.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>
#include <rill/testing.hpp>

#include "support/state_recorder.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

using rill::Time;

/// Every on_batch_completed record, in order.
class Completed final : public rill::StreamingListener {
 public:
  void on_batch_completed(const rill::BatchInfo& info) override {
    std::lock_guard lock(mutex_);
    infos_.push_back(info);
  }
  std::vector<rill::BatchInfo> infos() {
    std::lock_guard lock(mutex_);
    return infos_;
  }

 private:
  std::mutex mutex_;
  std::vector<rill::BatchInfo> infos_;
};

/// A fresh directory for one test's files.
fs::path fresh_dir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("rill_progress_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::vector<std::string> lines_of(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

std::int64_t batch_time_of(const std::string& line) {
  return json::parse(line).as_object().at("batch_time_ms").as_int64();
}

}  // namespace

// Records, input rates (records per second of batch time), outputs and the defaults of what
// these sources do not have, for several intervals.
TEST(Progress, CountsRecordsAndRatesPerSourceAndTimesEachOutput) {
  struct Case {
    rill::Duration interval;
    double per_record;  // records/s one record per batch makes
  };
  for (const Case& c : {Case{1s, 1.0}, Case{250ms, 4.0}, Case{2s, 0.5}}) {
    SCOPED_TRACE(c.interval.count());
    rill::testing::Harness h{rill::Config{}.batch_interval(c.interval).parallelism(2)};
    auto completed = std::make_shared<Completed>();
    h.context().add_listener(completed);
    auto clicks = h.input<int>({{1, 2, 3}, {}, {4}}).name("clicks");
    auto views = h.input<int>({{5}, {6, 7}}).name("views");
    (void)h.collect(clicks.union_with(views));
    (void)h.collect(views.count());
    h.run_batches(3);

    const auto infos = completed->infos();
    ASSERT_EQ(infos.size(), 3U);
    EXPECT_EQ(h.context().recent_progress().size(), 3U);
    const std::vector<std::int64_t> clicks_n{3, 0, 1};
    const std::vector<std::int64_t> views_n{1, 2, 0};
    for (std::size_t i = 0; i < infos.size(); ++i) {
      const rill::BatchInfo& info = infos[i];
      EXPECT_EQ(info.batch_time, Time{0} + c.interval * static_cast<int>(i + 1));
      EXPECT_EQ(info.num_records, clicks_n[i] + views_n[i]);
      ASSERT_EQ(info.sources.size(), 2U);
      EXPECT_EQ(info.sources[0].name, "clicks");
      EXPECT_EQ(info.sources[1].name, "views");
      EXPECT_EQ(info.sources[0].num_records, clicks_n[i]);
      EXPECT_EQ(info.sources[1].num_records, views_n[i]);
      EXPECT_DOUBLE_EQ(info.sources[0].input_rate, static_cast<double>(clicks_n[i]) * c.per_record);
      EXPECT_DOUBLE_EQ(info.sources[1].input_rate, static_cast<double>(views_n[i]) * c.per_record);
      EXPECT_DOUBLE_EQ(info.input_rate, static_cast<double>(info.num_records) * c.per_record);
      EXPECT_FALSE(info.sources[0].queue.has_value()) << "a queue stream has no receiver queue";
      // Both outputs ran, in registration order.
      ASSERT_EQ(info.outputs.size(), 2U);
      EXPECT_EQ(info.outputs[0].name, "foreach_batch#1");
      EXPECT_EQ(info.outputs[1].name, "foreach_batch#2");
      EXPECT_GE(info.outputs[0].duration.count(), 0);
      EXPECT_GE(info.sealing_duration.count(), 0);
      // processing_rate is the records over the processing time (in µs): positive with records.
      EXPECT_EQ(info.processing_rate > 0, info.num_records > 0);
      if (info.processing_delay.count() > 0) {
        EXPECT_LE(info.processing_rate, static_cast<double>(info.num_records) * 1000.0 /
                                            static_cast<double>(info.processing_delay.count()));
      }
      EXPECT_FALSE(info.checkpoint.has_value());
      EXPECT_FALSE(info.watermark.has_value());
      EXPECT_FALSE(info.back_pressure);
      EXPECT_EQ(info.held_back, 0ms);
      EXPECT_TRUE(info.state.empty());
    }
    // last_progress() is the newest record, equal to what the listener got.
    const auto last = h.context().last_progress();
    ASSERT_TRUE(last.has_value());
    EXPECT_EQ(last->batch_time, infos.back().batch_time);
    EXPECT_EQ(rill::to_json(*last), rill::to_json(infos.back()));
  }
}

TEST(Progress, OutputsNotDefinedAtABatchTimeAreNotListed) {
  rill::testing::Harness h{1s};
  auto in = h.input<int>({{1}, {2}, {3}, {4}});
  (void)h.collect(in);
  (void)h.collect(in.window(2s, 2s));
  h.run_batches(4);
  std::vector<std::size_t> outputs;
  for (const auto& info : h.context().recent_progress())
    outputs.push_back(info.outputs.size());
  EXPECT_EQ(outputs, (std::vector<std::size_t>{1, 2, 1, 2}));
}

TEST(Progress, LastProgressIsEmptyBeforeTheFirstBatch) {
  rill::testing::Harness h{1s};
  (void)h.collect(h.input<int>({{1}}));
  EXPECT_FALSE(h.context().last_progress().has_value());
  EXPECT_TRUE(h.context().recent_progress().empty());
  h.run_batches(1);
  EXPECT_TRUE(h.context().last_progress().has_value());
}

// recent_progress() keeps the last 100 records, oldest first, also after the stop.
TEST(Progress, RecentProgressKeepsTheLastHundredBatches) {
  rill::testing::Harness h{10ms};
  (void)h.collect(h.input<int>({{1}}));
  h.run_batches(105);
  h.context().stop();
  const auto recent = h.context().recent_progress();
  ASSERT_EQ(recent.size(), 100U);
  for (std::size_t i = 0; i < recent.size(); ++i)
    EXPECT_EQ(recent[i].batch_time, Time{static_cast<std::int64_t>(60 + 10 * i)});
  EXPECT_EQ(h.context().last_progress()->batch_time, Time{1050});
}

// Without listeners a batch's record goes straight into the history (no event is built); a
// listener added later hears the next batches, with the records the history keeps, and the
// history holds every batch, before and after, in order.
TEST(Progress, AListenerAddedLaterHearsTheNextBatchesAndTheHistoryKeepsEveryOne) {
  rill::testing::Harness h{10ms};
  (void)h.collect(h.input<int>({{1, 2}, {3}, {}, {4}, {5, 6, 7}}));
  h.run_batches(3);  // no listener yet
  auto completed = std::make_shared<Completed>();
  h.context().add_listener(completed);
  h.run_batches(2);
  const auto heard = completed->infos();
  ASSERT_EQ(heard.size(), 2U);
  EXPECT_EQ(heard[0].batch_time, Time{40});
  EXPECT_EQ(heard[0].num_records, 1);
  EXPECT_EQ(heard[1].batch_time, Time{50});
  EXPECT_EQ(heard[1].num_records, 3);
  const auto recent = h.context().recent_progress();
  ASSERT_EQ(recent.size(), 5U);
  const std::int64_t records[] = {2, 1, 0, 1, 3};
  for (std::size_t i = 0; i < recent.size(); ++i) {
    EXPECT_EQ(recent[i].batch_time, Time{static_cast<std::int64_t>(10 + 10 * i)});
    EXPECT_EQ(recent[i].num_records, records[i]);
    ASSERT_EQ(recent[i].sources.size(), 1U);  // moved into the history whole
    EXPECT_EQ(recent[i].sources[0].num_records, records[i]);
    ASSERT_EQ(recent[i].outputs.size(), 1U);
  }
  EXPECT_EQ(rill::to_json(recent[4]), rill::to_json(heard[1]));
  EXPECT_EQ(h.context().progress_totals().batches, 5);
  EXPECT_EQ(h.context().progress_totals().records, 7);
}

// A stateful event-time operator: keys, bytes and late records per batch, and the watermark in
// force, as the drop_duplicates test of dedup_test.cpp makes them.
TEST(Progress, ShowsStateSizesLateRecordsAndTheWatermark) {
  struct Click {
    int id = 0;
    Time time;
  };
  auto click = [](int id, std::int64_t seconds) { return Click{id, Time{seconds * 1000}}; };
  rill::testing::Harness h{rill::Config{}.batch_interval(1s).parallelism(2).worker_threads(2)};
  std::vector<std::vector<Click>> input(7);
  for (int i = 0; i < 5; ++i) {
    for (int s = 10; s <= 15; ++s)
      input[0].push_back(click(i, s));
  }
  input[1] = {click(0, 25)};
  input[3] = {click(0, 10)};
  input[4] = {click(0, 45)};
  input[6] = {click(0, 25)};
  (void)h.collect(h.input<Click>(input)
                      .with_watermark(&Click::time, 10s)
                      .drop_duplicates([](const Click& c) { return c.time.milliseconds(); })
                      .name("dedup"));
  h.run_batches(7);
  std::vector<std::int64_t> keys;
  std::vector<std::int64_t> late;
  std::vector<std::optional<std::int64_t>> watermarks;
  for (const auto& info : h.context().recent_progress()) {
    ASSERT_EQ(info.state.size(), 1U);
    EXPECT_EQ(info.state[0].name, "dedup");
    keys.push_back(info.state[0].keys);
    late.push_back(info.state[0].late_records);
    EXPECT_EQ(info.state[0].bytes > 0, info.state[0].keys > 0);
    watermarks.push_back(info.watermark ? std::optional(info.watermark->milliseconds())
                                        : std::nullopt);
  }
  EXPECT_EQ(keys, (std::vector<std::int64_t>{6, 7, 1, 1, 2, 1, 1}));
  EXPECT_EQ(late, (std::vector<std::int64_t>{0, 0, 0, 1, 0, 0, 1}));
  // wm(t): the global watermark at the end of the batch before (max event time - 10 s).
  EXPECT_EQ(watermarks, (std::vector<std::optional<std::int64_t>>{std::nullopt, 5000, 15000, 15000,
                                                                  15000, 35000, 35000}));
}

// A receiver stream's queue: how much the tick found in it, and its bounds.
TEST(Progress, ShowsTheReceiverQueueABatchTook) {
  class Three final : public rill::Receiver<std::string> {
   public:
    void on_start() override {
      thread_ = std::thread([this] { store(std::vector<std::string>{"ab", "cde", "f"}); });
    }
    void on_stop() override {
      if (thread_.joinable()) thread_.join();
    }

   private:
    std::thread thread_;
  };
  rill::testing::Harness h{rill::Config{}
                               .batch_interval(1s)
                               .parallelism(1)
                               .receiver_queue_capacity(10)
                               .receiver_queue_bytes(1000)};
  (void)h.collect(h.context().receiver_stream<std::string>(std::make_shared<Three>()).name("in"));
  h.context().start();
  ASSERT_TRUE(h.await_records_stored(3));
  rill::testing::run_until(h.context(), h.clock(), Time{1000});
  rill::testing::run_until(h.context(), h.clock(), Time{2000});
  const auto recent = h.context().recent_progress();
  ASSERT_EQ(recent.size(), 2U);
  ASSERT_TRUE(recent[0].sources.at(0).queue.has_value());
  const rill::QueueInfo queue = *recent[0].sources[0].queue;
  EXPECT_EQ(queue.records, 3);
  EXPECT_EQ(queue.bytes, static_cast<std::int64_t>(3 * sizeof(std::string) + 6));
  EXPECT_EQ(queue.capacity_records, 10);
  EXPECT_EQ(queue.capacity_bytes, 1000);
  EXPECT_FALSE(queue.blocked);
  EXPECT_FALSE(recent[0].back_pressure);
  EXPECT_EQ(recent[1].sources.at(0).queue->records, 0);
  h.context().stop();
}

TEST(Progress, BlockQueueNotesThatAStoreWaitedForRoom) {
  rill::detail::BlockQueue<int> queue(rill::detail::QueueBounds{2, 1000});
  queue.push(1);
  queue.push(2);
  EXPECT_FALSE(queue.blocked_since_drain());
  std::thread producer([&] { queue.push(3); });  // blocks: the queue is full
  while (!queue.blocked_since_drain())
    std::this_thread::yield();
  auto [records, parts] = queue.drain();
  producer.join();
  EXPECT_EQ(records, (std::vector<int>{1, 2}));
  EXPECT_EQ(queue.last_drain().records, 2U);
  EXPECT_EQ(queue.last_drain().bytes, 2 * sizeof(int));
  EXPECT_TRUE(queue.last_drain().blocked);
  (void)queue.drain();  // the blocked store's record; nothing waited since
  EXPECT_EQ(queue.last_drain().records, 1U);
  EXPECT_FALSE(queue.last_drain().blocked);
}

// A checkpointed context reports each checkpoint's bytes, time and kind.
TEST(Progress, ShowsEachCheckpointsBytesAndKind) {
  const fs::path dir = fresh_dir("checkpoint");
  rill::testing::Harness h{rill::Config{}.batch_interval(1s).checkpoint_snapshot_interval(2)};
  h.context().checkpoint(dir / "cp");
  using KV = std::pair<std::string, int>;
  (void)h.collect(h.input<KV>({{{"a", 1}, {"b", 2}}, {{"a", 3}}, {}})
                      .update_state_by_key([](const std::vector<int>& xs, std::optional<int> s) {
                        int sum = s.value_or(0);
                        for (int x : xs)
                          sum += x;
                        return std::optional<int>(sum);
                      })
                      .name("sums"));
  h.run_batches(3);
  h.context().stop();
  const auto recent = h.context().recent_progress();
  ASSERT_EQ(recent.size(), 3U);
  std::vector<bool> snapshots;
  for (const auto& info : recent) {
    ASSERT_TRUE(info.checkpoint.has_value());
    EXPECT_GT(info.checkpoint->bytes, 0);
    EXPECT_GE(info.checkpoint->duration.count(), 0);
    snapshots.push_back(info.checkpoint->snapshot);
  }
  // start() wrote the run's first snapshot at the zero time; then every 2nd is one.
  EXPECT_EQ(snapshots, (std::vector<bool>{false, true, false}));
  fs::remove_all(dir);
}

// ---- JSON ----

namespace {
rill::BatchInfo full_record() {
  rill::BatchInfo info;
  info.batch_time = Time{3000};
  info.num_records = 1500;
  info.scheduling_delay = 2ms;
  info.processing_delay = 40ms;
  info.total_delay = 42ms;
  info.held_back = 0ms;
  info.watermark = Time{1700000000000};
  info.input_rate = 1500;
  info.processing_rate = 37500.25;
  info.sealing_duration = 120us;
  info.back_pressure = true;
  info.sources = {rill::SourceProgress{"clicks", 1000, 1000, std::nullopt, std::nullopt},
                  rill::SourceProgress{"lines \"raw\"", 500, 500,
                                       rill::QueueInfo{500, 24000, 262144, 67108864, true}, 812.5}};
  info.outputs = {rill::OutputProgress{"foreach_batch#1", 35000us}};
  info.state = {rill::StateInfo{"sessions", 12, 960, 3}};
  info.checkpoint = rill::CheckpointInfo{4096, 1800us, false};
  return info;
}
}  // namespace

// The schema of docs/operations.md, byte for byte: key names, order, units, nulls.
TEST(ProgressJson, WritesTheDocumentedSchemaOnOneLine) {
  EXPECT_EQ(
      rill::to_json(full_record()),
      R"({"batch_time_ms":3000,"num_records":1500,"input_rate_per_second":1500,)"
      R"("processing_rate_per_second":3.750025E4,"scheduling_delay_ms":2,"processing_delay_ms":40,)"
      R"("total_delay_ms":42,"sealing_us":120,"held_back_ms":0,"back_pressure":true,)"
      R"("watermark_ms":1700000000000,"sources":[{"name":"clicks","num_records":1000,)"
      R"("input_rate_per_second":1000,"queue":null,"rate_limit_per_second":null},)"
      R"({"name":"lines \"raw\"","num_records":500,)"
      R"("input_rate_per_second":500,"queue":{"records":500,"bytes":24000,)"
      R"("capacity_records":262144,"capacity_bytes":67108864,"blocked":true},)"
      R"("rate_limit_per_second":8.125E2}],)"
      R"("outputs":[{"name":"foreach_batch#1","duration_us":35000}],)"
      R"("state":[{"name":"sessions","keys":12,"bytes":960,"late_records":3}],)"
      R"("checkpoint":{"bytes":4096,"duration_us":1800,"snapshot":false}})");
  rill::BatchInfo empty;
  empty.batch_time = Time{1000};
  const auto parsed = json::parse(rill::to_json(empty)).as_object();
  EXPECT_TRUE(parsed.at("watermark_ms").is_null());
  EXPECT_TRUE(parsed.at("checkpoint").is_null());
  EXPECT_TRUE(parsed.at("sources").as_array().empty());
}

// Parsed back with Boost.JSON, every field has the record's value; rates keep 3 decimals.
TEST(ProgressJson, RoundTripsThroughBoostJson) {
  rill::BatchInfo info = full_record();
  info.processing_rate = 2.0 / 3.0;
  const std::string line = rill::to_json(info);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const json::object o = json::parse(line).as_object();
  EXPECT_EQ(o.at("batch_time_ms").as_int64(), info.batch_time.milliseconds());
  EXPECT_EQ(o.at("num_records").as_int64(), info.num_records);
  EXPECT_EQ(o.at("input_rate_per_second").to_number<double>(), info.input_rate);
  EXPECT_DOUBLE_EQ(o.at("processing_rate_per_second").as_double(), 0.667);
  EXPECT_EQ(o.at("scheduling_delay_ms").as_int64(), info.scheduling_delay.count());
  EXPECT_EQ(o.at("processing_delay_ms").as_int64(), info.processing_delay.count());
  EXPECT_EQ(o.at("total_delay_ms").as_int64(), info.total_delay.count());
  EXPECT_EQ(o.at("sealing_us").as_int64(), info.sealing_duration.count());
  EXPECT_EQ(o.at("held_back_ms").as_int64(), info.held_back.count());
  EXPECT_EQ(o.at("back_pressure").as_bool(), info.back_pressure);
  EXPECT_EQ(o.at("watermark_ms").as_int64(), info.watermark->milliseconds());
  const auto& sources = o.at("sources").as_array();
  ASSERT_EQ(sources.size(), info.sources.size());
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const auto& s = sources[i].as_object();
    EXPECT_EQ(s.at("name").as_string(), info.sources[i].name);
    EXPECT_EQ(s.at("num_records").as_int64(), info.sources[i].num_records);
    EXPECT_EQ(s.at("input_rate_per_second").to_number<double>(), info.sources[i].input_rate);
    EXPECT_EQ(s.at("queue").is_null(), !info.sources[i].queue.has_value());
  }
  const auto& queue = sources[1].as_object().at("queue").as_object();
  EXPECT_EQ(queue.at("records").as_int64(), info.sources[1].queue->records);
  EXPECT_EQ(queue.at("bytes").as_int64(), info.sources[1].queue->bytes);
  EXPECT_EQ(queue.at("capacity_records").as_int64(), info.sources[1].queue->capacity_records);
  EXPECT_EQ(queue.at("capacity_bytes").as_int64(), info.sources[1].queue->capacity_bytes);
  EXPECT_EQ(queue.at("blocked").as_bool(), info.sources[1].queue->blocked);
  const auto& output = o.at("outputs").as_array().at(0).as_object();
  EXPECT_EQ(output.at("name").as_string(), info.outputs[0].name);
  EXPECT_EQ(output.at("duration_us").as_int64(), info.outputs[0].duration.count());
  const auto& state = o.at("state").as_array().at(0).as_object();
  EXPECT_EQ(state.at("name").as_string(), info.state[0].name);
  EXPECT_EQ(state.at("keys").as_int64(), info.state[0].keys);
  EXPECT_EQ(state.at("bytes").as_int64(), info.state[0].bytes);
  EXPECT_EQ(state.at("late_records").as_int64(), info.state[0].late_records);
  const auto& checkpoint = o.at("checkpoint").as_object();
  EXPECT_EQ(checkpoint.at("bytes").as_int64(), info.checkpoint->bytes);
  EXPECT_EQ(checkpoint.at("duration_us").as_int64(), info.checkpoint->duration.count());
  EXPECT_EQ(checkpoint.at("snapshot").as_bool(), info.checkpoint->snapshot);
}

// ---- progress_log ----

TEST(ProgressLog, AppendsOneJsonLinePerCompletedBatch) {
  const fs::path dir = fresh_dir("log");
  const fs::path file = dir / "progress.jsonl";
  {
    rill::testing::Harness h{rill::Config{}.batch_interval(1s).progress_log(file)};
    (void)h.collect(h.input<int>({{1, 2}, {}, {3}}));
    h.run_batches(3);  // returns once each batch's line is written
    const auto lines = lines_of(file);
    ASSERT_EQ(lines.size(), 3U);
    const auto recent = h.context().recent_progress();
    for (std::size_t i = 0; i < lines.size(); ++i) {
      EXPECT_EQ(lines[i], rill::to_json(recent[i]));
      EXPECT_EQ(batch_time_of(lines[i]), 1000 * static_cast<std::int64_t>(i + 1));
    }
  }
  // A second run appends.
  {
    rill::testing::Harness h{rill::Config{}.batch_interval(1s).progress_log(file)};
    (void)h.collect(h.input<int>({{4}}));
    h.run_batches(1);
  }
  EXPECT_EQ(lines_of(file).size(), 4U);
  fs::remove_all(dir);
}

// Rotation by size: path -> path.1 -> ... -> path.<max_files>; older lines are gone. With a
// rotation size of 1 byte every line starts a new file.
TEST(ProgressLog, RotatesBySizeKeepingMaxFiles) {
  constexpr int kBatches = 4;
  for (const std::size_t max_files : {std::size_t{0}, std::size_t{2}, std::size_t{5}}) {
    SCOPED_TRACE(max_files);
    const fs::path dir = fresh_dir("rotate");
    const fs::path file = dir / "progress.jsonl";
    auto rotated = [&](std::size_t n) { return dir / ("progress.jsonl." + std::to_string(n)); };
    {
      rill::testing::Harness h{rill::Config{}.batch_interval(1s).progress_log(file, 1, max_files)};
      (void)h.collect(h.input<int>({{1}, {2}, {3}, {4}}));
      h.run_batches(kBatches);
    }
    ASSERT_EQ(lines_of(file).size(), 1U);
    EXPECT_EQ(batch_time_of(lines_of(file)[0]), 4000);
    const std::size_t kept = std::min<std::size_t>(max_files, kBatches - 1);
    for (std::size_t n = 1; n <= kept; ++n) {
      const auto lines = lines_of(rotated(n));
      ASSERT_EQ(lines.size(), 1U) << n;
      EXPECT_EQ(batch_time_of(lines[0]), 1000 * static_cast<std::int64_t>(kBatches - n)) << n;
    }
    EXPECT_FALSE(fs::exists(rotated(kept + 1)));
    fs::remove_all(dir);
  }
}

// Lines accumulate up to the rotation size, which a file never passes.
TEST(ProgressLog, FillsAFileUpToTheRotationSize) {
  const fs::path dir = fresh_dir("fill");
  const fs::path file = dir / "progress.jsonl";
  constexpr std::uint64_t kMaxBytes = 2000;
  {
    rill::testing::Harness h{rill::Config{}.batch_interval(1s).progress_log(file, kMaxBytes, 9)};
    (void)h.collect(h.input<int>({{1}}));
    h.run_batches(40);
  }
  std::vector<std::int64_t> times;
  std::size_t longest = 0;  // the longest line, with its newline
  for (std::size_t n = 9; n >= 1; --n) {
    for (const auto& l : lines_of(dir / ("progress.jsonl." + std::to_string(n))))
      longest = std::max(longest, l.size() + 1);
  }
  for (std::size_t n = 9; n >= 1; --n) {
    const fs::path f = dir / ("progress.jsonl." + std::to_string(n));
    if (!fs::exists(f)) continue;
    EXPECT_LE(fs::file_size(f), kMaxBytes);
    // A rotated file was full: the next line would not have fit.
    EXPECT_GT(fs::file_size(f) + longest, kMaxBytes);
    for (const auto& l : lines_of(f))
      times.push_back(batch_time_of(l));
  }
  EXPECT_LE(fs::file_size(file), kMaxBytes);
  for (const auto& l : lines_of(file))
    times.push_back(batch_time_of(l));
  ASSERT_EQ(times.size(), 40U) << "lines lost or repeated";
  for (std::size_t i = 0; i < times.size(); ++i)
    EXPECT_EQ(times[i], 1000 * static_cast<std::int64_t>(i + 1));
  fs::remove_all(dir);
}

TEST(ProgressLog, AnUnwritablePathFailsStart) {
  const fs::path dir = fresh_dir("unwritable");
  rill::testing::Harness h{
      rill::Config{}.batch_interval(1s).progress_log(dir / "missing" / "progress.jsonl")};
  (void)h.collect(h.input<int>({{1}}));
  try {
    h.context().start();
    FAIL() << "start() did not throw";
  } catch (const rill::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("missing/progress.jsonl"), std::string::npos) << e.what();
  }
  EXPECT_NE(h.context().state(), rill::ContextState::active);
  fs::remove_all(dir);
}

TEST(ProgressLog, RejectsAnEmptyPathOrAZeroSize) {
  EXPECT_THROW((void)rill::Config{}.progress_log(""), rill::InvalidArgument);
  EXPECT_THROW((void)rill::Config{}.progress_log("p.jsonl", 0), rill::InvalidArgument);
}
