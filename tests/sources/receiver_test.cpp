// Integration tests of user receivers: storing, restarts, errors, stopping, back-pressure.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

#include "support/eventually.hpp"
#include "support/sequences.hpp"
#include "support/signal.hpp"

using namespace std::chrono_literals;

namespace {

using rill_test::Signal;

/// A receiver running `body` on its own thread at each start; counts starts and stops.
class ThreadReceiver : public rill::Receiver<int> {
 public:
  using Body = std::function<void(ThreadReceiver&, int start)>;
  explicit ThreadReceiver(Body body) : body_(std::move(body)) {}
  ~ThreadReceiver() override { join(); }

  void on_start() override {
    const int n = ++starts_;
    thread_ = std::thread([this, n] {
      try {
        body_(*this, n);
      } catch (const rill::Stopped&) {
        ++stopped_exits_;
      }
    });
    events_.notify();
  }
  void on_stop() override {
    join();
    ++stops_;
    events_.notify();
  }

  [[nodiscard]] int starts() const { return starts_.load(); }
  [[nodiscard]] int stops() const { return stops_.load(); }
  [[nodiscard]] int stopped_exits() const { return stopped_exits_.load(); }
  /// Waits until on_start ran `s` times and on_stop `t` times.
  bool await_counts(int s, int t, std::chrono::milliseconds timeout = 10s) {
    return events_.wait_for([&] { return starts_ >= s && stops_ >= t; }, timeout);
  }

 private:
  void join() {
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  }

  Body body_;
  std::thread thread_;
  std::atomic<int> starts_{0};
  std::atomic<int> stops_{0};
  std::atomic<int> stopped_exits_{0};
  Signal events_;
};

using rill_test::flatten;

std::vector<int> iota_vector(int n, int from = 0) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), from);
  return v;
}

/// Runs `fn` on a detached thread and waits at most `timeout` for it. A call that deadlocks
/// then fails its test instead of hanging the program; the caller must leak what `fn` uses.
bool finishes_within(std::function<void()> fn, std::chrono::milliseconds timeout,
                     std::exception_ptr& error) {
  struct Done {
    Signal signal;
    bool done = false;
    std::exception_ptr error;
  };
  auto done = std::make_shared<Done>();
  std::thread([fn = std::move(fn), done] {
    std::exception_ptr e;
    try {
      fn();
    } catch (...) {
      e = std::current_exception();
    }
    done->signal.notify([&] {
      done->done = true;
      done->error = e;
    });
  }).detach();
  if (!done->signal.wait_for([&] { return done->done; }, timeout)) return false;
  error = done->error;
  return true;
}

}  // namespace

