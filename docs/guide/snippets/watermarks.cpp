// Watermarks and late data: the watermark trails the largest event time seen by the delay; a row
// whose windows all ended by the previous batch's watermark is late, and goes to late_records().
#include <iostream>
#include <string>

#include <rill/testing.hpp>

#include "guide.hpp"

using namespace std::chrono_literals;

struct Reading {
  std::string sensor;
  rill::Time time;
  double celsius;
};

int main() {
  // [late]
  rill::testing::Harness h{1s};
  auto readings =
      h.input<Reading>({{{"s1", rill::Time{2000}, 20.0}, {"s1", rill::Time{8000}, 22.0}},
                        {{"s1", rill::Time{16000}, 25.0}},
                        {{"s1", rill::Time{9000}, 21.0}},  // out of order, in time
                        {{"s1", rill::Time{7000}, 30.0}},  // too late
                        {{"s1", rill::Time{40000}, 19.0}},
                        {}});
  auto maxima = readings.with_watermark(&Reading::time, 5s)
                    .aggregate_by_window(rill::tumbling(10s), &Reading::sensor,
                                         rill::agg::max(&Reading::celsius));
  guide::show(maxima, "window");
  guide::show(maxima.late_records().map([](const Reading& r) {
    return r.sensor + " at " + std::to_string(r.time.milliseconds()) + " ms";
  }),
              "late");
  for (int i = 0; i < 6; ++i) {
    h.run_batches(1);
    const auto progress = h.context().last_progress();  // the batch just run
    std::cout << "batch " << progress->batch_time << ": wm(t) = "
              << (progress->watermark ? rill::format_record(progress->watermark->milliseconds())
                                      : std::string{"none"})
              << '\n';
  }
  // [/late]

  // [dedup]
  // A client may send a click twice. drop_duplicates lets the first click of each id through
  // and remembers the id until the watermark passes that click's event time.
  struct Click {
    std::string id;
    rill::Time time;
  };
  rill::testing::Harness d{1s};
  auto clicks = d.input<Click>(
      {{{"a", rill::Time{1000}}, {"b", rill::Time{2000}}, {"a", rill::Time{1000}}},  // twice
       {{"b", rill::Time{2000}}, {"c", rill::Time{12000}}},                          // b again
       {{"a", rill::Time{1000}}},                             // a still remembered: dropped
       {{"a", rill::Time{1000}}, {"d", rill::Time{9000}}}});  // a late
  auto unique = clicks.with_watermark(&Click::time, 5s).drop_duplicates(&Click::id);
  guide::show(unique.map([](const Click& c) {
    return c.id + " at " + std::to_string(c.time.milliseconds());
  }),
              "unique");
  d.run_batches(4);
  // [/dedup]
}

// Expected output:
// > batch 1000 ms: wm(t) = none
// > batch 2000 ms: wm(t) = 3000
// > window @3000 ms: ([0,10000),s1,22.0)
// > batch 3000 ms: wm(t) = 11000
// > late @4000 ms: s1 at 7000 ms
// > batch 4000 ms: wm(t) = 11000
// > batch 5000 ms: wm(t) = 11000
// > window @6000 ms: ([10000,20000),s1,25.0)
// > batch 6000 ms: wm(t) = 35000
// > unique @1000 ms: a at 1000
// > unique @1000 ms: b at 2000
// > unique @2000 ms: c at 12000
// > unique @4000 ms: d at 9000
