// sensor_windows: temperature sensors' readings averaged over event-time windows, as Structured
// Streaming's `groupBy(window(time, "5 seconds", ...), sensor).agg(avg(celsius))` with a
// watermark, plus an alert when a sensor goes quiet (a session window closing).
//
// The seed's sensor, s1, reads once a second: 20 22 23 21 24 25 27 26 28 30 32 at seconds 1 to
// 11 of its clock (event times 1000..11000 ms since the epoch). Each reading carries that time,
// so the windows follow the sensors' clocks, not the batches': the bundled input is delivered in
// 200 ms batches, one second of readings per batch, with s1's readings of seconds 4 and 5 swapped
// (they arrive out of order, as readings over a network do), and the averages are the same as if
// they had arrived once a second in order.
//
// Four more sensors share the stream, from a seeded generator (--seed): s2 reads every 250 ms
// (most of the traffic: the keys are skewed), s4 every 500 ms, s3 once a second but is off from
// second 5 to 8, s5 every 3.5 s. A share of s2's and s4's readings arrive one batch late (out
// of order, within the watermark's delay), two of them arrive seven batches late (after their
// windows closed: late, dropped and printed), and a few lines are malformed (printed, skipped).
// Every line is `sensor,time_ms,celsius` (CSV, parsed with parse_csv). With --port the lines come
// from a TCP server instead (socket_text_stream), and the program runs until Ctrl-C.
//
// What it prints, each window once, when final (append mode):
// - the seed's tables, for s1: tumbling 5 s windows from second 1, [1000,6000) [6000,11000) ...,
//   and 5 s windows sliding by 2 s from second 1, ... [-1000,4000) [1000,6000) [3000,8000) ...;
//   each with its bounds, the seconds it covers, the mean and its number of readings. The windows
//   of the seed's tables lie within the readings (seconds 1..11): tumbling 22 and 27.2; sliding
//   22, 24, 26, 28.6. A window that only partly overlaps the readings exists too (a row belongs to
//   every window that contains it, in Spark and Flink alike): [-1000,4000) holds the readings of
//   seconds 1 to 3. Such windows are printed as well, marked `partial`: a window is complete when
//   it holds one reading for each of its 5 seconds;
// - `average <sensor> [start,end): mean M of N readings`: every sensor's tumbling 5 s windows
//   (the same aggregation as s1's tumbling table, keyed by sensor);
// - `quiet <sensor>: no reading for 3 s after T ms (session [start,end) of N readings)`: a
//   session window (gap 3 s) per sensor closes when the watermark passes its end, that is when
//   the sensor has been silent for 3 s of event time;
// - `late <sensor> reading at T ms: its window had closed` and `malformed line: ...`.
//
// Closing the last windows: in append mode a window is emitted once the watermark (the largest
// event time seen minus the 2 s delay) reaches its end, and the watermark only moves with data.
// So the bundled input ends with s1's next reading, at second 18 after a silence (the sensor was
// off from second 12 to 17): it lifts the watermark to 16000 and so closes every window that holds
// a reading of seconds 1..11 (no other sensor reads after second 11), and it belongs only to
// windows that end after 18000, which stay open and are never printed. Without it the windows
// ending after 11000 - 2000 (the sliding [7000,12000) of the seed's table among them) would wait
// for more data forever. The program stops by itself after the batch in which that final
// watermark is in force, the one that prints the last windows.
#include <rill/rill.hpp>

#include <boost/describe/class.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <exception>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "command_line.hpp"
#include "final_watermark.hpp"
#include "status_page.hpp"

using namespace std::chrono_literals;

/// One reading of a sensor, one CSV line `sensor,time_ms,celsius`: its event time in ms since the
/// epoch and the temperature.
struct Reading {
  std::string sensor;
  std::int64_t time_ms = 0;
  double celsius = 0;
};
BOOST_DESCRIBE_STRUCT(Reading, (), (sensor, time_ms, celsius))

