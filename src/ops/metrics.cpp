// /metrics: the context's progress in Prometheus' text exposition format 0.0.4.
#include "rill/ops/metrics.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ops/context_state_name.hpp"
#include "rill/streaming_context.hpp"

namespace rill::ops {
namespace {

/// Writes metric families: one HELP and TYPE line each, then its samples. A family's samples
/// follow its header without a gap, as the format requires.
class MetricWriter {
 public:
  explicit MetricWriter(std::string& out) : out_(out) {}

  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    append_escaped_help(help);
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  void sample(std::string_view name, std::int64_t value) { sample(name, {}, {}, value); }
  void sample(std::string_view name, double value) { sample(name, {}, {}, value); }

  template <class V>
  void sample(std::string_view name, std::string_view label, std::string_view label_value,
              V value) {
    out_ += name;
    if (!label.empty()) {
      out_ += '{';
      out_ += label;
      out_ += "=\"";
      append_escaped_label(label_value);
      out_ += "\"}";
    }
    out_ += ' ';
    append_value(value);
    out_ += '\n';
  }

  /// A histogram's _bucket (cumulative, with le), _sum (seconds) and _count samples.
  void histogram(std::string_view name, const DelayHistogram& h) {
    std::int64_t cumulative = 0;
    for (std::size_t i = 0; i < DelayHistogram::kBoundsMs.size(); ++i) {
      cumulative += h.counts[i];
      fmt::format_to(std::back_inserter(out_), "{}_bucket{{le=\"{}\"}} {}\n", name,
                     seconds(DelayHistogram::kBoundsMs[i]), cumulative);
    }
    cumulative += h.counts.back();
    fmt::format_to(std::back_inserter(out_), "{}_bucket{{le=\"+Inf\"}} {}\n", name, cumulative);
    fmt::format_to(std::back_inserter(out_), "{}_sum {}\n", name, seconds(h.sum_ms));
    fmt::format_to(std::back_inserter(out_), "{}_count {}\n", name, h.count);
  }

  static double seconds(std::int64_t ms) { return static_cast<double>(ms) / 1000.0; }

 private:
  void append_value(std::int64_t v) { fmt::format_to(std::back_inserter(out_), "{}", v); }
  // fmt's shortest round-trip form (0.25, 1e-06, 1.5e+12): a Go float, as Prometheus parses it.
  void append_value(double v) { fmt::format_to(std::back_inserter(out_), "{}", v); }

  // Label values: backslash, double quote and line feed escaped.
  void append_escaped_label(std::string_view s) {
    for (const char c : s) {
      if (c == '\\') {
        out_ += "\\\\";
      } else if (c == '"') {
        out_ += "\\\"";
      } else if (c == '\n') {
        out_ += "\\n";
      } else {
        out_ += c;
      }
    }
  }
  // HELP text: backslash and line feed escaped.
  void append_escaped_help(std::string_view s) {
    for (const char c : s) {
      if (c == '\\') {
        out_ += "\\\\";
      } else if (c == '\n') {
        out_ += "\\n";
      } else {
        out_ += c;
      }
    }
  }