TEST(ReceiverStream, StoresSingleRecordsAndBlocksInOrder) {
  rill::testing::Harness h{1s};
  auto receiver = std::make_shared<ThreadReceiver>([](ThreadReceiver& r, int) {
    r.store(1);
    r.store(std::vector<int>{2, 3, 4});
    r.store(5);
    r.store(std::vector<int>{});  // nothing
    r.store(std::vector<int>{6});
  });
  auto out = h.collect(h.context().receiver_stream<int>(receiver));
  h.run_batches(1);
  ASSERT_TRUE(h.await_records_stored(6, 10s));
  h.run_batches(1);
  EXPECT_EQ(flatten(out.batches()), (std::vector<int>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(out.batches().size(), 2U);

  const auto stats = h.context().source_stats();
  ASSERT_EQ(stats.size(), 1U);
  EXPECT_EQ(stats[0].records, 6);
  EXPECT_EQ(stats[0].errors, 0);
  EXPECT_EQ(stats[0].skipped, 0);
  EXPECT_FALSE(stats[0].name.empty());
  EXPECT_EQ(receiver->starts(), 1);
}

TEST(ReceiverStream, RecordsOfABatchAreSplitContiguouslyOverTheParallelism) {
  Signal go;  // declared before the harness: the receiver's thread uses it until stopped
  bool released = false;
  rill::testing::Harness h{rill::Config{}.batch_interval(1s).parallelism(3)};
  auto receiver = std::make_shared<ThreadReceiver>([&](ThreadReceiver& r, int) {
    go.wait_for([&] { return released; });
    r.store(iota_vector(7));
  });
  std::vector<std::vector<std::vector<int>>> seen;
  std::mutex mutex;
  h.context().receiver_stream<int>(receiver).foreach_batch(
      [&](const rill::Batch<int>& b, rill::Time) {
        std::vector<std::vector<int>> parts;
        for (std::size_t i = 0; i < b.num_partitions(); ++i)
          parts.emplace_back(b.partition(i).begin(), b.partition(i).end());
        std::lock_guard lock(mutex);
        seen.push_back(std::move(parts));
      });
  h.run_batches(1);
  go.notify([&] { released = true; });
  ASSERT_TRUE(h.await_records_stored(7, 10s));
  h.run_batches(1);
  ASSERT_EQ(seen.size(), 2U);
  ASSERT_EQ(seen[1].size(), 3U);
  EXPECT_EQ(flatten(seen[1]), iota_vector(7));
  for (const auto& p : seen[1])
    EXPECT_GE(p.size(), 2U);  // contiguous slices of 7 in 3: sizes 2 or 3
}

TEST(ReceiverStream, SeveralReceiversKeepTheirStatsApartInCreationOrder) {
  rill::testing::Harness h{1s};
  auto a = std::make_shared<ThreadReceiver>([](ThreadReceiver& r, int) {
    r.report_error("a failed once");  // before the store that await_records_stored waits for
    r.store(std::vector<int>{1, 2});
  });
  auto b = std::make_shared<ThreadReceiver>([](ThreadReceiver& r, int) {
    r.count_skipped(4);
    r.store(std::vector<int>{10, 20, 30});
  });
  auto out = h.collect(
      h.context().receiver_stream<int>(a).union_with(h.context().receiver_stream<int>(b)));
  h.run_batches(1);
  ASSERT_TRUE(h.await_records_stored(5, 10s));
  h.run_batches(1);
  auto all = flatten(out.batches());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<int>{1, 2, 10, 20, 30}));
  const auto stats = h.context().source_stats();
  ASSERT_EQ(stats.size(), 2U);
  EXPECT_EQ(stats[0].records, 2);
  EXPECT_EQ(stats[0].errors, 1);
  EXPECT_EQ(stats[0].skipped, 0);
  EXPECT_EQ(stats[1].records, 3);
  EXPECT_EQ(stats[1].errors, 0);
  EXPECT_EQ(stats[1].skipped, 4);
  EXPECT_NE(stats[0].name, stats[1].name);
}

TEST(ReceiverStream, ReportErrorAndCountErrorAreCountedAndTheReceiverGoesOn) {
  rill::testing::Harness h{1s};
  auto receiver = std::make_shared<ThreadReceiver>([](ThreadReceiver& r, int) {
    r.report_error("first problem");
    r.report_error("second problem",
                   std::make_exception_ptr(std::runtime_error("with an exception")));
    r.count_error(3);
    r.count_skipped(2);
    r.store(42);  // after the counters: await_records_stored orders them
  });
  auto out = h.collect(h.context().receiver_stream<int>(receiver));
  h.run_batches(1);
  ASSERT_TRUE(h.await_records_stored(1, 10s));
  h.run_batches(1);
  EXPECT_EQ(flatten(out.batches()), (std::vector<int>{42}));
  const auto stats = h.context().source_stats().at(0);
  EXPECT_EQ(stats.errors, 5);
  EXPECT_EQ(stats.skipped, 2);
  EXPECT_EQ(stats.records, 1);
  EXPECT_EQ(h.context().state(), rill::ContextState::active);
  EXPECT_EQ(receiver->starts(), 1);
  EXPECT_EQ(receiver->stops(), 0);
}

TEST(ReceiverStream, RestartWithoutDelayCallsOnStopThenOnStart) {
  rill::testing::Harness h{1s};
  auto receiver = std::make_shared<ThreadReceiver>([](ThreadReceiver& r, int start) {
    if (start == 1) {
      r.store(std::vector<int>{1, 2});
      r.restart("test asks for a restart", 0ms);
      // Stopping has begun: the receiver sees it and store() throws.
      EXPECT_TRUE(r.is_stopped());
      r.store(99);
      ADD_FAILURE() << "store() after restart() should have thrown rill::Stopped";
    } else {
      r.store(std::vector<int>{3, 4});
    }
  });
  auto out = h.collect(h.context().receiver_stream<int>(receiver));
  h.run_batches(1);
  ASSERT_TRUE(receiver->await_counts(2, 1));
  ASSERT_TRUE(h.await_records_stored(4, 10s));
  h.run_batches(1);
  EXPECT_EQ(receiver->starts(), 2);
  EXPECT_EQ(receiver->stops(), 1);
  EXPECT_EQ(receiver->stopped_exits(), 1);
  EXPECT_EQ(flatten(out.batches()), (std::vector<int>{1, 2, 3, 4}));
  EXPECT_FALSE(receiver->is_stopped());
}

