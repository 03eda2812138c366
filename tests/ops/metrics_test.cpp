// /metrics, /progress and /context of rill::ops against the context they serve: the Prometheus
// text parsed back by a strict reader of the format (tests/ops/prometheus_parser.hpp), its
// values compared with last_progress(), progress_totals() and source_stats(); the JSON compared
// with recent_progress(). Under the manual clock, so that no batch runs between the two reads.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>
#include <rill/ops.hpp>
#include <rill/testing.hpp>

#include "ops/http_client.hpp"
#include "ops/prometheus_parser.hpp"
#include "support/flood_receiver.hpp"

using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

/// A queue source with an awkward name (a quote, a backslash, a line feed: the label escapes),
/// a stateful operator and an output.
struct MetricsPipeline {
  static constexpr const char* kSourceName = "words \"en\" \\ main\nline";

  rill::testing::Harness h{rill::Config{}.batch_interval(1s).parallelism(2).worker_threads(2)};

  MetricsPipeline() {
    std::vector<std::vector<std::string>> batches = {
        {"a", "b", "a"}, {"c"}, {}, {"a", "d", "e", "f"}, {"b", "b"}};
    auto words = h.input<std::string>(batches).name(kSourceName);
    words.map([](const std::string& w) {
           return std::pair{w, std::int64_t{1}};
         })
        .update_state_by_key([](const std::vector<std::int64_t>& ones,
                                std::optional<std::int64_t> count) -> std::optional<std::int64_t> {
          std::int64_t n = count.value_or(0);
          for (const auto one : ones)
            n += one;
          return n;
        })
        .name("word_counts")
        .foreach_batch([](const rill::Batch<std::pair<std::string, std::int64_t>>&, rill::Time) {});
  }
};

