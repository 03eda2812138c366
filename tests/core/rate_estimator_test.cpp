// Back-pressure's PID rate estimator (issue 15, rate control), a table test in the spirit of
// Spark's PIDRateEstimatorSuite: pure, no clock, no context. Times are µs here (Spark's ms
// values times 1000), so the expected rates are Spark's.

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rill/rill.hpp>

#include "scheduler/pid_rate_estimator.hpp"

using namespace std::chrono_literals;

namespace {

using rill::PidRateOptions;
using rill::detail::PidRateEstimator;
using std::chrono::microseconds;

/// One batch as the estimator sees it (ms, as Spark's suite writes them), and what it returns.
struct Step {
  std::int64_t time_ms;
  std::int64_t records;
  std::int64_t processing_ms;
  std::int64_t scheduling_ms;
  std::optional<double> expected;
};

std::optional<double> compute(PidRateEstimator& p, const Step& s) {
  return p.compute(microseconds(s.time_ms * 1000), s.records, microseconds(s.processing_ms * 1000),
                   microseconds(s.scheduling_ms * 1000));
}

/// Spark's createDefaultEstimator: 20 ms batches, proportional 1, no integral or derivative.
PidRateEstimator default_estimator() {
  return PidRateEstimator(20ms, PidRateOptions{1.0, 0.0, 0.0, 10.0});
}

struct Case {
  std::string name;
  std::vector<Step> steps;
};

TEST(PidRateEstimator, Table) {
  const std::vector<Case> cases = {
      {"the first estimate is none: it only measures the processing rate",
       {{0, 10, 10, 0, std::nullopt}}},
      {"the second estimate follows the processing rate (10 records in 10 ms: 1000/s)",
       {{0, 10, 10, 0, std::nullopt}, {10, 10, 10, 0, 1000.0}}},
      {"no estimate when no time passed since the last one",
       {{0, 10, 10, 0, std::nullopt}, {10, 10, 10, 0, 1000.0}, {10, 10, 10, 0, std::nullopt}}},
      {"no estimate for a batch without records, and it changes nothing",
       {{0, 10, 10, 0, std::nullopt},
        {10, 0, 10, 0, std::nullopt},
        {20, -10, 10, 0, std::nullopt},
        {30, 20, 10, 0, 2000.0}}},
      {"no estimate for a batch without processing time",
       {{0, 10, 10, 0, std::nullopt},
        {10, 10, 0, 0, std::nullopt},
        {20, 10, -10, 0, std::nullopt},
        {30, 10, 10, 0, 1000.0}}},
      {"an empty first batch does not count as the first run",
       {{0, 0, 10, 0, std::nullopt}, {10, 10, 10, 0, std::nullopt}, {20, 30, 10, 0, 3000.0}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    PidRateEstimator p = default_estimator();
    for (std::size_t i = 0; i < c.steps.size(); ++i) {
      SCOPED_TRACE(i);
      const auto got = compute(p, c.steps[i]);
      ASSERT_EQ(got.has_value(), c.steps[i].expected.has_value());
      if (got) {
        EXPECT_DOUBLE_EQ(*got, *c.steps[i].expected);
      }
    }
  }
}

// Spark: "estimate is never less than min rate": one record in 20 ms of processing, with a
// scheduling delay that keeps pushing the rate down.
TEST(PidRateEstimator, NeverGoesBelowTheMinimumRate) {
  PidRateEstimator p(20ms, PidRateOptions{1.0, 1.0, 0.0, 5.0});
  for (int i = 0; i < 50; ++i) {
    const auto rate = compute(p, Step{i * 20, 1, 20, 100, std::nullopt});
    if (i == 0) {
      EXPECT_FALSE(rate);
    } else {
      ASSERT_TRUE(rate);
      EXPECT_DOUBLE_EQ(*rate, 5.0);
    }
  }
}

// Spark: with no scheduling delay the integral term is silent, and the estimate follows the
// processing rate up and down exactly.
TEST(PidRateEstimator, WithoutSchedulingDelayFollowsTheProcessingRate) {
  for (const bool increasing : {true, false}) {
    SCOPED_TRACE(increasing ? "increasing" : "decreasing");
    PidRateEstimator p(20ms, PidRateOptions{1.0, 1.0, 0.0, 10.0});
    for (int i = 0; i < 50; ++i) {
      const std::int64_t k = increasing ? i + 1 : 50 - i;
      const auto rate = compute(p, Step{i * 20, k * 20, 20, 0, std::nullopt});
      if (i == 0) {
        EXPECT_FALSE(rate);
      } else {
        ASSERT_TRUE(rate);
        EXPECT_DOUBLE_EQ(*rate, static_cast<double>(k) * 1000.0);
      }
    }
  }
}

// Spark: with a scheduling delay the estimate stays below the processing rate (here with a
// fixed pseudo-random table instead of Spark's Random, so that the test is the same each run).
TEST(PidRateEstimator, WithSchedulingDelayStaysBelowTheProcessingRate) {
  PidRateEstimator p(20ms, PidRateOptions{1.0, 0.01, 0.0, 10.0});
  std::uint64_t seed = 42;
  auto next = [&seed](std::uint64_t bound) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::int64_t>((seed >> 33) % bound);
  };
  for (int i = 0; i < 50; ++i) {
    const std::int64_t records = 1 + next(999);
    const std::int64_t scheduling = next(19);
    const auto rate = compute(p, Step{i * 20, records, 20, scheduling, std::nullopt});
    if (i == 0) continue;
    const double speed = static_cast<double>(records) / 20.0 * 1000.0;
    ASSERT_TRUE(rate) << i;
    if (scheduling > 0) {
      EXPECT_LT(*rate, speed) << i;
    }
  }
}

// The integral term: a scheduling delay of half an interval at the processing rate r asks for
// r - integral * r / 2; the derivative term reacts to the error's change per second.
TEST(PidRateEstimator, IntegralAndDerivativeTerms) {
  PidRateEstimator integral(1000ms, PidRateOptions{1.0, 0.2, 0.0, 100.0});
  compute(integral, Step{1000, 1000, 1000, 0, std::nullopt});
  // 2000 records in 1 s: r = 2000/s; error = 1000 - 2000; 500 ms of delay: 0.2 * 1000.
  const auto rate = compute(integral, Step{2000, 2000, 1000, 500, std::nullopt});
  ASSERT_TRUE(rate);
  EXPECT_DOUBLE_EQ(*rate, 1000.0 + 1000.0 - 0.2 * 1000.0);

  PidRateEstimator derived(1000ms, PidRateOptions{0.0, 0.0, 0.5, 100.0});
  compute(derived, Step{1000, 1000, 1000, 0, std::nullopt});  // rate 1000/s, error 0
  // error = 1000 - 500 = 500 over 2 s: d_error = 250/s; 1000 - 0.5 * 250.
  const auto slowed = compute(derived, Step{3000, 500, 1000, 0, std::nullopt});
  ASSERT_TRUE(slowed);
  EXPECT_DOUBLE_EQ(*slowed, 1000.0 - 0.5 * 250.0);
}

TEST(PidRateEstimator, ChecksItsRanges) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(PidRateEstimator(0ms, PidRateOptions{1, 2, 3, 10}), rill::InvalidArgument);
  EXPECT_THROW(PidRateEstimator(100ms, PidRateOptions{-1, 2, 3, 10}), rill::InvalidArgument);
  EXPECT_THROW(PidRateEstimator(100ms, PidRateOptions{0, -1, 3, 10}), rill::InvalidArgument);
  EXPECT_THROW(PidRateEstimator(100ms, PidRateOptions{0, 0, -1, 10}), rill::InvalidArgument);
  EXPECT_THROW(PidRateEstimator(100ms, PidRateOptions{0, 0, 0, 0}), rill::InvalidArgument);
  EXPECT_THROW(PidRateEstimator(100ms, PidRateOptions{0, 0, 0, -10}), rill::InvalidArgument);
  EXPECT_THROW(PidRateEstimator(100ms, PidRateOptions{nan, 0, 0, 10}), rill::InvalidArgument);
  EXPECT_NO_THROW(PidRateEstimator(100ms, PidRateOptions{}));
}

// The Config options: Spark's defaults, and errors that name the value.
TEST(RateControlConfig, DefaultsAndValidation) {
  rill::Config config;
  EXPECT_FALSE(config.backpressure());
  EXPECT_EQ(config.max_rate_per_source(), 0.0);
  EXPECT_EQ(config.backpressure_initial_rate(), 0.0);
  EXPECT_EQ(config.backpressure_pid().proportional, 1.0);
  EXPECT_EQ(config.backpressure_pid().integral, 0.2);
  EXPECT_EQ(config.backpressure_pid().derived, 0.0);
  EXPECT_EQ(config.backpressure_pid().min_rate, 100.0);

  config.backpressure(true).max_rate_per_source(5000).backpressure_initial_rate(1000);
  EXPECT_TRUE(config.backpressure());
  EXPECT_EQ(config.max_rate_per_source(), 5000.0);
  EXPECT_EQ(config.backpressure_initial_rate(), 1000.0);

  auto message = [](auto&& call) {
    try {
      call();
    } catch (const rill::InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([] { rill::Config{}.max_rate_per_source(-1); }).find("max_rate_per_source"),
            std::string::npos);
  EXPECT_NE(message([] { rill::Config{}.max_rate_per_source(-1); }).find("-1"), std::string::npos);
  EXPECT_NE(message([] {
              rill::Config{}.backpressure_initial_rate(std::numeric_limits<double>::infinity());
            }).find("backpressure_initial_rate"),
            std::string::npos);
  EXPECT_NE(message([] {
              rill::Config{}.backpressure_pid(PidRateOptions{.min_rate = 0});
            }).find("min_rate"),
            std::string::npos);
  EXPECT_NE(message([] {
              rill::Config{}.backpressure_pid(PidRateOptions{.integral = -0.5});
            }).find("integral"),
            std::string::npos);
}

}  // namespace