TEST(ReceiverStream, RestartWithDelayWaitsForTheManualClock) {
  Signal trigger;
  bool asked = false;
  rill::testing::Harness h{1s};
  auto receiver = std::make_shared<ThreadReceiver>([&](ThreadReceiver& r, int start) {
    if (start == 1) {
      trigger.wait_for([&] { return asked; });
      r.restart("restart in 2.5 s", 2500ms);
    } else {
      r.store(7);
    }
  });
  auto out = h.collect(h.context().receiver_stream<int>(receiver));
  h.run_batches(1);  // clock at 1000
  trigger.notify([&] { asked = true; });
  ASSERT_TRUE(receiver->await_counts(1, 1));
  // The restart is due at 3500 (or 4500 if the clock read raced with the next advance).
  h.run_batches(2);  // clock at 3000
  EXPECT_EQ(receiver->starts(), 1) << "restarted before its delay elapsed on the manual clock";
  EXPECT_TRUE(receiver->is_stopped());
  h.run_batches(2);  // clock at 5000: the restart is due
  // It runs on the scheduler thread once its timer is registered there, which may follow the
  // ticks the harness asked for: wait for it rather than assume an order.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (receiver->starts() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(receiver->starts(), 2);
  ASSERT_TRUE(h.await_records_stored(1, 10s));
  h.run_batches(1);
  EXPECT_EQ(flatten(out.batches()), (std::vector<int>{7}));
  EXPECT_EQ(receiver->stops(), 1);
}

TEST(ReceiverStream, RestartCalledFromOnStartRestartsTheReceiver) {
  // restart() is "callable from any thread": a receiver that cannot open its source may ask
  // for a restart straight from on_start(), as Spark receivers may.
  class RestartingReceiver final : public rill::Receiver<int> {
   public:
    void on_start() override {
      if (++starts == 1) {
        restart("the source is not ready yet", 0ms);
      } else {
        report_error("started again");
      }
    }
    void on_stop() override { ++stops; }
    std::atomic<int> starts{0};
    std::atomic<int> stops{0};
  };
  auto receiver = std::make_shared<RestartingReceiver>();
  auto* h = new rill::testing::Harness{1s};  // leaked if the call deadlocks
  h->collect(h->context().receiver_stream<int>(receiver));
  std::exception_ptr error;
  if (!finishes_within([h] { h->run_batches(2); }, 5s, error)) {
    FAIL() << "run_batches() hung: restart() called from on_start() deadlocks";
  }
  EXPECT_FALSE(error) << "run_batches() threw";
  // The restart runs on the scheduler thread "soon", not before a given batch: wait for it.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (receiver->starts.load() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(receiver->starts.load(), 2);
  EXPECT_EQ(receiver->stops.load(), 1);
  EXPECT_EQ(h->context().source_stats().at(0).errors, 1);
  delete h;
}

TEST(ReceiverStream, RestartFromTheReceiverThreadWhileItIsBeingStoppedIsIgnored) {
  // A receiver thread that fails while the context stops calls restart(); on_stop() is then
  // joining that thread. restart() must return at once (stopping has begun), not wait.
  class Receiver final : public rill::Receiver<int> {
   public:
    void on_start() override {
      thread_ = std::thread([this] {
        stopping_.wait_for([&] { return in_on_stop_; });
        restart("the source failed while stopping", 0ms);
        returned_ = true;
      });
    }
    void on_stop() override {
      stopping_.notify([&] { in_on_stop_ = true; });
      if (thread_.joinable()) thread_.join();
    }
    std::atomic<bool> returned_{false};

   private:
    std::thread thread_;
    Signal stopping_;
    bool in_on_stop_ = false;
  };
  auto receiver = std::make_shared<Receiver>();
  auto* h = new rill::testing::Harness{1s};  // leaked if the stop deadlocks
  h->collect(h->context().receiver_stream<int>(receiver));
  h->run_batches(1);
  std::exception_ptr error;
  if (!finishes_within([h] { h->context().stop(); }, 5s, error)) {
    FAIL() << "stop() hung: restart() from the receiver's thread waits for the lifecycle lock "
              "that on_stop() holds while joining that thread";
  }
  EXPECT_FALSE(error);
  EXPECT_TRUE(receiver->returned_.load());
  EXPECT_EQ(h->context().state(), rill::ContextState::stopped);
  delete h;
}