TEST(OpsMetrics, ParsesBackAsPrometheusTextAndMatchesTheContext) {
  MetricsPipeline p;
  auto server = rill::ops::serve(p.h.context());
  p.h.run_batches(5);
  const auto result = rill_test::http_get(server.port(), "/metrics");
  ASSERT_EQ(result.status(), 200) << result.error;
  EXPECT_EQ(result.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");

  const auto text = result.body();
  const auto exposition = rill_test::parse_exposition(text);
  for (const auto& e : exposition.errors)
    ADD_FAILURE() << e;
  ASSERT_TRUE(exposition.errors.empty()) << text;

  const auto last = p.h.context().last_progress();
  ASSERT_TRUE(last);
  const auto totals = p.h.context().progress_totals();
  EXPECT_EQ(last->batch_time, rill::Time{5000});

  // Counters over every batch, and the last batch's gauges.
  EXPECT_EQ(exposition.value("rill_batches_completed_total"), 5);
  EXPECT_EQ(exposition.value("rill_input_records_total"), 10);
  EXPECT_EQ(
      exposition.value("rill_source_records_total", {{"source", MetricsPipeline::kSourceName}}),
      10);
  EXPECT_EQ(exposition.value("rill_last_batch_time_seconds"), 5.0);
  EXPECT_EQ(exposition.value("rill_last_batch_records"), 2);
  EXPECT_EQ(exposition.value("rill_last_batch_input_records_per_second"), 2.0);
  EXPECT_EQ(exposition.value("rill_source_last_batch_records",
                             {{"source", MetricsPipeline::kSourceName}}),
            2);
  EXPECT_EQ(exposition.value("rill_last_batch_processing_delay_seconds"),
            static_cast<double>(last->processing_delay.count()) / 1000.0);
  EXPECT_EQ(exposition.value("rill_last_batch_scheduling_delay_seconds"),
            static_cast<double>(last->scheduling_delay.count()) / 1000.0);
  EXPECT_EQ(exposition.value("rill_batch_interval_seconds"), 1.0);
  EXPECT_EQ(exposition.value("rill_context_state", {{"state", "active"}}), 1);
  EXPECT_EQ(exposition.value("rill_context_state", {{"state", "stopped"}}), 0);
  // The state: 6 distinct words after batch 5.
  ASSERT_EQ(last->state.size(), 1u);
  EXPECT_EQ(last->state[0].name, "word_counts");
  EXPECT_EQ(last->state[0].keys, 6);
  EXPECT_EQ(exposition.value("rill_operator_state_keys", {{"operator", "word_counts"}}), 6);
  EXPECT_EQ(exposition.value("rill_operator_state_bytes", {{"operator", "word_counts"}}),
            static_cast<double>(last->state[0].bytes));
  EXPECT_EQ(exposition.value("rill_output_last_duration_seconds", {{"output", "foreach_batch#1"}}),
            static_cast<double>(last->outputs.at(0).duration.count()) / 1e6);
  // No watermark and no checkpoint here: their gauges are absent.
  EXPECT_EQ(exposition.family("rill_watermark_seconds"), nullptr);
  EXPECT_EQ(exposition.family("rill_last_checkpoint_bytes"), nullptr);

  // The histograms count every batch: _count 5, _sum the delays' sum in seconds.
  for (const auto& [name, histogram] :
       {std::pair{"rill_batch_processing_delay_seconds", totals.processing_delay},
        std::pair{"rill_batch_total_delay_seconds", totals.total_delay},
        std::pair{"rill_batch_scheduling_delay_seconds", totals.scheduling_delay}}) {
    const auto* family = exposition.family(name);
    ASSERT_NE(family, nullptr) << name;
    EXPECT_EQ(family->type, "histogram");
    EXPECT_EQ(exposition.value(std::string(name) + "_count"), 5) << name;
    EXPECT_EQ(exposition.value(std::string(name) + "_bucket", {{"le", "+Inf"}}), 5) << name;
    EXPECT_DOUBLE_EQ(exposition.value(std::string(name) + "_sum").value_or(-1),
                     static_cast<double>(histogram.sum_ms) / 1000.0)
        << name;
  }
  // Every delay of a manual-clock batch is far below 60 s: the 60 s bucket holds them all.
  EXPECT_EQ(exposition.value("rill_batch_total_delay_seconds_bucket", {{"le", "60"}}), 5);

  // Types as documented.
  std::map<std::string, std::string> types;
  for (const auto& f : exposition.families)
    types[f.name] = f.type;
  EXPECT_EQ(types["rill_source_records_total"], "counter");
  EXPECT_EQ(types["rill_operator_state_bytes"], "gauge");
  EXPECT_EQ(types["rill_last_batch_total_delay_seconds"], "gauge");
}

// Rate control's limit (Config::max_rate_per_source) is a gauge per source; a source that cannot
// be limited (a queue) has no sample.
TEST(OpsMetrics, ARateLimitedReceiverShowsItsLimit) {
  rill::testing::Harness h(
      rill::Config{}.batch_interval(1s).parallelism(1).max_rate_per_source(100));
  h.context()
      .receiver_stream<std::int64_t>(std::make_shared<rill_test::FloodReceiver>())
      .name("flood")
      .count()
      .print(0);
  h.input<std::int64_t>(std::vector<std::vector<std::int64_t>>{{1}, {2}})
      .name("queue")
      .count()
      .print(0);
  auto server = rill::ops::serve(h.context());
  h.run_batches(2);
  const auto result = rill_test::http_get(server.port(), "/metrics");
  ASSERT_EQ(result.status(), 200) << result.error;
  const auto exposition = rill_test::parse_exposition(result.body());
  ASSERT_TRUE(exposition.errors.empty()) << result.body();
  const auto* family = exposition.family("rill_source_rate_limit_records_per_second");
  ASSERT_NE(family, nullptr);
  EXPECT_EQ(family->type, "gauge");
  EXPECT_EQ(exposition.value("rill_source_rate_limit_records_per_second", {{"source", "flood"}}),
            100.0);
  EXPECT_EQ(exposition.value("rill_source_rate_limit_records_per_second", {{"source", "queue"}}),
            std::nullopt);
}

TEST(OpsMetrics, TheParserCatchesBrokenText) {
  // The reader of the tests above must fail what the format forbids, or it proves nothing.
  const auto errors = [](const std::string& text) {
    return rill_test::parse_exposition(text).errors.size();
  };
  EXPECT_EQ(errors("# HELP rill_x_total x\n# TYPE rill_x_total counter\nrill_x_total 1\n"), 0u);
  EXPECT_GT(errors("rill_x_total 1\n"), 0u);                                         // no TYPE
  EXPECT_GT(errors("# HELP rill_x x\n# TYPE rill_x counter\nrill_x 1\n"), 0u);       // no _total
  EXPECT_GT(errors("# HELP rill_x x\n# TYPE rill_x gauge\nrill_x{a=\"b} 1\n"), 0u);  // unclosed
  EXPECT_GT(errors("# HELP rill_x x\n# TYPE rill_x gauge\nrill_x{a=\"\\q\"} 1\n"), 0u);
  EXPECT_GT(errors("# HELP rill_x x\n# TYPE rill_x gauge\nrill_x one\n"), 0u);
  EXPECT_GT(errors("# HELP rill_h x\n# TYPE rill_h histogram\nrill_h_bucket{le=\"1\"} 3\n"
                   "rill_h_bucket{le=\"+Inf\"} 2\nrill_h_sum 1\nrill_h_count 2\n"),
            0u);  // buckets go down
  EXPECT_GT(errors("# HELP rill_h x\n# TYPE rill_h histogram\nrill_h_bucket{le=\"1\"} 1\n"
                   "rill_h_bucket{le=\"+Inf\"} 2\nrill_h_count 2\n"),
            0u);                                                            // no _sum
  EXPECT_GT(errors("# HELP rill_x x\n# TYPE rill_x gauge\nrill_x 1"), 0u);  // no final \n
}

TEST(OpsMetrics, ProgressIsTheRecentRecordsAsAJsonArray) {
  MetricsPipeline p;
  auto server = rill::ops::serve(p.h.context());
  // Before any batch: an empty array.
  auto empty = rill_test::http_get(server.port(), "/progress");
  ASSERT_EQ(empty.status(), 200) << empty.error;
  EXPECT_EQ(empty.body(), "[]");

  p.h.run_batches(4);
  const auto result = rill_test::http_get(server.port(), "/progress");
  ASSERT_EQ(result.status(), 200) << result.error;
  EXPECT_EQ(result.header("Content-Type"), "application/json");
  const json::value parsed = json::parse(result.body());
  const auto recent = p.h.context().recent_progress();
  ASSERT_EQ(recent.size(), 4u);
  ASSERT_TRUE(parsed.is_array());
  ASSERT_EQ(parsed.as_array().size(), recent.size());
  for (std::size_t i = 0; i < recent.size(); ++i) {
    EXPECT_EQ(parsed.as_array()[i], json::parse(rill::to_json(recent[i]))) << i;
    EXPECT_EQ(parsed.as_array()[i].at("batch_time_ms").as_int64(), 1000 * (std::int64_t(i) + 1));
  }
  EXPECT_EQ(parsed.as_array()[0].at("num_records").as_int64(), 3);
}

TEST(OpsMetrics, ContextDescribesTheGraphAndTotals) {
  MetricsPipeline p;
  auto server = rill::ops::serve(p.h.context());
  auto before = json::parse(rill_test::http_get(server.port(), "/context").body());
  EXPECT_EQ(before.at("state").as_string(), "initialized");
  EXPECT_TRUE(before.at("operators").as_array().empty());

  p.h.run_batches(2);
  const auto result = rill_test::http_get(server.port(), "/context");
  ASSERT_EQ(result.status(), 200) << result.error;
  const auto c = json::parse(result.body());
  EXPECT_EQ(c.at("state").as_string(), "active");
  EXPECT_EQ(c.at("batch_interval_ms").as_int64(), 1000);
  EXPECT_EQ(c.at("totals").at("batches").as_int64(), 2);
  EXPECT_EQ(c.at("totals").at("records").as_int64(), 4);
  const auto graph = p.h.context().operator_graph();
  const auto& ops = c.at("operators").as_array();
  ASSERT_EQ(ops.size(), graph.operators.size());
  ASSERT_EQ(graph.operators.size(), 3u);  // the source, map, update_state_by_key
  EXPECT_EQ(graph.operators[0].name, MetricsPipeline::kSourceName);
  EXPECT_TRUE(graph.operators[0].parents.empty());
  EXPECT_EQ(graph.operators[1].parents, std::vector<std::string>{MetricsPipeline::kSourceName});
  EXPECT_EQ(graph.operators[2].name, "word_counts");
  EXPECT_EQ(graph.operators[2].kind, "update_state_by_key");
  for (std::size_t i = 0; i < ops.size(); ++i) {
    EXPECT_EQ(ops[i].at("name").as_string(), graph.operators[i].name);
    EXPECT_EQ(ops[i].at("kind").as_string(), graph.operators[i].kind);
  }
  ASSERT_EQ(c.at("outputs").as_array().size(), 1u);
  EXPECT_EQ(c.at("outputs").as_array()[0].at("name").as_string(), "foreach_batch#1");
  EXPECT_EQ(c.at("outputs").as_array()[0].at("parent").as_string(), "word_counts");
}

TEST(OpsMetrics, ProgressTotalsCountEveryBatchBeyondTheLastHundred) {
  rill::testing::Harness h{10ms};
  h.input<int>({{1, 2}, {3}}).foreach_batch([](const rill::Batch<int>&, rill::Time) {});
  h.run_batches(120);
  const auto totals = h.context().progress_totals();
  EXPECT_EQ(h.context().recent_progress().size(), 100u);
  EXPECT_EQ(totals.batches, 120);
  EXPECT_EQ(totals.records, 3);
  EXPECT_EQ(totals.processing_delay.count, 120);
  std::int64_t in_buckets = 0;
  for (const auto n : totals.processing_delay.counts)
    in_buckets += n;
  EXPECT_EQ(in_buckets, 120);
}

TEST(OpsMetrics, DelayHistogramPutsEachDelayInTheFirstBucketItFits) {
  rill::DelayHistogram h;
  h.observe(rill::Duration{0});      // le 1 ms
  h.observe(rill::Duration{1});      // le 1 ms (bounds are inclusive)
  h.observe(rill::Duration{2});      // le 5 ms
  h.observe(rill::Duration{60000});  // le 60 s
  h.observe(rill::Duration{60001});  // +Inf
  EXPECT_EQ(h.counts[0], 2);
  EXPECT_EQ(h.counts[1], 1);
  EXPECT_EQ(h.counts[rill::DelayHistogram::kBoundsMs.size() - 1], 1);
  EXPECT_EQ(h.counts.back(), 1);
  EXPECT_EQ(h.count, 5);
  EXPECT_EQ(h.sum_ms, 120004);
}

}  // namespace
