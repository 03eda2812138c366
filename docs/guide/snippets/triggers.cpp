// Triggers: a batch every interval (processing time), or what the sources hold now and then stop
// (available now).
#include <cstdint>
#include <iostream>

#include <rill/testing.hpp>

using namespace std::chrono_literals;

int main() {
  {
    // [processing-time]
    // Trigger::processing_time(d) is batch_interval(d): a batch every 500 ms on the clock's grid.
    rill::testing::Harness h{
        rill::Config{}.trigger(rill::Trigger::processing_time(500ms)).parallelism(2)};
    h.input<int>({{1}, {2, 3}})
        .count()
        .foreach_batch([](const rill::Batch<std::int64_t>& b, rill::Time t) {
          std::cout << "processing time, " << t << ": " << b.collect().at(0) << '\n';
        });
    h.run_batches(3);  // the clock moves to 500, 1000 and 1500 ms
    // [/processing-time]
  }
  {
    // [available-now]
    // Trigger::available_now(): the three queued batches back to back, then stop by itself.
    auto clock = rill::ManualClock::create();
    rill::StreamingContext ctx{
        rill::Config{}.batch_interval(1s).clock(clock).trigger(rill::Trigger::available_now())};
    ctx.queue_stream<int>({{1, 2}, {3}, {4, 5, 6}})
        .count()
        .foreach_batch([](const rill::Batch<std::int64_t>& b, rill::Time t) {
          std::cout << "available now, " << t << ": " << b.collect().at(0) << '\n';
        });
    ctx.start();
    ctx.await_termination();
    std::cout << "the clock still reads " << clock->now() << '\n';
    // [/available-now]
  }
  {
    // [refused]
    // A socket cannot say what it holds: start() refuses it under available_now.
    rill::StreamingContext ctx{rill::Config{}
                                   .batch_interval(1s)
                                   .clock(rill::ManualClock::create())
                                   .trigger(rill::Trigger::available_now())};
    ctx.socket_text_stream("127.0.0.1", 9).print();
    try {
      ctx.start();
    } catch (const rill::InvalidArgument&) {
      std::cout << "a socket cannot run under available_now\n";
    }
    // [/refused]
  }
}

// Expected output:
// > processing time, 500 ms: 1
// > processing time, 1000 ms: 2
// > processing time, 1500 ms: 0
// > available now, 1000 ms: 2
// > available now, 2000 ms: 1
// > available now, 3000 ms: 3
// > the clock still reads 0 ms
// > a socket cannot run under available_now