namespace {

/// A window's mean temperature and how many readings it holds.
using MeanCount = std::tuple<double, std::int64_t>;
using SensorMean = rill::Windowed<std::string, MeanCount>;
using SensorSession = rill::Windowed<std::string, std::int64_t>;

constexpr rill::Duration kDelay = 2s;   // the watermark delay: readings up to 2 s out of order
constexpr rill::Duration kSize = 5s;    // both window specs
constexpr rill::Duration kQuiet = 3s;   // the session gap: silent this long, a sensor is quiet
constexpr std::int64_t kPerWindow = 5;  // s1 reads once a second: a complete window holds 5
constexpr rill::Duration kInterval = 200ms;
const std::string kSeedSensor = "s1";

rill::Time event_time(const Reading& r) {
  return rill::Time{r.time_ms};
}

std::string line_of(const std::string& sensor, std::int64_t time_ms, double celsius) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s,%lld,%.1f", sensor.c_str(),
                static_cast<long long>(time_ms), celsius);
  return buffer;
}

/// The bundled input, in arrival order, one inner vector per batch: batch k (0..10) holds s1's
/// reading of second `arrival[k]` and the other sensors' readings of second k + 1 (less those
/// delayed, plus those delayed into it), batch 11 s1's reading of second 18 that closes the last
/// windows. The other sensors' readings of second k + 1 never run ahead of s1's in batch k by a
/// second or more, so s1's readings are judged against the watermark as they were alone.
std::deque<std::vector<std::string>> bundled_input(std::uint32_t seed) {
  const double celsius[] = {20, 22, 23, 21, 24, 25, 27, 26, 28, 30, 32};  // s1, seconds 1..11
  const std::int64_t arrival[] = {1, 2, 3, 5, 4, 6, 7, 8, 9, 10, 11};
  constexpr std::size_t kBatches = 12;
  constexpr std::size_t kLateBatch = 9;  // where the two late readings arrive
  std::vector<std::vector<std::string>> batches(kBatches);
  std::mt19937 random{seed};
  const auto noise = [&random] {  // -1.0 .. +1.0 in steps of 0.1
    return static_cast<double>(static_cast<int>(random() % 21) - 10) / 10.0;
  };
  for (std::size_t k = 0; k < 11; ++k) {
    const std::int64_t second = static_cast<std::int64_t>(k) + 1;
    batches[k].push_back(line_of(kSeedSensor, arrival[k] * 1000, celsius[arrival[k] - 1]));
    struct Sensor {
      const char* name;
      std::int64_t every_ms;
      double base;
    };
    for (const Sensor& s : {Sensor{"s2", 250, 18}, Sensor{"s4", 500, 30}}) {
      for (std::int64_t offset = 0; offset < 1000; offset += s.every_ms) {
        const std::int64_t time =
            second * 1000 + offset + static_cast<std::int64_t>(random() % 200);
        std::size_t into = k;
        // The first reading of s2 in second 2 and of s4 in second 3: late (their tumbling
        // windows, which end at 6000, are closed when they arrive in batch 9).
        const std::string_view name = s.name;
        if (offset == 0 && ((name == "s2" && second == 2) || (name == "s4" && second == 3)))
          into = kLateBatch;
        else if (random() % 100 < 15 && k < 10)
          into = k + 1;  // one batch late: out of order, within the delay
        batches[into].push_back(line_of(s.name, time, s.base + noise()));
      }
    }
    if (second < 5 || second > 8)
      batches[k].push_back(line_of("s3", second * 1000 + 300, 25 + noise()));
  }
  for (const std::int64_t time : {1500, 5000, 8500})  // s5: every 3.5 s, each a session alone
    batches[static_cast<std::size_t>(time / 1000 - 1)].push_back(line_of("s5", time, 15 + noise()));
  batches[2].push_back("s2,12x5,20.0");
  batches[6].push_back("temperature sensor restarted");
  batches[9].push_back("s4,7000");
  batches[11].push_back(line_of(kSeedSensor, 18000, 31));
  return {batches.begin(), batches.end()};
}

/// Prints s1's closed windows of one batch, by start, as the seed's tables: one line each,
/// `tumbling [1000,6000) seconds 1 to 5: mean 22 of 5 readings`, `partial` appended when the
/// window holds fewer than one reading a second.
void print_seed_windows(const char* label, const std::vector<SensorMean>& windows) {
  for (const SensorMean& w : windows) {
    if (w.key != kSeedSensor) continue;
    const auto [mean, readings] = w.value;
    std::printf("%s [%lld,%lld) seconds %lld to %lld: mean %g of %lld reading%s%s\n", label,
                static_cast<long long>(w.window.start.milliseconds()),
                static_cast<long long>(w.window.end.milliseconds()),
                static_cast<long long>(w.window.start.milliseconds() / 1000),
                static_cast<long long>(w.window.end.milliseconds() / 1000 - 1), mean,
                static_cast<long long>(readings), readings == 1 ? "" : "s",
                readings < kPerWindow ? " (partial)" : "");
  }
}

