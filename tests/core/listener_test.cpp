#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

using namespace std::chrono_literals;

namespace {
class Recorder final : public rill::StreamingListener {
 public:
  struct Event {
    char kind;
    rill::BatchInfo info;
  };
  void on_batch_submitted(const rill::BatchInfo& i) override { add('s', i); }
  void on_batch_started(const rill::BatchInfo& i) override { add('b', i); }
  void on_batch_completed(const rill::BatchInfo& i) override { add('c', i); }
  std::vector<Event> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }
  std::set<std::thread::id> threads() {
    std::lock_guard lock(mutex_);
    return threads_;
  }

 private:
  void add(char kind, const rill::BatchInfo& i) {
    std::lock_guard lock(mutex_);
    events_.push_back({kind, i});
    threads_.insert(std::this_thread::get_id());
  }
  std::mutex mutex_;
  std::vector<Event> events_;
  std::set<std::thread::id> threads_;
};
}  // namespace

TEST(Listener, SeesEveryBatchInOrderOnOneThread) {
  rill::testing::Harness h{1s};
  auto recorder = std::make_shared<Recorder>();
  h.context().add_listener(recorder);
  (void)h.collect(h.input<int>({{1, 2, 3}, {}, {4}}));
  h.run_batches(3);
  const auto events = recorder->events();
  std::vector<std::pair<char, std::int64_t>> completed;
  std::map<char, std::vector<rill::Time>> by_kind;
  for (const auto& e : events) {
    by_kind[e.kind].push_back(e.info.batch_time);
    if (e.kind == 'c') completed.emplace_back(e.kind, e.info.num_records);
    if (e.kind == 'c') {
      EXPECT_GE(e.info.scheduling_delay.count(), 0);
      EXPECT_GE(e.info.processing_delay.count(), 0);
      EXPECT_EQ(e.info.total_delay, e.info.scheduling_delay + e.info.processing_delay);
    }
  }
  const std::vector<rill::Time> times{rill::Time{1000}, rill::Time{2000}, rill::Time{3000}};
  EXPECT_EQ(by_kind['s'], times);
  EXPECT_EQ(by_kind['b'], times);
  EXPECT_EQ(by_kind['c'], times);
  EXPECT_EQ(completed, (std::vector<std::pair<char, std::int64_t>>{{'c', 3}, {'c', 0}, {'c', 1}}));
  EXPECT_EQ(recorder->threads().size(), 1u);
  // Within a batch: submitted, then started, then completed.
  std::map<rill::Time, std::string> order;
  for (const auto& e : events)
    order[e.info.batch_time] += e.kind;
  for (const auto& [t, kinds] : order)
    EXPECT_EQ(kinds, "sbc") << t;
}

TEST(Listener, ShowsTheSchedulingDelayOfASlowBatch) {
  rill::StreamingContext ctx{rill::Config{}.batch_interval(10ms).parallelism(1)};
  auto recorder = std::make_shared<Recorder>();
  ctx.add_listener(recorder);
  std::atomic<int> batches{0};
  ctx.queue_stream<int>({{1}}).foreach_batch([&](const rill::Batch<int>&, rill::Time) {
    if (batches++ == 0) std::this_thread::sleep_for(60ms);  // the slow batch under test
  });
  ctx.start();
  while (batches.load() < 4)
    std::this_thread::yield();
  ctx.stop();
  rill::Duration max_delay{0};
  std::vector<rill::Time> completed;
  for (const auto& e : recorder->events()) {
    if (e.kind != 'c') continue;
    completed.push_back(e.info.batch_time);
    max_delay = std::max(max_delay, e.info.scheduling_delay);
  }
  EXPECT_GE(max_delay, 30ms);  // the batches behind the slow one waited
  for (std::size_t i = 1; i < completed.size(); ++i) {
    EXPECT_EQ(completed[i] - completed[i - 1], 10ms);  // none dropped or reordered
  }
}
