// Tumbling, sliding and session windows over event time, in append mode: each (window, key) is
// emitted once, when the watermark has passed the window's end.
#include <string>

#include <rill/testing.hpp>

#include "guide.hpp"

using namespace std::chrono_literals;

struct View {
  std::string user;
  rill::Time time;
};

int main() {
  // [windows]
  rill::testing::Harness h{1s};
  auto views = h.input<View>({{{"u1", rill::Time{1000}},
                               {"u1", rill::Time{2500}},
                               {"u1", rill::Time{9000}},
                               {"u2", rill::Time{4000}}},
                              {{"u3", rill::Time{30000}}}})
                   .with_watermark(&View::time, 0s);  // no disorder allowed
  const auto count = rill::agg::count();
  guide::show(views.aggregate_by_window(rill::tumbling(5s), &View::user, count), "tumbling");
  guide::show(views.aggregate_by_window(rill::sliding(4s, 2s), &View::user, count), "sliding");
  guide::show(views.aggregate_by_window(rill::session(3s), &View::user, count), "session");
  h.run_batches(3);
  // [/windows]
}

// The watermark is 9000 ms after the first batch and 30000 ms after the second; wm(t) is the
// one at the end of the batch before t, so windows ending by 9 s are emitted at 2000 ms, those
// ending by 30 s at 3000 ms; the windows of u3's view never close.
// Expected output:
// > tumbling @2000 ms: ([0,5000),u1,2)
// > tumbling @2000 ms: ([0,5000),u2,1)
// > sliding @2000 ms: ([-2000,2000),u1,1)
// > sliding @2000 ms: ([0,4000),u1,2)
// > sliding @2000 ms: ([2000,6000),u1,1)
// > sliding @2000 ms: ([2000,6000),u2,1)
// > sliding @2000 ms: ([4000,8000),u2,1)
// > session @2000 ms: ([1000,5500),u1,2)
// > session @2000 ms: ([4000,7000),u2,1)
// > tumbling @3000 ms: ([5000,10000),u1,1)
// > sliding @3000 ms: ([6000,10000),u1,1)
// > sliding @3000 ms: ([8000,12000),u1,1)
// > session @3000 ms: ([9000,12000),u1,1)
