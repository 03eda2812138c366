#include <sstream>

#include <gtest/gtest.h>
#include <rill/rill.hpp>

using namespace std::chrono_literals;

TEST(Time, ArithmeticAndOrder) {
  const rill::Time t{1000};
  EXPECT_EQ(t.milliseconds(), 1000);
  EXPECT_EQ(t + 2s, rill::Time{3000});
  EXPECT_EQ(t - 500ms, rill::Time{500});
  EXPECT_EQ(rill::Time{3000} - t, rill::Duration{2000});
  EXPECT_LT(t, rill::Time{1001});
  EXPECT_TRUE(rill::Time{3000}.is_multiple_of(1s));
  EXPECT_FALSE(rill::Time{3500}.is_multiple_of(1s));
  EXPECT_EQ(rill::Time{3500}.floor(1s), rill::Time{3000});
  EXPECT_EQ(rill::Time{-500}.floor(1s), rill::Time{-1000});
}

TEST(Time, PrintsLikeSpark) {
  EXPECT_EQ(fmt::format("{}", rill::Time{1000}), "1000 ms");
  std::ostringstream os;
  os << rill::Time{250};
  EXPECT_EQ(os.str(), "250 ms");
}

TEST(ManualClock, AdvancesOnlyWhenTold) {
  auto clock = rill::ManualClock::create();
  EXPECT_EQ(clock->now(), rill::Time{0});
  clock->advance(1500ms);
  EXPECT_EQ(clock->now(), rill::Time{1500});
  clock->set_time(rill::Time{200});
  EXPECT_EQ(clock->now(), rill::Time{200});
  EXPECT_THROW(clock->advance(-1ms), rill::InvalidArgument);
}

TEST(Config, RejectsBadValuesAtTheCall) {
  EXPECT_THROW(rill::Config{}.batch_interval(0ms), rill::InvalidArgument);
  EXPECT_THROW(rill::Config{}.parallelism(0), rill::InvalidArgument);
  EXPECT_THROW(rill::Config{}.worker_threads(0), rill::InvalidArgument);
  EXPECT_THROW(rill::Config{}.max_pending_batches(0), rill::InvalidArgument);
  EXPECT_THROW(rill::Config{}.receiver_queue_bytes(0), rill::InvalidArgument);
  EXPECT_EQ(rill::Config{}.receiver_queue_bytes(), std::size_t{64} << 20);
  EXPECT_EQ(rill::Config{}.receiver_queue_bytes(4096).receiver_queue_bytes(), 4096U);
  EXPECT_THROW(rill::Config{}.clock(nullptr), rill::InvalidArgument);
  EXPECT_THROW(rill::Config{}.checkpoint_snapshot_interval(0), rill::InvalidArgument);
  EXPECT_THROW(rill::Config{}.checkpoints_retained(0), rill::InvalidArgument);
  EXPECT_EQ(rill::Config{}.checkpoint_snapshot_interval(), 10u);
  EXPECT_EQ(rill::Config{}.checkpoints_retained(), 10u);
  EXPECT_THROW(rill::StreamingContext{rill::Config{}}, rill::InvalidArgument);
  const auto c = rill::Config{}.batch_interval(500ms).worker_threads(3);
  EXPECT_EQ(c.batch_interval(), 500ms);
  EXPECT_EQ(c.parallelism(), 3u);  // defaults to the worker threads
}