TEST(ReceiverStream, StopDuringADelayedRestartDoesNotStartAgain) {
  rill::testing::Harness h{1s};
  auto receiver = std::make_shared<ThreadReceiver>([](ThreadReceiver& r, int start) {
    if (start == 1) r.restart("restart much later", 60s);
  });
  h.collect(h.context().receiver_stream<int>(receiver));
  h.run_batches(1);
  ASSERT_TRUE(receiver->await_counts(1, 1));
  h.run_batches(1);
  h.context().stop();
  EXPECT_EQ(h.context().state(), rill::ContextState::stopped);
  h.clock().advance(120s);  // the restart's time passes after the stop
  EXPECT_EQ(receiver->starts(), 1);
  EXPECT_EQ(receiver->stops(), 1);  // on_stop is not called again for the final stop
  EXPECT_TRUE(receiver->is_stopped());
}

TEST(ReceiverStream, RestartUnblocksAStoreWaitingOnAFullQueue) {
  std::atomic<int> produced{0};
  rill::testing::Harness h{rill::Config{}.batch_interval(1s).receiver_queue_capacity(10)};
  auto receiver = std::make_shared<ThreadReceiver>([&](ThreadReceiver& r, int start) {
    if (start == 1) {
      for (int i = 0;; ++i) {
        r.store(i);  // blocks at 10 buffered; throws rill::Stopped on the restart
        ++produced;
      }
    }
    r.store(std::vector<int>{1000});
  });
  auto out = h.collect(h.context().receiver_stream<int>(receiver));
  h.run_batches(1);
  // The batch of 1000 took what was stored before it; the queue then fills up to 10 again.
  const std::int64_t first = static_cast<std::int64_t>(flatten(out.batches()).size());
  ASSERT_TRUE(h.await_records_stored(first + 10, 10s));
  EXPECT_FALSE(h.await_records_stored(first + 11, 100ms)) << "store() did not block";

  receiver->restart("unblock", 0ms);  // from the test thread: callable from any thread
  ASSERT_TRUE(receiver->await_counts(2, 1));
  EXPECT_EQ(produced.load(), first + 10);
  // The restart keeps what was buffered: the new run's block waits for the next tick to drain.
  h.run_batches(1);
  ASSERT_TRUE(h.await_records_stored(first + 11, 10s));
  h.run_batches(1);
  auto all = flatten(out.batches());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(first + 11));
  EXPECT_EQ(all.back(), 1000);
  all.pop_back();
  EXPECT_EQ(all, iota_vector(static_cast<int>(first + 10)));
  EXPECT_EQ(receiver->stopped_exits(), 1);
}

TEST(ReceiverStream, StoreAfterTheContextStoppedThrowsStopped) {
  rill::testing::Harness h{1s};
  auto receiver = std::make_shared<ThreadReceiver>([](ThreadReceiver& r, int) {
    r.store(std::vector{1, 2});
  });
  auto out = h.collect(h.context().receiver_stream<int>(receiver));
  h.run_batches(1);
  ASSERT_TRUE(h.await_records_stored(2, 10s));
  h.run_batches(1);
  EXPECT_FALSE(receiver->is_stopped());

  h.context().stop();
  EXPECT_EQ(h.context().state(), rill::ContextState::stopped);
  EXPECT_TRUE(receiver->is_stopped());
  EXPECT_EQ(receiver->stops(), 1);
  EXPECT_THROW(receiver->store(3), rill::Stopped);
  EXPECT_THROW(receiver->store(std::vector<int>{4, 5}), rill::Stopped);
  EXPECT_EQ(flatten(out.batches()), (std::vector<int>{1, 2}));
  EXPECT_EQ(h.context().source_stats().at(0).records, 2);
}

TEST(ReceiverStream, StopUnblocksAStoreWaitingOnAFullQueue) {
  rill::testing::Harness h{rill::Config{}.batch_interval(1s).receiver_queue_capacity(5)};
  auto receiver = std::make_shared<ThreadReceiver>([](ThreadReceiver& r, int) {
    for (int i = 0;; ++i)
      r.store(i);
  });
  auto out = h.collect(h.context().receiver_stream<int>(receiver));
  h.run_batches(1);
  const auto first = static_cast<std::int64_t>(flatten(out.batches()).size());
  ASSERT_TRUE(h.await_records_stored(first + 5, 10s));
  // on_stop joins the thread: it must have left store() with rill::Stopped.
  h.context().stop(rill::StopOptions{.graceful = false, .timeout = 5s});
  EXPECT_EQ(h.context().state(), rill::ContextState::stopped);
  EXPECT_EQ(receiver->stops(), 1);
  EXPECT_EQ(receiver->stopped_exits(), 1);
}