/// A batch's windows sorted by (window, sensor): the output of a keyed aggregation has no order.
std::vector<SensorMean> sorted(const rill::Batch<SensorMean>& batch) {
  std::vector<SensorMean> windows(batch.begin(), batch.end());
  std::sort(windows.begin(), windows.end(), [](const SensorMean& a, const SensorMean& b) {
    return std::tie(a.window, a.key) < std::tie(b.window, b.key);
  });
  return windows;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Averages temperature sensors' readings over event-time windows (parse_csv, with_watermark "
      "and aggregate_by_window in append mode) and alerts when a sensor goes quiet (a session "
      "window with a 3 s gap closes). The seed's sensor s1 reads 20 22 23 21 24 25 27 26 28 30 "
      "32 at seconds 1 to 11 of its clock, two readings out of order; four generated sensors "
      "(--seed) share the stream, with skewed rates, readings out of order, two late readings and "
      "a few malformed lines. A last reading of s1 at second 18 moves the watermark (2 s behind "
      "the latest reading) past the end of the last windows, which append mode needs to emit "
      "them. Prints s1's tables as each window closes, with its bounds in ms, the seconds it "
      "covers, the mean and its number of readings: tumbling 5 s windows from second 1 (22 and "
      "27.2 for seconds 1-5 and 6-10) and 5 s windows sliding by 2 s from second 1 (22, 24, 26, "
      "28.6 for seconds 1-5, 3-7, 5-9, 7-11), windows that only partly overlap the readings "
      "marked '(partial)'; then every sensor's tumbling averages ('average'), the quiet alerts "
      "('quiet'), the late readings ('late') and the malformed lines. Ends by itself after the "
      "last window (about 3 s). With --port it reads the same lines from a TCP server instead, "
      "until Ctrl-C.",
      "sensor_windows"};
  std::uint32_t seed = 16;
  app.add_option("--seed", seed, "Seed of the generated sensors' readings")
      ->capture_default_str()
      ->transform(rill_examples::whole_number(0, 4294967295));
  std::string dump;
  auto* dump_option =
      app.add_option(
             "--dump-input", dump,
             "Also write the input to FILE, one line per reading: the batch index (from 0), "
             "a tab, the line (for checking the output independently)")
          ->type_name("FILE");
  std::optional<std::uint16_t> port;
  auto* port_option =
      app.add_option("--port", port,
                     "Read the lines 'sensor,time_ms,celsius' from the TCP server at HOST:PORT "
                     "(a client, reconnecting) instead of the bundled input; runs until Ctrl-C")
          ->transform(rill_examples::tcp_port());
  std::string host = "127.0.0.1";
  app.add_option("--host", host, "Host of --port's server")
      ->capture_default_str()
      ->check(rill_examples::non_empty())
      ->needs(port_option);
  dump_option->excludes(port_option);
  std::optional<std::uint16_t> status_port;
  rill_examples::add_status_port(app, status_port);
  if (const auto code = rill_examples::parse(app, argc, argv)) return *code;

  try {
    auto batches = bundled_input(seed);
    if (!dump.empty()) {
      std::ofstream out{dump};
      for (std::size_t k = 0; k < batches.size(); ++k) {
        for (const std::string& line : batches[k])
          out << k << '\t' << line << '\n';
      }
      if (!out.flush()) {
        std::fprintf(stderr, "sensor_windows: cannot write '%s'\n", dump.c_str());
        return 1;
      }
    }
    // The final watermark: the latest event time of the well-formed readings, less the delay.
    std::int64_t latest = 0;
    for (const auto& batch : batches) {
      for (const std::string& line : batch) {
        try {
          latest = std::max(latest, rill::csv::parse<Reading>(line).time_ms);
        } catch (const rill::ParseError&) {  // malformed: the stream skips it too
        }
      }
    }
    const rill::Time final_watermark = rill::Time{latest} - kDelay;

    rill::StreamingContext ctx{rill::Config{}.batch_interval(kInterval)};
    auto lines = port ? ctx.socket_text_stream(host, *port)
                      : ctx.queue_stream<std::string>(std::move(batches));
    auto parsed = lines.name("lines").parse_csv<Reading>();
    parsed.malformed().foreach_batch([](const rill::Batch<std::string>& lines, rill::Time) {
      for (const std::string& line : lines)
        std::printf("malformed line: %s\n", line.c_str());
      std::fflush(stdout);
    });
    auto readings =
        parsed.name("readings").with_watermark(&event_time, kDelay).name("readings with watermark");
    const auto mean_and_count =
        rill::agg::all(rill::agg::mean(&Reading::celsius), rill::agg::count());

    auto tumbling =
        readings.aggregate_by_window(rill::tumbling(kSize, 1s), &Reading::sensor, mean_and_count)
            .name("tumbling 5s");
    tumbling.foreach_batch([](const rill::Batch<SensorMean>& batch, rill::Time) {
      const auto windows = sorted(batch);
      print_seed_windows("tumbling", windows);
      for (const SensorMean& w : windows) {
        const auto [mean, readings] = w.value;
        std::printf("average %s [%lld,%lld): mean %g of %lld reading%s\n", w.key.c_str(),
                    static_cast<long long>(w.window.start.milliseconds()),
                    static_cast<long long>(w.window.end.milliseconds()), mean,
                    static_cast<long long>(readings), readings == 1 ? "" : "s");
      }
      std::fflush(stdout);
    });
    tumbling.late_records().foreach_batch([](const rill::Batch<Reading>& late, rill::Time) {
      for (const Reading& r : late)
        std::printf("late %s reading at %lld ms: its window had closed\n", r.sensor.c_str(),
                    static_cast<long long>(r.time_ms));
      std::fflush(stdout);
    });

    readings.aggregate_by_window(rill::sliding(kSize, 2s, 1s), &Reading::sensor, mean_and_count)
        .name("sliding 5s/2s")
        .foreach_batch([](const rill::Batch<SensorMean>& batch, rill::Time) {
          print_seed_windows("sliding", sorted(batch));
          std::fflush(stdout);
        });

    readings.aggregate_by_window(rill::session(kQuiet), &Reading::sensor, rill::agg::count())
        .name("sessions 3s")
        .foreach_batch([](const rill::Batch<SensorSession>& batch, rill::Time) {
          std::vector<SensorSession> sessions(batch.begin(), batch.end());
          std::sort(sessions.begin(), sessions.end(),
                    [](const SensorSession& a, const SensorSession& b) {
                      return std::tie(a.window, a.key) < std::tie(b.window, b.key);
                    });
          for (const SensorSession& s : sessions) {
            const rill::Time last = s.window.end - kQuiet;  // the session's last reading
            std::printf(
                "quiet %s: no reading for %lld s after %lld ms (session [%lld,%lld) of "
                "%lld reading%s)\n",
                s.key.c_str(), static_cast<long long>(kQuiet.count() / 1000),
                static_cast<long long>(last.milliseconds()),
                static_cast<long long>(s.window.start.milliseconds()),
                static_cast<long long>(s.window.end.milliseconds()),
                static_cast<long long>(s.value), s.value == 1 ? "" : "s");
          }
          std::fflush(stdout);
        });

    auto listener = std::make_shared<rill_examples::FinalWatermark>(final_watermark);
    auto reached = listener->reached();
    ctx.add_listener(listener);
    // Ctrl-C (SIGINT) or SIGTERM stops gracefully: the batches already received still run and
    // print. A second Ctrl-C stops at once.
    [[maybe_unused]] const auto status = rill_examples::serve_status(ctx, status_port);
    const auto on_signals = rill::stop_on_signals(ctx);
    ctx.start();
    if (port) {  // a server's lines: until a signal stops the context
      ctx.await_termination();
      return 0;
    }
    // About 14 batches of 200 ms; the margin is for a loaded machine. A signal ends the wait.
    bool done = false;
    for (int i = 0; i < 300 && !done && ctx.state() != rill::ContextState::stopped; ++i)
      done = reached.wait_for(100ms) == std::future_status::ready;
    if (!done && ctx.state() == rill::ContextState::stopped) return 0;  // stopped by a signal
    ctx.stop();
    if (!done) {
      std::fprintf(stderr, "sensor_windows: the watermark did not reach %lld ms in 30 s\n",
                   static_cast<long long>(final_watermark.milliseconds()));
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sensor_windows: %s\n", e.what());
    return 1;
  }
  return 0;
}