  std::string& out_;
};

std::int64_t micros(std::chrono::microseconds d) {
  return d.count();
}

}  // namespace

std::string prometheus_text(const StreamingContext& ctx) {
  // Each accessor is one copy under its own lock; the last record may be a batch newer than the
  // totals read before it, never older (both are updated together, the totals read first).
  const ContextState state = ctx.state();
  const ProgressTotals totals = ctx.progress_totals();
  // source_stats() reads what start() sets up: only once state() (under the engine's mutex) says
  // start() got that far. Before, there is nothing to count.
  const std::vector<SourceStats> sources =
      state == ContextState::initialized ? std::vector<SourceStats>{} : ctx.source_stats();
  const std::optional<BatchInfo> last = ctx.last_progress();
  const double interval_s = MetricWriter::seconds(ctx.config().batch_interval().count());

  std::string out;
  out.reserve(4096);
  MetricWriter w(out);
  const auto sec = MetricWriter::seconds;
  const auto us_to_s = [](std::chrono::microseconds d) {
    return static_cast<double>(micros(d)) / 1e6;
  };

  // ---- the context ----
  w.family("rill_context_state", "gauge",
           "1 for the context's lifecycle state (initialized, active, stopped), 0 for the others");
  for (const ContextState s :
       {ContextState::initialized, ContextState::active, ContextState::stopped}) {
    w.sample("rill_context_state", "state", detail::context_state_name(s),
             std::int64_t{s == state ? 1 : 0});
  }
  w.family("rill_batch_interval_seconds", "gauge", "The batch interval");
  w.sample("rill_batch_interval_seconds", interval_s);

  // ---- counters over every completed batch ----
  w.family("rill_batches_completed_total", "counter", "Batches completed since start()");
  w.sample("rill_batches_completed_total", totals.batches);
  w.family("rill_input_records_total", "counter",
           "Input records of the completed batches, all sources");
  w.sample("rill_input_records_total", totals.records);
  w.family("rill_back_pressured_batches_total", "counter",
           "Completed batches for which back-pressure held input back");
  w.sample("rill_back_pressured_batches_total", totals.back_pressured_batches);
  w.family("rill_checkpoints_total", "counter", "Checkpoints written after completed batches");
  w.sample("rill_checkpoints_total", totals.checkpoints);
  w.family("rill_checkpoint_written_bytes_total", "counter", "Bytes of the checkpoints written");
  w.sample("rill_checkpoint_written_bytes_total", totals.checkpoint_bytes);

  w.family("rill_source_records_total", "counter",
           "Records an input stream (or static table: rows loaded) sealed into batches");
  for (const auto& s : sources)
    w.sample("rill_source_records_total", "source", s.name, s.records);
  w.family("rill_source_skipped_records_total", "counter",
           "Records an input stream skipped (over-long lines, unreadable or too old files)");
  for (const auto& s : sources)
    w.sample("rill_source_skipped_records_total", "source", s.name, s.skipped);
  w.family("rill_source_errors_total", "counter",
           "Errors an input stream met or reported (connections, files, report_error)");
  for (const auto& s : sources)
    w.sample("rill_source_errors_total", "source", s.name, s.errors);
  w.family("rill_operator_late_records_total", "counter",
           "Input rows an event-time operator dropped as late");
  for (const auto& o : totals.late_records)
    w.sample("rill_operator_late_records_total", "operator", o.name, o.late_records);

  // ---- histograms over every completed batch ----
  w.family("rill_batch_scheduling_delay_seconds", "histogram",
           "From a batch's submission to the start of its processing");
  w.histogram("rill_batch_scheduling_delay_seconds", totals.scheduling_delay);
  w.family("rill_batch_processing_delay_seconds", "histogram",
           "From the start to the end of a batch's processing");
  w.histogram("rill_batch_processing_delay_seconds", totals.processing_delay);
  w.family("rill_batch_total_delay_seconds", "histogram",
           "Scheduling plus processing delay of a batch");
  w.histogram("rill_batch_total_delay_seconds", totals.total_delay);

  // ---- gauges of the last completed batch ----
  if (!last) return out;
  const BatchInfo& b = *last;
  w.family("rill_last_batch_time_seconds", "gauge",
           "The last completed batch's time on the context's clock");
  w.sample("rill_last_batch_time_seconds", sec(b.batch_time.milliseconds()));
  w.family("rill_last_batch_records", "gauge", "Input records of the last completed batch");
  w.sample("rill_last_batch_records", b.num_records);
  w.family("rill_last_batch_input_records_per_second", "gauge",
           "Input rate of the last batch: its records per second of batch interval");
  w.sample("rill_last_batch_input_records_per_second", b.input_rate);
  w.family("rill_last_batch_processed_records_per_second", "gauge",
           "Processing rate of the last batch: its records per second of processing time");
  w.sample("rill_last_batch_processed_records_per_second", b.processing_rate);
  w.family("rill_last_batch_scheduling_delay_seconds", "gauge",
           "Scheduling delay of the last completed batch");
  w.sample("rill_last_batch_scheduling_delay_seconds", sec(b.scheduling_delay.count()));
  w.family("rill_last_batch_processing_delay_seconds", "gauge",
           "Processing delay of the last completed batch");
  w.sample("rill_last_batch_processing_delay_seconds", sec(b.processing_delay.count()));
  w.family("rill_last_batch_total_delay_seconds", "gauge",
           "Total delay of the last completed batch");
  w.sample("rill_last_batch_total_delay_seconds", sec(b.total_delay.count()));
  w.family("rill_last_batch_sealing_seconds", "gauge",
           "Wall time the last batch's tick took to seal it");
  w.sample("rill_last_batch_sealing_seconds", us_to_s(b.sealing_duration));
  w.family("rill_last_batch_held_back_seconds", "gauge",
           "How late back-pressure made the last batch's sealing");
  w.sample("rill_last_batch_held_back_seconds", sec(b.held_back.count()));
  if (b.watermark) {
    w.family("rill_watermark_seconds", "gauge",
             "The event-time watermark in force in the last batch, seconds since the epoch");
    w.sample("rill_watermark_seconds", sec(b.watermark->milliseconds()));
  }

  w.family("rill_source_last_batch_records", "gauge",
           "Records an input stream sealed into the last completed batch");
  for (const auto& s : b.sources)
    w.sample("rill_source_last_batch_records", "source", s.name, s.num_records);
  w.family("rill_source_queue_records", "gauge",
           "Records a receiver's queue held when the last batch was sealed");
  for (const auto& s : b.sources)
    if (s.queue) w.sample("rill_source_queue_records", "source", s.name, s.queue->records);
  w.family("rill_source_queue_bytes", "gauge",
           "Bytes a receiver's queue held when the last batch was sealed");
  for (const auto& s : b.sources)
    if (s.queue) w.sample("rill_source_queue_bytes", "source", s.name, s.queue->bytes);
  w.family("rill_source_queue_capacity_records", "gauge", "A receiver queue's bound in records");
  for (const auto& s : b.sources)
    if (s.queue)
      w.sample("rill_source_queue_capacity_records", "source", s.name, s.queue->capacity_records);
  w.family("rill_source_queue_capacity_bytes", "gauge", "A receiver queue's bound in bytes");
  for (const auto& s : b.sources)
    if (s.queue)
      w.sample("rill_source_queue_capacity_bytes", "source", s.name, s.queue->capacity_bytes);
  w.family(
      "rill_source_rate_limit_records_per_second", "gauge",
      "The rate limit rate control set on a receiver for the last batch (Config::backpressure, "
      "max_rate_per_source); absent for unlimited sources");
  for (const auto& s : b.sources)
    if (s.rate_limit)
      w.sample("rill_source_rate_limit_records_per_second", "source", s.name, *s.rate_limit);

  w.family("rill_operator_state_keys", "gauge",
           "Entries a stateful operator kept after the last batch");
  for (const auto& s : b.state)
    w.sample("rill_operator_state_keys", "operator", s.name, s.keys);
  w.family("rill_operator_state_bytes", "gauge",
           "Approximate bytes a stateful operator kept after the last batch");
  for (const auto& s : b.state)
    w.sample("rill_operator_state_bytes", "operator", s.name, s.bytes);

  w.family(
      "rill_output_last_duration_seconds", "gauge",
      "Wall time of an output operation in the last completed batch (the outputs that ran in it)");
  for (const auto& o : b.outputs)
    w.sample("rill_output_last_duration_seconds", "output", o.name, us_to_s(o.duration));

  if (b.checkpoint) {
    w.family("rill_last_checkpoint_bytes", "gauge", "Bytes of the last checkpoint written");
    w.sample("rill_last_checkpoint_bytes", b.checkpoint->bytes);
    w.family("rill_last_checkpoint_duration_seconds", "gauge",
             "Wall time of writing the last checkpoint durably");
    w.sample("rill_last_checkpoint_duration_seconds", us_to_s(b.checkpoint->duration));
  }
  return out;
}

}  // namespace rill::ops
