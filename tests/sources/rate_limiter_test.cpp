// A receiver's rate limit (issue 15, rate control): the token bucket store() waits on
// (Spark's receiver RateLimiter). On a manual clock the tokens are a function of the clock's
// moves, so every count here is exact; one test checks the steady clock's pacing loosely.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <thread>

#include <gtest/gtest.h>
#include <rill/rill.hpp>

#include "rill/sources/detail/rate_limiter.hpp"

using namespace std::chrono_literals;

namespace {

using rill::detail::RateLimiter;

struct ManualLimiter {
  std::shared_ptr<rill::ManualClock> clock = rill::ManualClock::create(rill::Time{0});
  RateLimiter limiter;
  explicit ManualLimiter(double rate) {
    limiter.use_clock(clock);
    limiter.set_rate(rate);
  }
  /// How many single records try_acquire() lets through now.
  int drain() {
    int n = 0;
    while (limiter.try_acquire(1))
      ++n;
    return n;
  }
};

TEST(RateLimiter, UnlimitedByDefaultAndAtRateZero) {
  RateLimiter limiter;
  EXPECT_FALSE(limiter.rate());
  limiter.acquire(1000000);  // returns at once
  EXPECT_TRUE(limiter.try_acquire(1000000));
  limiter.set_rate(10);
  EXPECT_EQ(limiter.rate(), 10.0);
  limiter.set_rate(0);
  EXPECT_FALSE(limiter.rate());
  limiter.acquire(1000000);
}

TEST(RateLimiter, TokensFollowTheClockUpToOneSecondsWorth) {
  ManualLimiter m(10);  // 10 records/s, the bucket starts empty
  EXPECT_EQ(m.drain(), 0);
  m.clock->advance(100ms);
  EXPECT_EQ(m.drain(), 1);
  m.clock->advance(450ms);  // 4.5 tokens
  EXPECT_EQ(m.drain(), 4);
  m.clock->advance(50ms);  // the half token left, and half of another
  EXPECT_EQ(m.drain(), 1);
  m.clock->advance(5s);  // an idle source saves one second's worth, no more
  EXPECT_EQ(m.drain(), 10);
}

TEST(RateLimiter, ABlockLargerThanTheBucketLeavesADebt) {
  ManualLimiter m(10);
  m.clock->advance(1s);
  m.limiter.acquire(25);  // a full bucket lets it through: 10 - 25 = -15 tokens
  m.clock->advance(1s);   // -5
  EXPECT_EQ(m.drain(), 0);
  m.clock->advance(600ms);  // 1
  EXPECT_EQ(m.drain(), 1);
  // Over the whole run: 26 records in 2.6 s at 10 records/s.
}

TEST(RateLimiter, ARateChangeKeepsWhatWasEarned) {
  ManualLimiter m(10);
  m.clock->advance(500ms);  // 5 tokens at 10/s
  m.limiter.set_rate(100);
  m.clock->advance(100ms);  // + 10 at 100/s
  EXPECT_EQ(m.drain(), 15);
  m.clock->advance(1s);
  m.limiter.set_rate(4);  // 100 earned, but the bucket holds one second's worth: 4
  EXPECT_EQ(m.drain(), 4);
}

TEST(RateLimiter, AcquireWaitsForTheClock) {
  ManualLimiter m(10);
  std::atomic<int> acquired{0};
  std::thread producer([&] {
    for (int i = 0; i < 5; ++i) {
      m.limiter.acquire(1);
      ++acquired;
    }
  });
  m.clock->advance(200ms);  // 2 tokens; 3 more needed
  m.clock->advance(300ms);
  producer.join();
  EXPECT_EQ(acquired.load(), 5);
  EXPECT_EQ(m.drain(), 0);  // the producer took exactly what the clock gave
}

TEST(RateLimiter, StoppingInterruptsAWait) {
  for (const bool close : {true, false}) {
    SCOPED_TRACE(close ? "close" : "pause");
    ManualLimiter m(1);
    std::exception_ptr error;
    std::thread producer([&] {
      try {
        m.limiter.acquire(1);  // no token, and the clock never moves
      } catch (...) {
        error = std::current_exception();
      }
    });
    if (close) {
      m.limiter.close();
    } else {
      m.limiter.pause(true);
    }
    producer.join();
    ASSERT_TRUE(error);
    EXPECT_THROW(std::rethrow_exception(error), rill::Stopped);
    EXPECT_THROW(m.limiter.try_acquire(1), rill::Stopped);
    if (!close) {
      m.limiter.pause(false);  // a restart's on_start
      m.clock->advance(1s);
      EXPECT_TRUE(m.limiter.try_acquire(1));
    }
  }
}

TEST(RateLimiter, LiftingTheLimitReleasesAWait) {
  ManualLimiter m(1);
  std::thread producer([&] { m.limiter.acquire(1); });
  m.limiter.set_rate(0);
  producer.join();
  EXPECT_FALSE(m.limiter.rate());
}

TEST(RateLimiter, GivesBackUnusedTokens) {
  ManualLimiter m(10);
  m.clock->advance(300ms);
  ASSERT_TRUE(m.limiter.try_acquire(1));
  m.limiter.give_back(1);
  EXPECT_EQ(m.drain(), 3);
}

// On the steady clock the limiter sleeps: 100 records at 500/s take about 200 ms (the bucket
// starts empty). Only a lower bound is checked, which a loaded machine cannot break.
TEST(RateLimiter, PacesOnTheSteadyClock) {
  RateLimiter limiter;
  limiter.use_clock(rill::SystemClock::create());  // not manual: the steady clock
  limiter.set_rate(500);
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i)
    limiter.acquire(1);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 190ms);
}

}  // namespace
