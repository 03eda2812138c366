// Event time vs processing time: the same clicks counted by the batch they arrived in and by the
// time they happened, read from the record.
#include <string>

#include <rill/testing.hpp>

#include "guide.hpp"

using namespace std::chrono_literals;

// [click]
struct Click {
  std::string page;
  rill::Time time;  // when the click happened: ms since the epoch
};
// [/click]

int main() {
  // [count]
  rill::testing::Harness h{1s};
  // The click at 900 ms happened in the first second but arrives in the second batch.
  auto clicks = h.input<Click>({{{"home", rill::Time{500}}, {"cart", rill::Time{1500}}},
                                {{"home", rill::Time{2500}}, {"home", rill::Time{900}}}});
  // Processing time: by the batch a click arrived in.
  guide::show(clicks.count(), "per batch");
  // Event time: by the 2 s window the click happened in (complete mode: every window so far).
  auto by_event_time =
      clicks.with_event_time(&Click::time)
          .aggregate_by_window(rill::tumbling(2s), rill::agg::count(), rill::OutputMode::complete);
  guide::show(by_event_time, "per event-time window");
  h.run_batches(2);
  // [/count]
}

// Expected output:
// > per batch @1000 ms: 2
// > per event-time window @1000 ms: ([0,2000),2)
// > per batch @2000 ms: 2
// > per event-time window @2000 ms: ([0,2000),3)
// > per event-time window @2000 ms: ([2000,4000),1)
