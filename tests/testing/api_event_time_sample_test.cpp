// The event-time sample of shared/api.md ("Event time"), unchanged between the markers, run on a
// harness: its comments say what print() shows.
#include <string>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

using namespace std::chrono_literals;

namespace {
// ---- begin sample ----
// clang-format off
struct Reading { std::string sensor; rill::Time time; double celsius; };   // with an fmt::formatter
// clang-format on
// ---- end sample ----
}  // namespace

template <>
struct fmt::formatter<Reading> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const Reading& r, Ctx& ctx) const {
    return fmt::format_to(ctx.out(), "{}@{}={}", r.sensor, r.time.milliseconds(), r.celsius);
  }
};

TEST(ApiEventTimeSample, PrintsWindowsAndLateReadings) {
  rill::testing::Harness h{1s};
  // Sensor s1's readings of 24 and 25 degrees at 9 s and 12 s; a reading at 23 s moves the
  // watermark (10 s delay) to 13 s, which closes [8000,13000); the reading at 1 s then comes too
  // late for all its windows.
  auto readings =
      h.input<Reading>({{{"s1", rill::Time{9000}, 24.0}, {"s1", rill::Time{12000}, 25.0}},
                        {{"s1", rill::Time{23000}, 30.0}},
                        {},
                        {{"s1", rill::Time{1000}, 10.0}}});
  ::testing::internal::CaptureStdout();
  // ---- begin sample ----
  // clang-format off
auto averages = readings                                     // DStream<Reading>
    .with_watermark(&Reading::time, 10s)                     // EventDStream<Reading>
    .aggregate_by_window(rill::sliding(5s, 2s), &Reading::sensor, rill::agg::mean(&Reading::celsius));
averages.print();                                            // ([8000,13000),s1,24.5) ...
averages.late_records().print();                             // the readings that came too late
  // clang-format on
  // ---- end sample ----
  h.run_batches(4);
  const std::string out = ::testing::internal::GetCapturedStdout();
  // Batch 3000 (wm 13 s) emits the windows that ended by 13 s: [4000,9000) does not hold the
  // reading at 9 s (windows are half-open); [6000,11000) and [8000,13000) average 24 and 24.5
  // (one key, so one partition, whose windows come in start order).
  EXPECT_NE(out.find("Time: 3000 ms\n-------------------------------------------\n"
                     "([6000,11000),s1,24.0)\n([8000,13000),s1,24.5)\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("Time: 4000 ms\n-------------------------------------------\ns1@1000=10\n"),
            std::string::npos)
      << out;
}
