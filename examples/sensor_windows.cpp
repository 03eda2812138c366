// sensor_windows: a temperature sensor's readings averaged over event-time windows, as Structured
// Streaming's `groupBy(window(time, "5 seconds", ...)).agg(avg(celsius))` with a watermark.
//
// The sensor reads once a second: 20 22 23 21 24 25 27 26 28 30 32 at seconds 1 to 11 of its
// clock (event times 1000..11000 ms since the epoch). Each reading carries that time, so the
// windows follow the sensor's clock, not the batches': the bundled input is delivered one
// reading per 200 ms batch, with the readings of seconds 4 and 5 swapped (they arrive out of
// order, as readings over a network do), and the averages are the same as if they had arrived
// once a second in order.
//
// Two aggregations of the same stream, in append mode (each window printed once, when final):
// - tumbling 5 s windows from second 1: [1000,6000) [6000,11000) [11000,16000);
// - 5 s windows sliding by 2 s from second 1: ... [-1000,4000) [1000,6000) [3000,8000) ...
// A window is printed with its bounds, the seconds it covers, the mean and how many readings it
// holds. The windows of the seed's tables are those that lie within the readings (seconds
// 1..11): tumbling 22 and 27.2; sliding 22, 24, 26, 28.6. A window that only partly overlaps the
// readings exists too (a row belongs to every window that contains it, in Spark and Flink
// alike): [-1000,4000) holds the readings of seconds 1 to 3. Such windows are printed as well,
// marked `partial`: a window is complete when it holds one reading for each of its 5 seconds.
//
// Closing the last windows: in append mode a window is emitted once the watermark (the largest
// event time seen minus the 2 s delay) reaches its end, and the watermark only moves with data.
// So the bundled input ends with the sensor's next reading, at second 18 after a silence (the
// sensor was off from second 12 to 17): it lifts the watermark to 16000 and so closes every
// window that holds a reading of seconds 1..11, and it belongs only to windows that end after
// 18000, which stay open and are never printed. Without it the windows ending after 11000 - 2000
// (the sliding [7000,12000) of the seed's table among them) would wait for more data forever. The
// program stops by itself after the batch in which that final watermark is in force, the one
// that prints the last windows.
#include <rill/rill.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <exception>
#include <future>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include <optional>

#include "command_line.hpp"
#include "status_page.hpp"

using namespace std::chrono_literals;

namespace {

/// One reading of the sensor: its event time (ms since the epoch) and the temperature.
struct Reading {
  rill::Time time;
  double celsius;
};

/// A window's mean temperature and how many readings it holds.
using MeanCount = std::tuple<double, std::int64_t>;
using WindowMean = rill::Windowed<std::monostate, MeanCount>;

constexpr rill::Duration kDelay = 2s;   // the watermark delay: readings up to 2 s out of order
constexpr rill::Duration kSize = 5s;    // both window specs
constexpr std::int64_t kPerWindow = 5;  // one reading a second: a complete window holds 5
constexpr rill::Duration kInterval = 200ms;

rill::Time at_second(std::int64_t s) {
  return rill::Time{s * 1000};
}

/// The bundled input, one reading per batch, in arrival order: seconds 1..11 with 4 and 5
/// swapped, then the reading of second 18 that closes the last windows.
std::deque<std::vector<Reading>> bundled_input() {
  const double celsius[] = {20, 22, 23, 21, 24, 25, 27, 26, 28, 30, 32};  // seconds 1..11
  const std::int64_t arrival[] = {1, 2, 3, 5, 4, 6, 7, 8, 9, 10, 11};
  std::deque<std::vector<Reading>> batches;
  for (const std::int64_t s : arrival)
    batches.push_back({Reading{at_second(s), celsius[s - 1]}});
  batches.push_back({Reading{at_second(18), 31}});
  return batches;
}

/// Prints a batch of closed windows, by start, and flushes: one line each,
/// `tumbling [1000,6000) seconds 1 to 5: mean 22 of 5 readings`, `partial` appended when the
/// window holds fewer than one reading a second.
void print_windows(const char* label, const rill::Batch<WindowMean>& batch) {
  std::vector<WindowMean> windows(batch.begin(), batch.end());
  std::sort(windows.begin(), windows.end(),
            [](const WindowMean& a, const WindowMean& b) { return a.window < b.window; });
  for (const WindowMean& w : windows) {
    const auto [mean, readings] = w.value;
    std::printf("%s [%lld,%lld) seconds %lld to %lld: mean %g of %lld reading%s%s\n", label,
                static_cast<long long>(w.window.start.milliseconds()),
                static_cast<long long>(w.window.end.milliseconds()),
                static_cast<long long>(w.window.start.milliseconds() / 1000),
                static_cast<long long>(w.window.end.milliseconds() / 1000 - 1), mean,
                static_cast<long long>(readings), readings == 1 ? "" : "s",
                readings < kPerWindow ? " (partial)" : "");
  }
  std::fflush(stdout);
}

/// Signals once the batch in which the watermark reaches `final` has completed: that batch
/// emitted every window the bundled input can close.
class FinalWatermark final : public rill::StreamingListener {
 public:
  explicit FinalWatermark(rill::Time final) : final_(final) {}
  void on_batch_completed(const rill::BatchInfo& info) override {
    if (!done_ && info.watermark && *info.watermark >= final_) {
      done_ = true;
      reached_.set_value();
    }
  }
  std::future<void> reached() { return reached_.get_future(); }