TEST(ReceiverStream, TryStoreTakesWhatFitsWithoutWaitingAndThrowsStoppedAtStop) {
  Signal go;
  bool released = false;
  bool tried = false;       // the eight try_store calls are done
  std::vector<bool> taken;  // written by the receiver's thread before `tried`
  rill::testing::Harness h{rill::Config{}.batch_interval(1s).receiver_queue_capacity(5)};
  auto receiver = std::make_shared<ThreadReceiver>([&](ThreadReceiver& r, int) {
    go.wait_for([&] { return released; });
    for (int i = 0; i < 8; ++i) {
      int item = i;
      taken.push_back(r.try_store(item));
      if (!taken.back()) {
        EXPECT_EQ(item, i) << "a record not taken must be left as it was";
      }
    }
    r.count_skipped(3);
    go.notify([&] { tried = true; });
    r.store(100);  // waits: the queue is full until the next batch
    for (;;) {
      int item = 200;
      (void)r.try_store(item);  // throws rill::Stopped once the context stops
      std::this_thread::sleep_for(1ms);
    }
  });
  auto out = h.collect(h.context().receiver_stream<int>(receiver));
  h.run_batches(1);
  go.notify([&] { released = true; });
  // No batch drains the queue before the eight calls are done.
  ASSERT_TRUE(go.wait_for([&] { return tried; }));
  EXPECT_EQ(taken, (std::vector<bool>{true, true, true, true, true, false, false, false}));
  h.run_batches(1);
  ASSERT_TRUE(h.await_records_stored(6, 10s));
  EXPECT_EQ(out.batches()[1], (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(h.context().source_stats()[0].skipped, 3);
  h.context().stop(rill::StopOptions{.graceful = false, .timeout = 5s});
  EXPECT_EQ(receiver->stopped_exits(), 1);
}

TEST(ReceiverStream, OnStartThatThrowsFailsTheContext) {
  struct Failing final : rill::Receiver<int> {
    void on_start() override { throw std::runtime_error("cannot open the source"); }
    void on_stop() override {}
  };
  rill::testing::Harness h{1s};
  h.collect(h.context().receiver_stream<int>(std::make_shared<Failing>()));
  try {
    h.run_batches(1);
    ADD_FAILURE() << "run_batches should rethrow the receiver's error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "cannot open the source");
  }
  try {
    h.context().await_termination();
    ADD_FAILURE() << "await_termination should rethrow the receiver's error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "cannot open the source");
  }
  EXPECT_EQ(h.context().state(), rill::ContextState::stopped);
  EXPECT_THROW(h.context().start(), rill::IllegalState);
}

TEST(ReceiverStream, NullReceiverIsInvalid) {
  rill::testing::Harness h{1s};
  EXPECT_THROW(h.context().receiver_stream<int>(nullptr), rill::InvalidArgument);
}

TEST(ReceiverStream, StoreFromOnStartItself) {
  class Direct final : public rill::Receiver<int> {
   public:
    void on_start() override { store(std::vector<int>{5, 6, 7}); }
    void on_stop() override {}
  };
  rill::testing::Harness h{1s};
  auto out = h.collect(h.context().receiver_stream<int>(std::make_shared<Direct>()));
  h.run_batches(2);
  EXPECT_EQ(flatten(out.batches()), (std::vector<int>{5, 6, 7}));
  EXPECT_EQ(out.batches().at(0), (std::vector<int>{5, 6, 7}));  // stored before the first tick
}

TEST(ReceiverStream, UnattachedReceiverIsStoppedAndCannotReport) {
  ThreadReceiver receiver([](ThreadReceiver&, int) {});
  EXPECT_TRUE(receiver.is_stopped());
  EXPECT_THROW(receiver.report_error("nowhere to report"), rill::IllegalState);
  EXPECT_THROW(receiver.store(1), rill::IllegalState);
}

TEST(ReceiverStream, BlockLargerThanTheCapacityIsTakenWhole) {
  Signal go;
  bool released = false;
  rill::testing::Harness h{rill::Config{}.batch_interval(1s).receiver_queue_capacity(10)};
  auto receiver = std::make_shared<ThreadReceiver>([&](ThreadReceiver& r, int) {
    go.wait_for([&] { return released; });
    r.store(iota_vector(25));  // more than the capacity: taken once the queue is empty
    r.store(iota_vector(3, 100));
  });
  auto out = h.collect(h.context().receiver_stream<int>(receiver));
  h.run_batches(1);
  go.notify([&] { released = true; });
  ASSERT_TRUE(h.await_records_stored(25, 10s));
  EXPECT_FALSE(h.await_records_stored(26, 100ms)) << "a block went into an over-full queue";
  h.run_batches(1);
  ASSERT_TRUE(h.await_records_stored(28, 10s));
  h.run_batches(1);
  EXPECT_EQ(out.batches(), (std::vector<std::vector<int>>{{}, iota_vector(25), {100, 101, 102}}));
}

TEST(ReceiverStream, QueueIsBoundedInBytesAndARecordLargerThanTheBoundStillPasses) {
  // 4 KiB records (plus sizeof(std::string) each) against a 16 KiB bound: 3 fit, a 4th blocks,
  // although the record bound (262144) is far away.
  const std::string chunk(4096, 'x');
  const std::size_t per_record = chunk.size() + sizeof(std::string);
  Signal go;
  bool released = false;
  rill::testing::Harness h{rill::Config{}.batch_interval(1s).receiver_queue_bytes(16 * 1024)};
  class Strings final : public rill::Receiver<std::string> {
   public:
    explicit Strings(std::function<void(Strings&)> body) : body_(std::move(body)) {}
    ~Strings() override { on_stop(); }
    void on_start() override {
      thread_ = std::thread([this] {
        try {
          body_(*this);
        } catch (const rill::Stopped&) {
        }
      });
    }
    void on_stop() override {
      if (thread_.joinable()) thread_.join();
    }

   private:
    std::function<void(Strings&)> body_;
    std::thread thread_;
  };
  auto receiver = std::make_shared<Strings>([&](Strings& r) {
    go.wait_for([&] { return released; });
    for (int i = 0; i < 8; ++i)
      r.store(chunk);
    // A single record larger than the whole bound enters once the queue is empty.
    r.store(std::string(64 * 1024, 'y'));
    r.store(std::vector<std::string>{chunk, chunk});
  });
  auto out = h.collect(h.context().receiver_stream<std::string>(receiver));
  h.run_batches(1);
  go.notify([&] { released = true; });
  const auto fit = static_cast<std::int64_t>(16 * 1024 / per_record);
  ASSERT_EQ(fit, 3);
  ASSERT_TRUE(h.await_records_stored(fit, 10s));
  EXPECT_FALSE(h.await_records_stored(fit + 1, 100ms)) << "store() did not block on the bytes";
  h.run_batches(1);
  ASSERT_TRUE(h.await_records_stored(2 * fit, 10s));
  EXPECT_FALSE(h.await_records_stored(2 * fit + 1, 100ms));
  h.run_batches(1);
  ASSERT_TRUE(h.await_records_stored(8, 10s));
  EXPECT_FALSE(h.await_records_stored(9, 100ms)) << "the large record entered a non-empty queue";
  h.run_batches(1);
  ASSERT_TRUE(h.await_records_stored(9, 10s));
  EXPECT_FALSE(h.await_records_stored(10, 100ms)) << "a block entered an over-full queue";
  h.run_batches(1);
  ASSERT_TRUE(h.await_records_stored(11, 10s));
  h.run_batches(1);
  const auto batches = out.batches();
  ASSERT_EQ(batches.size(), 6U);
  EXPECT_EQ(batches[1].size(), 3U);
  EXPECT_EQ(batches[2].size(), 3U);
  EXPECT_EQ(batches[3].size(), 2U);
  EXPECT_EQ(batches[4], (std::vector<std::string>{std::string(64 * 1024, 'y')}));
  EXPECT_EQ(batches[5], (std::vector<std::string>{chunk, chunk}));
}

TEST(ReceiverStream, GracefulStopFinishesBufferedRecordsWhenTheClockAdvances) {
  Signal go;
  bool released = false;
  rill::testing::Harness h{1s};
  auto receiver = std::make_shared<ThreadReceiver>([&](ThreadReceiver& r, int) {
    go.wait_for([&] { return released; });
    r.store(std::vector<int>{1, 2, 3});
  });
  auto out = h.collect(h.context().receiver_stream<int>(receiver));
  h.run_batches(1);
  go.notify([&] { released = true; });
  ASSERT_TRUE(h.await_records_stored(3, 10s));
  std::thread stopper([&] { h.context().stop(); });
  h.clock().advance(1s);  // the tick of 2000 seals what was buffered; then stop() returns
  stopper.join();
  EXPECT_EQ(h.context().state(), rill::ContextState::stopped);
  EXPECT_EQ(out.batches(), (std::vector<std::vector<int>>{{}, {1, 2, 3}}));
}

TEST(ReceiverStream, GracefulStopUnderTheManualClockProcessesBufferedRecords) {
  // stop() is graceful: "finish every batch of data already received, then return". Under the
  // harness's manual clock no tick comes unless the test advances it; the stop should still
  // seal what the receiver stored (or return promptly) rather than wait for its timeout and
  // drop the records.
  Signal go;
  bool released = false;
  rill::testing::Harness h{1s};
  auto receiver = std::make_shared<ThreadReceiver>([&](ThreadReceiver& r, int) {
    go.wait_for([&] { return released; });
    r.store(std::vector<int>{1, 2, 3});
  });
  auto out = h.collect(h.context().receiver_stream<int>(receiver));
  h.run_batches(1);
  go.notify([&] { released = true; });
  ASSERT_TRUE(h.await_records_stored(3, 10s));
  const auto started = std::chrono::steady_clock::now();
  h.context().stop(rill::StopOptions{.graceful = true, .timeout = 1s});
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(h.context().state(), rill::ContextState::stopped);
  EXPECT_EQ(flatten(out.batches()), (std::vector<int>{1, 2, 3})) << "buffered records dropped";
  EXPECT_LT(took, 1s) << "the graceful stop waited for its timeout";
}

// On the system clock, a batch holds what was received before its time, even while an earlier
// batch runs long: the next batches are sealed about on time (by the scheduler thread, which the
// grid timer wakes at their time while the batch thread is busy; by the idle batch thread itself
// otherwise), not when the slow batch ends. No record is lost or counted twice. The queue has
// room for every batch sealed meanwhile: back-pressure (which holds the ticks once
// max_pending_batches batches wait) is tested in tests/core/back_pressure_test.cpp.
TEST(ReceiverStream, ASlowBatchDoesNotDelayTheSealingOfTheNextOnes) {
  using Clock = std::chrono::system_clock;
  const auto base = Clock::now();
  const auto ms_since_base = [base] {
    return static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - base).count());
  };
  std::mutex mutex;
  std::vector<std::pair<rill::Time, std::vector<int>>> batches;  // batch time, its records
  std::atomic<int> stored{0};
  auto receiver = std::make_shared<ThreadReceiver>([&](ThreadReceiver& r, int) {
    for (;;) {  // a record every millisecond: the time it was stored (ms since base)
      r.store(ms_since_base());
      ++stored;
      std::this_thread::sleep_for(1ms);
    }
  });
  rill::StreamingContext ctx{
      rill::Config{}.batch_interval(50ms).parallelism(1).max_pending_batches(32)};
  ctx.receiver_stream<int>(receiver).foreach_batch([&](const rill::Batch<int>& b, rill::Time t) {
    std::size_t n;
    {
      std::lock_guard lock(mutex);
      batches.emplace_back(t, b.collect());
      n = batches.size();
    }
    if (n == 3) std::this_thread::sleep_for(600ms);  // the slow batch
  });
  ctx.start();
  for (;;) {
    std::this_thread::sleep_for(20ms);
    std::lock_guard lock(mutex);
    if (batches.size() >= 14) break;
  }
  ctx.stop(rill::StopOptions{.graceful = true, .timeout = rill::Duration{10'000}});

  std::lock_guard lock(mutex);
  std::vector<int> all;
  for (std::size_t i = 0; i < batches.size(); ++i) {
    const auto& [t, records] = batches[i];
    const auto batch_ms = static_cast<int>(
        t.milliseconds() -
        std::chrono::duration_cast<std::chrono::milliseconds>(base.time_since_epoch()).count());
    if (!records.empty()) {
      // Sealed at most 200 ms after its time (waiting for the slow batch would be 600 ms).
      EXPECT_LT(*std::max_element(records.begin(), records.end()), batch_ms + 200)
          << "batch " << i << " at " << batch_ms << " ms";
    }
    all.insert(all.end(), records.begin(), records.end());
  }
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_EQ(static_cast<int>(all.size()), stored.load()) << "records lost or counted twice";
}

TEST(ReceiverStream, BackPressureBoundsTheBufferAndLosesNothing) {
  constexpr std::size_t kCapacity = 1000;
  constexpr int kTotal = 10 * static_cast<int>(kCapacity);
  const auto cap = static_cast<std::int64_t>(kCapacity);

  // Declared before the harness: the receiver's thread and the batches use them until it stops.
  std::atomic<std::int64_t> produced{0};
  Signal gate;  // the slow consumer waits here while the test holds it closed
  bool open = true;
  std::vector<rill::Time> entered;
  std::vector<std::vector<int>> batches;
  const auto collected = [&] {
    std::lock_guard lock(gate.mutex());
    return batches;
  };

  rill::testing::Harness h{rill::Config{}
                               .batch_interval(1s)
                               .parallelism(2)
                               .receiver_queue_capacity(kCapacity)
                               .max_pending_batches(1)};

  // A fast producer: stores kTotal consecutive ints one by one, as fast as store() lets it.
  auto receiver = std::make_shared<ThreadReceiver>([&](ThreadReceiver& r, int) {
    for (int i = 0; i < kTotal; ++i) {
      r.store(i);
      ++produced;
    }
  });
  h.context().receiver_stream<int>(receiver).foreach_batch(
      [&](const rill::Batch<int>& b, rill::Time t) {
        auto records = b.collect();
        gate.notify([&] { entered.push_back(t); });
        gate.wait_for([&] { return open; }, 30s);
        std::lock_guard lock(gate.mutex());
        batches.push_back(std::move(records));
      });

  // What each tick sealed.
  struct Submitted final : rill::StreamingListener {
    Signal signal;
    std::vector<rill::BatchInfo> infos;
    void on_batch_submitted(const rill::BatchInfo& info) override {
      signal.notify([&] { infos.push_back(info); });
    }
    std::optional<std::int64_t> records_of(rill::Time t, std::chrono::milliseconds timeout = 10s) {
      std::optional<std::int64_t> out;
      signal.wait_for(
          [&] {
            for (const auto& i : infos) {
              if (i.batch_time == t) out = i.num_records;
            }
            return out.has_value();
          },
          timeout);
      return out;
    }
  };
  auto submitted = std::make_shared<Submitted>();
  h.context().add_listener(submitted);

  h.run_batches(1);  // batch 1000: whatever was stored before its tick
  const auto k1 = static_cast<std::int64_t>(collected().at(0).size());
  EXPECT_LE(k1, cap);

  // The queue fills up and store() blocks: nothing beyond the capacity is buffered.
  ASSERT_TRUE(h.await_records_stored(k1 + cap, 10s));
  EXPECT_FALSE(h.await_records_stored(k1 + cap + 1, 100ms)) << "store() did not block";
  EXPECT_LE(produced.load(), k1 + cap);

  // Batch 2000 takes the full queue and blocks in foreach_batch.
  gate.notify([&] { open = false; });
  h.clock().set_time(rill::Time{2000});
  ASSERT_TRUE(gate.wait_for([&] { return entered.size() == 2; }));
  EXPECT_EQ(submitted->records_of(rill::Time{2000}), cap);

  // While 2000 runs nothing waits, so the tick of 3000 takes the refilled queue.
  ASSERT_TRUE(h.await_records_stored(k1 + 2 * cap, 10s));
  h.clock().set_time(rill::Time{3000});
  EXPECT_EQ(submitted->records_of(rill::Time{3000}), cap);

  // Now 3000 waits (max_pending_batches 1): the tick of 4000 is held, not sealed, and store()
  // stays blocked with the capacity buffered.
  ASSERT_TRUE(h.await_records_stored(k1 + 3 * cap, 10s));
  h.clock().set_time(rill::Time{4000});
  EXPECT_EQ(submitted->records_of(rill::Time{4000}, 100ms), std::nullopt)
      << "the tick was not held";
  EXPECT_FALSE(h.await_records_stored(k1 + 3 * cap + 1, 100ms)) << "store() did not block";
  EXPECT_LE(produced.load(), k1 + 3 * cap);

  // Once 2000 completes and 3000 leaves the queue, the held tick of 4000 takes the full queue.
  gate.notify([&] { open = true; });
  h.run_batches(3);  // 2000, 3000, 4000
  EXPECT_EQ(submitted->records_of(rill::Time{4000}), cap);
  for (int i = 0; i < 100 && static_cast<int>(flatten(collected()).size()) < kTotal; ++i) {
    // The next batch takes a full queue, or the rest: the producer thread refills the queue
    // while the batches run, and batches are far quicker than a loaded machine's time slice.
    const auto taken = static_cast<std::int64_t>(flatten(collected()).size());
    ASSERT_TRUE(h.await_records_stored(std::min<std::int64_t>(kTotal, taken + cap), 10s));
    h.run_batches(1);
  }

  const auto all_batches = collected();
  ASSERT_GE(all_batches.size(), 4U);
  for (std::size_t i = 0; i < all_batches.size(); ++i)
    EXPECT_LE(all_batches[i].size(), kCapacity) << "batch " << i;
  EXPECT_EQ(all_batches[1].size(), kCapacity);
  EXPECT_EQ(all_batches[2].size(), kCapacity);
  EXPECT_EQ(all_batches[3].size(), kCapacity);
  EXPECT_EQ(flatten(all_batches), iota_vector(kTotal));  // nothing lost or repeated, in order
  // The producer counts a record after its store() returned: the last count may come a moment
  // after the batch that took the record.
  rill_test::eventually([&] { return produced.load() >= kTotal; });
  EXPECT_EQ(produced.load(), kTotal);
  EXPECT_EQ(h.context().source_stats().at(0).records, kTotal);
}
