// Delivery semantics: Config::delivery(exactly_once) is checked at start() against what each
// source and output declares; a pipeline that cannot keep it is refused, naming the culprits.
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>

#include <rill/testing.hpp>

#include "guide.hpp"

using namespace std::chrono_literals;

int main() {
  guide::TempDir dir;
  {
    // [refused]
    // A socket cannot replay what it received: exactly-once is refused at start().
    rill::StreamingContext ctx{rill::Config{}
                                   .batch_interval(1s)
                                   .delivery(rill::Delivery::exactly_once)
                                   .clock(rill::ManualClock::create())};
    ctx.checkpoint(dir.path() / "refused");
    ctx.socket_text_stream("127.0.0.1", 9)
        .name("lines")
        .save_as_text_files((dir.path() / "lines").string());
    try {
      ctx.start();
    } catch (const rill::InvalidArgument& e) {
      std::cout << e.what() << '\n';
    }
    // [/refused]
  }
  {
    // [exactly-once]
    // A queue (replayable) into a file per batch and an idempotent foreach_batch: accepted.
    auto clock = rill::ManualClock::create();
    rill::StreamingContext ctx{
        rill::Config{}.batch_interval(1s).delivery(rill::Delivery::exactly_once).clock(clock)};
    ctx.checkpoint(dir.path() / "checkpoint");
    auto words = ctx.queue_stream<std::string>({{"a", "b"}, {"c"}});
    std::filesystem::create_directory(dir.path() / "out");
    words.save_as_text_files((dir.path() / "out" / "words").string());  // words-<ms>, renamed
    words.count().foreach_batch(
        [](const rill::Batch<std::int64_t>& counts, rill::Time t) {
          // Idempotent if what it writes is keyed by t (an upsert of (t, count)).
          std::cout << t << ": " << counts.collect().at(0) << " records\n";
        },
        rill::idempotent);
    rill::testing::run_until(ctx, *clock, rill::Time{2000});
    ctx.stop();
    // [/exactly-once]
    std::set<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path() / "out"))
      files.insert(entry.path().filename().string());
    for (const auto& f : files)
      std::cout << "file " << f << '\n';
  }
}

// Expected output:
// > Config::delivery(exactly_once) cannot be kept: source 'lines' cannot replay its input
// > 1000 ms: 2 records
// > 2000 ms: 1 records
// > file words-1000
// > file words-2000
