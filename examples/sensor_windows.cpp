// sensor_windows: one temperature reading per second, averaged over tumbling windows of 5 s and
// over sliding windows of 5 s every 2 s; each window's average is printed as it closes.
#include <rill/rill.hpp>

#include <cstdio>
#include <deque>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "command_line.hpp"

using namespace std::chrono_literals;

namespace {
using SumCount = std::pair<double, std::int64_t>;

SumCount add(SumCount a, SumCount b) {
  return {a.first + b.first, a.second + b.second};
}
SumCount subtract(SumCount a, SumCount b) {
  return {a.first - b.first, a.second - b.second};
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Feeds the readings 20 22 23 21 24 25 27 26 28 30 32, one per one-second batch, and prints "
      "their average over tumbling 5 s windows and over 5 s windows sliding every 2 s, in "
      "Spark's print layout. Ends by itself after the last window (about 16 s). Takes no "
      "arguments.",
      "sensor_windows"};
  if (const auto code = rill_examples::parse(app, argc, argv)) return *code;

  const std::vector<double> readings = {20, 22, 23, 21, 24, 25, 27, 26, 28, 30, 32};
  try {
    rill::StreamingContext ctx{1s};
    std::deque<std::vector<double>> batches;
    for (double r : readings)
      batches.push_back({r});
    auto temps = ctx.queue_stream<double>(std::move(batches))
                     .map([](double t) {
                       return SumCount{t, 1};
                     })
                     .name("readings");
    auto average = [](const char* label) {
      return [label](const SumCount& s) {
        return std::pair<std::string, double>{label, s.first / static_cast<double>(s.second)};
      };
    };
    temps.reduce_by_window(add, 5s, 5s).map(average("tumbling 5s")).print();
    temps.reduce_by_window(add, subtract, 5s, 2s).map(average("sliding 5s/2s")).print();
    ctx.start();
    // The last tumbling window closes at the first multiple of 5 s after the last reading.
    const auto last_window = (readings.size() + 4) / 5 * 5;
    ctx.await_termination_for(std::chrono::milliseconds(1000 * last_window + 500));
    ctx.stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sensor_windows: %s\n", e.what());
    return 1;
  }
  return 0;
}
