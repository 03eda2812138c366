// Output modes: one event-time count per 10 s window, emitted in append, update and complete
// mode side by side.
#include <iostream>

#include <rill/testing.hpp>

#include "guide.hpp"

using namespace std::chrono_literals;

struct Event {
  rill::Time time;
};

int main() {
  // [modes]
  rill::testing::Harness h{1s};
  auto events = h.input<Event>({{{rill::Time{1000}}, {rill::Time{4000}}},
                                {{rill::Time{12000}}},
                                {{rill::Time{8000}}, {rill::Time{17000}}},
                                {}})
                    .with_watermark(&Event::time, 5s);
  const auto ten_seconds = rill::tumbling(10s);
  const auto count = rill::agg::count();
  using rill::OutputMode;
  guide::show(events.aggregate_by_window(ten_seconds, count, OutputMode::append), "append");
  guide::show(events.aggregate_by_window(ten_seconds, count, OutputMode::update), "update");
  guide::show(events.aggregate_by_window(ten_seconds, count, OutputMode::complete), "complete");
  h.run_batches(4);
  // [/modes]

  // [refused]
  rill::testing::Harness other{1s};
  auto no_watermark = other.input<Event>({}).with_event_time(&Event::time);
  try {
    (void)no_watermark.aggregate_by_window(ten_seconds, count);  // append is the default
  } catch (const rill::InvalidArgument&) {
    std::cout << "append needs a watermark\n";
  }
  // [/refused]
}

// Watermark (delay 5 s) at the end of each batch: -1000, 7000, 12000, 12000 ms; wm(t) is the one
// of the batch before. Only at 4000 ms (wm 12000) has [0,10000) closed.
// Expected output:
// > update @1000 ms: ([0,10000),2)
// > complete @1000 ms: ([0,10000),2)
// > update @2000 ms: ([10000,20000),1)
// > complete @2000 ms: ([0,10000),2)
// > complete @2000 ms: ([10000,20000),1)
// > update @3000 ms: ([0,10000),3)
// > update @3000 ms: ([10000,20000),2)
// > complete @3000 ms: ([0,10000),3)
// > complete @3000 ms: ([10000,20000),2)
// > append @4000 ms: ([0,10000),3)
// > complete @4000 ms: ([0,10000),3)
// > complete @4000 ms: ([10000,20000),2)
// > append needs a watermark
