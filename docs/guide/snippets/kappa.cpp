// Kappa: the same event-time job run live on a directory as files arrive, then run again over
// the whole directory with Trigger::available_now into a new output: the same windows come out.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <rill/testing.hpp>

#include "guide.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

struct Visit {
  std::string user;
  rill::Time time;
};

// [job]
// Lines "user,time_ms" in, visits per user per 10 s of event time out, one file per batch.
void visits_per_window(rill::StreamingContext& ctx, const fs::path& input, const fs::path& output) {
  ctx.text_file_stream(input)
      .map([](const std::string& line) {
        const auto comma = line.find(',');
        return Visit{line.substr(0, comma), rill::Time{std::stoll(line.substr(comma + 1))}};
      })
      .with_watermark(&Visit::time, 0s)
      .aggregate_by_window(rill::tumbling(10s), &Visit::user, rill::agg::count())
      .save_as_text_files((output / "visits").string());
}
// [/job]

// Every line of every file in `dir`, sorted: the output of a run, whatever its batches.
std::vector<std::string> lines_in(const fs::path& dir) {
  std::vector<std::string> lines;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);)
      lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

int main() {
  guide::TempDir dir;
  const auto input = dir.path() / "input";
  const auto live_out = dir.path() / "live";
  const auto replay_out = dir.path() / "replay";
  for (const auto& d : {input, live_out, replay_out})
    fs::create_directory(d);
  // [live]
  {
    auto clock = rill::ManualClock::create();
    rill::StreamingContext live{rill::Config{}.batch_interval(1s).clock(clock)};
    visits_per_window(live, input, live_out);
    live.start();
    guide::move_in(input, "part-1.csv", "u1,1000\nu2,3000\nu1,12000\n");
    rill::testing::run_until(live, *clock, rill::Time{1000});
    guide::move_in(input, "part-2.csv", "u1,15000\nu2,25000\nu1,31000\n");
    rill::testing::run_until(live, *clock, rill::Time{3000});
    live.stop();
  }
  // [/live]
  // [replay]
  {
    rill::StreamingContext replay{rill::Config{}
                                      .batch_interval(1s)
                                      .clock(rill::ManualClock::create())
                                      .trigger(rill::Trigger::available_now())};
    visits_per_window(replay, input, replay_out);  // every file in `input`, from the start
    replay.start();
    replay.await_termination();
  }
  // [/replay]
  for (const auto& line : lines_in(live_out))
    std::cout << "live: " << line << '\n';
  std::cout << "replay gives the same: " << (lines_in(live_out) == lines_in(replay_out)) << '\n';
}

// Live: the watermark is 12 s after batch 1000 and 31 s after batch 2000, so [0,10000) closes at
// 2000 ms and [10000,20000), [20000,30000) at 3000 ms; [30000,40000) stays open. The replay reads
// both files in its first batch (watermark 31 s) and closes the same three windows in the empty
// batch that follows because the watermark moved.
// Expected output:
// > live: ([0,10000),u1,1)
// > live: ([0,10000),u2,1)
// > live: ([10000,20000),u1,2)
// > live: ([20000,30000),u2,1)
// > replay gives the same: 1