 private:
  rill::Time final_;
  bool done_ = false;  // listeners are called on one rill thread
  std::promise<void> reached_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Averages a temperature sensor's readings over event-time windows (with_watermark and "
      "aggregate_by_window in append mode). The bundled readings 20 22 23 21 24 25 27 26 28 30 "
      "32 are taken at seconds 1 to 11 of the sensor's clock and arrive one per 200 ms batch, "
      "two of them out of order; a last reading at second 18 moves the watermark (2 s behind the "
      "latest reading) past the end of the last windows, which append mode needs to emit them. "
      "Prints each window once it closes, with its bounds in ms, the seconds it covers, the mean "
      "and its number of readings: tumbling 5 s windows from second 1 (22 and 27.2 for seconds "
      "1-5 and 6-10) and 5 s windows sliding by 2 s from second 1 (22, 24, 26, 28.6 for seconds "
      "1-5, 3-7, 5-9, 7-11). Windows that only partly overlap the readings (such as seconds "
      "-1 to 3) are printed too, marked '(partial)': a complete window holds one reading for each "
      "of its 5 seconds. Ends by itself after the last window (about 3 s). Takes no arguments.",
      "sensor_windows"};
  std::optional<std::uint16_t> status_port;
  rill_examples::add_status_port(app, status_port);
  if (const auto code = rill_examples::parse(app, argc, argv)) return *code;

  try {
    auto batches = bundled_input();
    rill::Time latest = batches.front().front().time;
    for (const auto& batch : batches) {
      for (const Reading& r : batch)
        latest = std::max(latest, r.time);
    }
    rill::StreamingContext ctx{rill::Config{}.batch_interval(kInterval)};
    auto readings = ctx.queue_stream<Reading>(std::move(batches))
                        .name("readings")
                        .with_watermark(&Reading::time, kDelay)
                        .name("readings with watermark");
    const auto mean_and_count =
        rill::agg::all(rill::agg::mean(&Reading::celsius), rill::agg::count());
    readings.aggregate_by_window(rill::tumbling(kSize, 1s), mean_and_count)
        .name("tumbling 5s")
        .foreach_batch([](const rill::Batch<WindowMean>& batch, rill::Time) {
          print_windows("tumbling", batch);
        });
    readings.aggregate_by_window(rill::sliding(kSize, 2s, 1s), mean_and_count)
        .name("sliding 5s/2s")
        .foreach_batch([](const rill::Batch<WindowMean>& batch, rill::Time) {
          print_windows("sliding", batch);
        });

    auto listener = std::make_shared<FinalWatermark>(latest - kDelay);
    auto reached = listener->reached();
    ctx.add_listener(listener);
    // Ctrl-C (SIGINT) or SIGTERM stops gracefully: the batches already received still run and
    // print. A second Ctrl-C stops at once.
    [[maybe_unused]] const auto status = rill_examples::serve_status(ctx, status_port);
    const auto on_signals = rill::stop_on_signals(ctx);
    ctx.start();
    // About 13 batches of 200 ms; the margin is for a loaded machine. A signal ends the wait.
    bool done = false;
    for (int i = 0; i < 300 && !done && ctx.state() != rill::ContextState::stopped; ++i)
      done = reached.wait_for(100ms) == std::future_status::ready;
    if (!done && ctx.state() == rill::ContextState::stopped) return 0;  // stopped by a signal
    ctx.stop();
    if (!done) {
      std::fprintf(stderr, "sensor_windows: the watermark did not reach %lld ms in 30 s\n",
                   static_cast<long long>((latest - kDelay).milliseconds()));
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sensor_windows: %s\n", e.what());
    return 1;
  }
  return 0;
}
