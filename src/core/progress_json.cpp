#include "rill/core/progress_json.hpp"

#include <cmath>
#include <cstdint>

#include <boost/json.hpp>

namespace rill {

namespace {
namespace json = boost::json;

/// A rate in records/s: rounded to 3 decimals, an integer when whole (`1000`, not `1E3`).
json::value rate(double per_second) {
  const double rounded = std::round(per_second * 1000.0) / 1000.0;
  if (std::abs(rounded) < 9.0e15 && rounded == std::floor(rounded)) {
    return json::value(static_cast<std::int64_t>(rounded));
  }
  return json::value(rounded);
}

json::value queue_json(const std::optional<QueueInfo>& queue) {
  if (!queue) return nullptr;
  return json::object{{"records", queue->records},
                      {"bytes", queue->bytes},
                      {"capacity_records", queue->capacity_records},
                      {"capacity_bytes", queue->capacity_bytes},
                      {"blocked", queue->blocked}};
}
}  // namespace

std::string to_json(const BatchInfo& info) {
  json::object out;
  out["batch_time_ms"] = info.batch_time.milliseconds();
  out["num_records"] = info.num_records;
  out["input_rate_per_second"] = rate(info.input_rate);
  out["processing_rate_per_second"] = rate(info.processing_rate);
  out["scheduling_delay_ms"] = info.scheduling_delay.count();
  out["processing_delay_ms"] = info.processing_delay.count();
  out["total_delay_ms"] = info.total_delay.count();
  out["sealing_us"] = info.sealing_duration.count();
  out["held_back_ms"] = info.held_back.count();
  out["back_pressure"] = info.back_pressure;
  if (info.watermark) {
    out["watermark_ms"] = info.watermark->milliseconds();
  } else {
    out["watermark_ms"] = nullptr;
  }
  json::array sources;
  sources.reserve(info.sources.size());
  for (const SourceProgress& s : info.sources) {
    sources.push_back(json::object{
        {"name", s.name},
        {"num_records", s.num_records},
        {"input_rate_per_second", rate(s.input_rate)},
        {"queue", queue_json(s.queue)},
        {"rate_limit_per_second", s.rate_limit ? rate(*s.rate_limit) : json::value(nullptr)}});
  }
  out["sources"] = std::move(sources);
  json::array outputs;
  outputs.reserve(info.outputs.size());
  for (const OutputProgress& o : info.outputs) {
    outputs.push_back(json::object{{"name", o.name}, {"duration_us", o.duration.count()}});
  }
  out["outputs"] = std::move(outputs);
  json::array state;
  state.reserve(info.state.size());
  for (const StateInfo& s : info.state) {
    state.push_back(json::object{
        {"name", s.name}, {"keys", s.keys}, {"bytes", s.bytes}, {"late_records", s.late_records}});
  }
  out["state"] = std::move(state);
  if (info.checkpoint) {
    out["checkpoint"] = json::object{{"bytes", info.checkpoint->bytes},
                                     {"duration_us", info.checkpoint->duration.count()},
                                     {"snapshot", info.checkpoint->snapshot}};
  } else {
    out["checkpoint"] = nullptr;
  }
  return json::serialize(out);
}

}  // namespace rill
