// Back-pressure (issue 12, item 1) for every kind of source: while max_pending_batches batches
// wait, a due tick is held instead of sealing an empty batch; it is sealed (late) as soon as a
// batch leaves the queue and takes what the source holds; every grid time is still run once, in
// order; the listener shows how late (BatchInfo::held_back); a graceful stop seals and runs every
// grid time up to the stop, with what the sources hold.
//
// The slow output blocks on a gate the test opens; the manual clock does not move while the gate
// is closed, so which ticks are held, and by how much, is exact.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

#include "support/signal.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using rill::Time;

using rill_test::Signal;

/// Where the slow output waits while the test holds the gate closed. Also collects what each
/// batch held, in the order the batches ran.
template <class T>
class Gate {
 public:
  /// The output: records batch t and its records, then waits while the gate is closed.
  void pass(Time t, std::vector<T> records) {
    signal_.notify([&] {
      times_.push_back(t);
      batches_.push_back(std::move(records));
    });
    signal_.wait_for([&] { return open_; }, 30s);
  }
  void close() {
    signal_.notify([&] { open_ = false; });
  }
  void open() {
    signal_.notify([&] { open_ = true; });
  }
  /// Waits until batch t entered the output.
  bool await_entered(Time t) {
    return signal_.wait_for(
        [&] { return std::find(times_.begin(), times_.end(), t) != times_.end(); });
  }
  [[nodiscard]] std::vector<Time> times() {
    std::lock_guard lock(signal_.mutex());
    return times_;
  }
  [[nodiscard]] std::vector<T> records() {
    std::lock_guard lock(signal_.mutex());
    std::vector<T> out;
    for (const auto& b : batches_)
      out.insert(out.end(), b.begin(), b.end());
    return out;
  }

 private:
  Signal signal_;
  bool open_ = true;
  std::vector<Time> times_;
  std::vector<std::vector<T>> batches_;
};

/// Listener events in bus order, and the most batches ever in flight (submitted, not yet
/// completed): the pending list plus the running batch.
class FlowRecorder final : public rill::StreamingListener {
 public:
  void on_batch_submitted(const rill::BatchInfo& info) override {
    signal_.notify([&] {
      submitted_.push_back(info);
      max_in_flight_ = std::max(max_in_flight_, submitted_.size() - completed_.size());
    });
  }
  void on_batch_completed(const rill::BatchInfo& info) override {
    signal_.notify([&] { completed_.push_back(info); });
  }

  bool await_submitted(std::size_t n, std::chrono::milliseconds timeout = 10s) {
    return signal_.wait_for([&] { return submitted_.size() >= n; }, timeout);
  }
  bool await_completed(Time t, std::chrono::milliseconds timeout = 10s) {
    return signal_.wait_for(
        [&] { return !completed_.empty() && completed_.back().batch_time >= t; }, timeout);
  }
  [[nodiscard]] std::vector<rill::BatchInfo> submitted() {
    std::lock_guard lock(signal_.mutex());
    return submitted_;
  }
  [[nodiscard]] std::vector<rill::BatchInfo> completed() {
    std::lock_guard lock(signal_.mutex());
    return completed_;
  }
  [[nodiscard]] std::size_t max_in_flight() {
    std::lock_guard lock(signal_.mutex());
    return max_in_flight_;
  }
  /// The completed event of batch t.
  [[nodiscard]] std::optional<rill::BatchInfo> completed_at(Time t) {
    std::lock_guard lock(signal_.mutex());
    for (const auto& info : completed_) {
      if (info.batch_time == t) return info;
    }
    return std::nullopt;
  }

 private:
  Signal signal_;
  std::vector<rill::BatchInfo> submitted_;
  std::vector<rill::BatchInfo> completed_;
  std::size_t max_in_flight_ = 0;
};

/// The batch times first, first + step, ..., last.
std::vector<Time> grid(Time first, Time last, rill::Duration step) {
  std::vector<Time> out;
  for (Time t = first; t <= last; t += step)
    out.push_back(t);
  return out;
}

std::vector<Time> times_of(const std::vector<rill::BatchInfo>& infos) {
  std::vector<Time> out;
  for (const auto& i : infos)
    out.push_back(i.batch_time);
  return out;
}

std::vector<std::int64_t> iota_vector(std::int64_t n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), std::int64_t{0});
  return v;
}

/// A receiver running `body` on its own thread; rill::Stopped ends it.
template <class T>
class ThreadReceiver final : public rill::Receiver<T> {
 public:
  using Body = std::function<void(ThreadReceiver&)>;
  explicit ThreadReceiver(Body body) : body_(std::move(body)) {}
  ~ThreadReceiver() override { join(); }
  void on_start() override {
    thread_ = std::thread([this] {
      try {
        body_(*this);
      } catch (const rill::Stopped&) {
      }
    });
  }
  void on_stop() override {
    join();
    stopped_.notify([&] { stops_ = true; });
  }
  /// Waits until on_stop() ran: a graceful stop has begun.
  bool await_stopped() {
    return stopped_.wait_for([&] { return stops_; });
  }

 private:
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  Body body_;
  std::thread thread_;
  Signal stopped_;
  bool stops_ = false;
};

/// A receiver that stores nothing: its on_stop() tells the test that a graceful stop began (the
/// scheduler thread stops the receivers first).
std::shared_ptr<ThreadReceiver<int>> stop_probe() {
  return std::make_shared<ThreadReceiver<int>>([](ThreadReceiver<int>&) {});
}

/// A fast producer: stores 0, 1, 2... one by one as fast as store() lets it, up to `limit`;
/// `stored` counts the stores that returned.
std::shared_ptr<ThreadReceiver<std::int64_t>> fast_producer(std::atomic<std::int64_t>& stored,
                                                            std::int64_t limit) {
  return std::make_shared<ThreadReceiver<std::int64_t>>(
      [&stored, limit](ThreadReceiver<std::int64_t>& r) {
        for (std::int64_t i = 0; i < limit && !r.is_stopped(); ++i) {
          r.store(i);
          ++stored;
        }
      });
}

}  // namespace

// queue_stream: ticks held while the queue is full are not sealed empty; every grid time runs
// once, in order, each with its queued vector.
TEST(BackPressure, QueueStreamHoldsTicksAndRunsEveryGridTimeOnceInOrder) {
  constexpr std::size_t kMaxPending = 2;
  rill::testing::Harness h{
      rill::Config{}.batch_interval(100ms).parallelism(1).max_pending_batches(kMaxPending)};
  std::vector<std::vector<std::int64_t>> queued;
  for (std::int64_t i = 0; i < 40; ++i)
    queued.push_back({i});
  Gate<std::int64_t> gate;
  h.input(queued).foreach_batch(
      [&](const rill::Batch<std::int64_t>& b, Time t) { gate.pass(t, b.collect()); });
  auto flow = std::make_shared<FlowRecorder>();
  h.context().add_listener(flow);

  gate.close();
  h.context().start();
  const Time first = h.context().zero_time() + 100ms;
  h.clock().set_time(first);
  ASSERT_TRUE(gate.await_entered(first));

  // 29 more grid times are due; two batches may wait, the third tick is held.
  const Time now = first + 2900ms;
  h.clock().set_time(now);
  ASSERT_TRUE(flow->await_submitted(1 + kMaxPending));
  EXPECT_FALSE(flow->await_submitted(2 + kMaxPending, 200ms)) << "a tick was not held";
  EXPECT_EQ(flow->max_in_flight(), kMaxPending + 1);

  gate.open();
  ASSERT_TRUE(flow->await_completed(now));
  const auto completed = flow->completed();
  EXPECT_EQ(times_of(completed), grid(first, now, 100ms));
  EXPECT_EQ(gate.records(), iota_vector(30));
  EXPECT_EQ(flow->max_in_flight(), kMaxPending + 1) << "more batches waited than allowed";
  // The first three were sealed without back-pressure; each later one as soon as a batch left
  // the queue, with the clock still at `now`.
  for (const auto& info : completed) {
    const rill::Duration expected =
        info.batch_time <= first + 200ms ? rill::Duration{0} : now - info.batch_time;
    EXPECT_EQ(info.held_back, expected) << info.batch_time;
    EXPECT_EQ(info.num_records, 1) << info.batch_time;
  }
  for (const auto& info : flow->submitted()) {
    EXPECT_EQ(info.held_back, flow->completed_at(info.batch_time)->held_back);
  }
}

// receiver_stream with a fast producer: the held tick takes the full queue as soon as a batch
// completes; input keeps flowing; nothing is lost or repeated; a graceful stop seals what the
// queue holds.
TEST(BackPressure, FastReceiverIsDrainedAgainAsSoonAsABatchCompletes) {
  constexpr std::int64_t kCapacity = 100;
  constexpr std::int64_t kTotal = 3000;
  std::atomic<std::int64_t> stored{0};
  auto producer = fast_producer(stored, kTotal);
  rill::testing::Harness h{rill::Config{}
                               .batch_interval(100ms)
                               .parallelism(1)
                               .receiver_queue_capacity(kCapacity)
                               .max_pending_batches(1)};
  Gate<std::int64_t> gate;
  h.context().receiver_stream<std::int64_t>(producer).foreach_batch(
      [&](const rill::Batch<std::int64_t>& b, Time t) { gate.pass(t, b.collect()); });
  auto flow = std::make_shared<FlowRecorder>();
  h.context().add_listener(flow);

  gate.close();
  h.context().start();
  const Time first = h.context().zero_time() + 100ms;
  h.clock().set_time(first);
  ASSERT_TRUE(gate.await_entered(first));
  ASSERT_TRUE(flow->await_submitted(1));  // listeners hear of it on their own thread
  const std::int64_t k1 = flow->submitted().at(0).num_records;
  ASSERT_TRUE(h.await_records_stored(k1 + kCapacity));  // the queue is full: store() blocks

  // The clock runs 4.9 s ahead: the next batch takes the full queue, the one after is held.
  const Time now = first + 4900ms;
  h.clock().set_time(now);
  ASSERT_TRUE(flow->await_submitted(2));
  EXPECT_EQ(flow->submitted().at(1).num_records, kCapacity);
  ASSERT_TRUE(h.await_records_stored(k1 + 2 * kCapacity));  // refilled; store() blocks again
  EXPECT_FALSE(flow->await_submitted(3, 200ms)) << "a tick was not held";
  EXPECT_FALSE(h.await_records_stored(k1 + 2 * kCapacity + 1, 100ms)) << "store() did not block";

  // Once batch `first` completes, the held tick takes the full queue, and the ticks up to `now`
  // follow one by one as batches complete.
  gate.open();
  ASSERT_TRUE(flow->await_completed(now));
  const auto held = flow->completed_at(first + 200ms);
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(held->num_records, kCapacity) << "the held tick did not take the buffered input";
  EXPECT_EQ(held->held_back, now - (first + 200ms));
  EXPECT_EQ(times_of(flow->completed()), grid(first, now, 100ms));
  // Its progress record: back-pressure held input back, the receiver's queue was full and
  // store() waited for room (checked above: it stored nothing more for 100 ms).
  EXPECT_TRUE(held->back_pressure);
  ASSERT_EQ(held->sources.size(), 1U);
  ASSERT_TRUE(held->sources[0].queue.has_value());
  EXPECT_EQ(held->sources[0].queue->records, kCapacity);
  EXPECT_EQ(held->sources[0].queue->capacity_records, kCapacity);
  EXPECT_TRUE(held->sources[0].queue->blocked);

  // The producer goes on: each next batch takes a full queue (or the rest).
  Time t = now;
  for (int i = 0; i < 100 && static_cast<std::int64_t>(gate.records().size()) < kTotal; ++i) {
    const auto taken = static_cast<std::int64_t>(gate.records().size());
    ASSERT_TRUE(h.await_records_stored(std::min(kTotal, taken + kCapacity)));
    t += 100ms;
    rill::testing::run_until(h.context(), h.clock(), t);
  }
  EXPECT_EQ(gate.records(), iota_vector(kTotal)) << "records lost, repeated or reordered";
  EXPECT_EQ(flow->max_in_flight(), 2U) << "more batches waited than max_pending_batches";
  h.context().stop(rill::StopOptions{.graceful = true, .timeout = 30s});
  EXPECT_EQ(stored.load(), kTotal);
  EXPECT_EQ(h.context().source_stats().at(0).records, kTotal);
}

// A graceful stop while ticks are held: it seals every grid time up to the stop, the receiver's
// buffered records included, and stops the producer; what store() accepted is processed once.
TEST(BackPressure, GracefulStopWhileTicksAreHeldProcessesWhatTheReceiverHolds) {
  constexpr std::int64_t kCapacity = 50;
  std::atomic<std::int64_t> stored{0};
  auto producer = fast_producer(stored, std::int64_t{1} << 40);
  rill::testing::Harness h{rill::Config{}
                               .batch_interval(100ms)
                               .parallelism(1)
                               .receiver_queue_capacity(kCapacity)
                               .max_pending_batches(1)};
  Gate<std::int64_t> gate;
  h.context().receiver_stream<std::int64_t>(producer).foreach_batch(
      [&](const rill::Batch<std::int64_t>& b, Time t) { gate.pass(t, b.collect()); });
  auto flow = std::make_shared<FlowRecorder>();
  h.context().add_listener(flow);

  gate.close();
  h.context().start();
  const Time first = h.context().zero_time() + 100ms;
  h.clock().set_time(first);
  ASSERT_TRUE(gate.await_entered(first));
  const Time now = first + 1000ms;
  h.clock().set_time(now);
  ASSERT_TRUE(flow->await_submitted(2));
  EXPECT_FALSE(flow->await_submitted(3, 200ms)) << "a tick was not held";

  std::thread stopper(
      [&] { h.context().stop(rill::StopOptions{.graceful = true, .timeout = 30s}); });
  ASSERT_TRUE(producer->await_stopped());  // the stop began; the ticks up to `now` wait
  gate.open();
  stopper.join();

  EXPECT_EQ(h.context().state(), rill::ContextState::stopped);
  // The queue the stop found was sealed by the held tick: no batch after `now` was needed.
  EXPECT_EQ(times_of(flow->completed()), grid(first, now, 100ms))
      << "a grid time up to the stop was not run";
  EXPECT_EQ(gate.records(), iota_vector(stored.load())) << "stored records lost or repeated";
  EXPECT_EQ(flow->max_in_flight(), 2U);
}

// socket_text_stream fed by a fast local server: the held tick takes the lines the receiver
// buffered; every line stored is processed once, in order.
TEST(BackPressure, SocketStreamKeepsFlowingAndLosesNoStoredLine) {
  // A server on 127.0.0.1 sending "0\n", "1\n"... as fast as the socket takes them.
  const int listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listen_fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listen_fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listen_fd, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::uint16_t port = ntohs(addr.sin_port);
  std::atomic<bool> quit{false};
  std::thread server([&] {
    pollfd pfd{listen_fd, POLLIN, 0};
    if (::poll(&pfd, 1, 10'000) != 1) return;
    const int fd = ::accept(listen_fd, nullptr, nullptr);
    if (fd < 0) return;
    const timeval timeout{0, 50'000};  // send() returns every 50 ms to check `quit`
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    std::string chunk;
    for (std::int64_t i = 0; !quit.load();) {
      if (chunk.empty()) {
        for (int k = 0; k < 1000; ++k, ++i)
          chunk += std::to_string(i) + "\n";
      }
      const ssize_t n = ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
      if (n > 0) {
        chunk.erase(0, static_cast<std::size_t>(n));
      } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        break;  // the receiver closed the connection
      }
    }
    ::close(fd);
  });

  constexpr std::int64_t kCapacity = 1000;
  rill::testing::Harness h{rill::Config{}
                               .batch_interval(100ms)
                               .parallelism(1)
                               .receiver_queue_capacity(kCapacity)
                               .max_pending_batches(1)};
  Gate<std::string> gate;
  h.context()
      .socket_text_stream(
          "127.0.0.1", port,
          rill::SocketOptions{.reconnect_backoff = 20ms, .max_reconnect_backoff = 50ms})
      .foreach_batch([&](const rill::Batch<std::string>& b, Time t) { gate.pass(t, b.collect()); });
  auto flow = std::make_shared<FlowRecorder>();
  h.context().add_listener(flow);

  gate.close();
  h.context().start();
  ASSERT_TRUE(h.await_records_stored(1));
  const Time first = h.context().zero_time() + 100ms;
  h.clock().set_time(first);
  ASSERT_TRUE(gate.await_entered(first));
  const Time now = first + 1900ms;
  h.clock().set_time(now);
  ASSERT_TRUE(flow->await_submitted(2));
  const auto sealed = flow->submitted().at(0).num_records + flow->submitted().at(1).num_records;
  ASSERT_TRUE(h.await_records_stored(sealed + 1));  // the receiver buffered more meanwhile
  EXPECT_FALSE(flow->await_submitted(3, 200ms)) << "a tick was not held";

  gate.open();
  ASSERT_TRUE(flow->await_completed(now));
  const auto held = flow->completed_at(first + 200ms);
  ASSERT_TRUE(held.has_value());
  EXPECT_GT(held->num_records, 0) << "the held tick did not take the buffered lines";
  EXPECT_EQ(held->held_back, now - (first + 200ms));
  // The lines keep coming: ten more batches each take some.
  for (Time t = now + 100ms; t <= now + 1000ms; t += 100ms) {
    const auto before = static_cast<std::int64_t>(gate.records().size());
    ASSERT_TRUE(h.await_records_stored(before + 1));
    rill::testing::run_until(h.context(), h.clock(), t);
    EXPECT_GT(flow->completed_at(t)->num_records, 0) << t;
  }
  h.context().stop(rill::StopOptions{.graceful = true, .timeout = 30s});
  quit = true;
  server.join();
  ::close(listen_fd);

  EXPECT_EQ(times_of(flow->completed()).front(), first);
  const auto lines = gate.records();
  EXPECT_EQ(static_cast<std::int64_t>(lines.size()), h.context().source_stats().at(0).records);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i] != std::to_string(i)) {
      ADD_FAILURE() << "line " << i << " is '" << lines[i] << "': lost, repeated or reordered";
      break;
    }
  }
  EXPECT_EQ(flow->max_in_flight(), 2U);
}

// text_file_stream while the clock runs ahead and the output is slow: files moved in while the
// ticks are held, even after a graceful stop began, are read by the held ticks; every file's
// lines are counted once.
TEST(BackPressure, FilesAddedWhileTicksAreHeldAreReadBeforeAGracefulStopEnds) {
  static std::atomic<int> counter{0};
  const fs::path root =
      fs::temp_directory_path() /
      ("rill-back-pressure-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(root);
  fs::create_directories(root / "watched");
  fs::create_directories(root / "staging");
  std::vector<std::string> expected;
  const auto move_in = [&](const std::string& name, int lines) {
    {
      std::ofstream out(root / "staging" / name);
      for (int i = 0; i < lines; ++i) {
        const std::string line = name + ":" + std::to_string(i);
        out << line << "\n";
        expected.push_back(line);
      }
    }
    fs::rename(root / "staging" / name, root / "watched" / name);
  };

  rill::testing::Harness h{
      rill::Config{}.batch_interval(100ms).parallelism(1).max_pending_batches(1)};
  Gate<std::string> gate;
  h.context()
      .text_file_stream(root / "watched")
      .foreach_batch([&](const rill::Batch<std::string>& b, Time t) { gate.pass(t, b.collect()); });
  auto probe = stop_probe();
  h.context().receiver_stream<int>(probe).foreach_batch([](const rill::Batch<int>&, Time) {});
  auto flow = std::make_shared<FlowRecorder>();
  h.context().add_listener(flow);

  gate.close();
  h.context().start();
  const Time first = h.context().zero_time() + 100ms;
  move_in("a.txt", 3);
  h.clock().set_time(first);
  ASSERT_TRUE(gate.await_entered(first));

  move_in("b.txt", 4);
  const Time now = first + 2900ms;
  h.clock().set_time(now);  // the tick after `first` reads b.txt; the next one is held
  ASSERT_TRUE(flow->await_submitted(2));
  EXPECT_EQ(flow->submitted().at(1).num_records, 4);
  EXPECT_FALSE(flow->await_submitted(3, 200ms)) << "a tick was not held";
  move_in("c.txt", 5);
  move_in("d.txt", 6);

  std::thread stopper(
      [&] { h.context().stop(rill::StopOptions{.graceful = true, .timeout = 30s}); });
  ASSERT_TRUE(probe->await_stopped());  // the graceful stop began while the ticks are held
  move_in("e.txt", 7);
  gate.open();
  stopper.join();

  EXPECT_EQ(h.context().state(), rill::ContextState::stopped);
  std::vector<std::string> lines = gate.records();
  EXPECT_EQ(lines, expected) << "a file was not read, or read twice";
  EXPECT_EQ(h.context().source_stats().at(0).records, static_cast<std::int64_t>(expected.size()));
  EXPECT_EQ(times_of(flow->completed()), grid(first, now, 100ms))
      << "every grid time up to the stop runs once, in order";
  const auto held = flow->completed_at(first + 200ms);
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(held->num_records, 5 + 6 + 7);
  EXPECT_EQ(held->held_back, now - (first + 200ms));
  EXPECT_EQ(flow->max_in_flight(), 2U);
  std::error_code ec;
  fs::remove_all(root, ec);
}

// rate_stream: its rows are a function of the batch time, so held ticks only make the batches
// late; a graceful stop while ticks are held runs every grid time up to the stop.
TEST(BackPressure, RateStreamRunsEveryGridTimeUpToAGracefulStop) {
  rill::testing::Harness h{
      rill::Config{}.batch_interval(100ms).parallelism(1).max_pending_batches(1)};
  Gate<std::int64_t> gate;
  h.context()
      .rate_stream(rill::RateOptions{.rows_per_second = 100})
      .map([](const rill::RateRow& r) { return r.value; })
      .foreach_batch(
          [&](const rill::Batch<std::int64_t>& b, Time t) { gate.pass(t, b.collect()); });
  auto probe = stop_probe();
  h.context().receiver_stream<int>(probe).foreach_batch([](const rill::Batch<int>&, Time) {});
  auto flow = std::make_shared<FlowRecorder>();
  h.context().add_listener(flow);

  gate.close();
  h.context().start();
  const Time first = h.context().zero_time() + 100ms;
  h.clock().set_time(first);
  ASSERT_TRUE(gate.await_entered(first));
  const Time now = first + 1900ms;
  h.clock().set_time(now);
  ASSERT_TRUE(flow->await_submitted(2));
  EXPECT_FALSE(flow->await_submitted(3, 200ms)) << "a tick was not held";

  std::thread stopper(
      [&] { h.context().stop(rill::StopOptions{.graceful = true, .timeout = 30s}); });
  ASSERT_TRUE(probe->await_stopped());
  gate.open();
  stopper.join();

  EXPECT_EQ(times_of(flow->completed()), grid(first, now, 100ms));
  EXPECT_EQ(gate.records(), iota_vector(200)) << "10 rows per batch, 20 batches";
  for (const auto& info : flow->completed()) {
    EXPECT_EQ(info.num_records, 10) << info.batch_time;
    const rill::Duration expected =
        info.batch_time <= first + 100ms ? rill::Duration{0} : now - info.batch_time;
    EXPECT_EQ(info.held_back, expected) << info.batch_time;
  }
  EXPECT_EQ(flow->max_in_flight(), 2U);
}

// The scenario on the system clock, shortened: 10 ms batches, an output that costs
// 40 ms, a producer faster than both. The batches keep taking records (before, after the first
// ones every batch was sealed empty), the waiting batches stay within the limit, the batch times
// fall behind the clock (held_back), and a graceful stop processes every record stored.
TEST(BackPressure, UnderTheSystemClockASlowOutputDoesNotStarveAFastReceiver) {
  constexpr std::size_t kMaxPending = 2;
  std::atomic<std::int64_t> stored{0};
  auto producer = fast_producer(stored, std::int64_t{1} << 40);
  rill::StreamingContext ctx{rill::Config{}
                                 .batch_interval(10ms)
                                 .parallelism(1)
                                 .receiver_queue_capacity(50)
                                 .max_pending_batches(kMaxPending)};
  std::atomic<bool> slow{true};
  std::mutex mutex;
  std::vector<std::int64_t> processed;
  ctx.receiver_stream<std::int64_t>(producer).foreach_batch(
      [&](const rill::Batch<std::int64_t>& b, Time) {
        auto records = b.collect();
        {
          std::lock_guard lock(mutex);
          processed.insert(processed.end(), records.begin(), records.end());
        }
        if (slow.load()) std::this_thread::sleep_for(40ms);  // the output's cost
      });
  auto flow = std::make_shared<FlowRecorder>();
  ctx.add_listener(flow);
  ctx.start();
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (flow->completed().size() < 16 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  slow = false;
  const auto overloaded = flow->completed();
  ctx.stop(rill::StopOptions{.graceful = true, .timeout = 30s});

  ASSERT_GE(overloaded.size(), 16U);
  std::size_t with_records = 0;
  for (std::size_t i = kMaxPending + 1; i < overloaded.size(); ++i) {
    if (overloaded[i].num_records > 0) ++with_records;
  }
  EXPECT_GE(with_records, (overloaded.size() - kMaxPending - 1) / 2)
      << "the receiver starved while the output was slow";
  EXPECT_GE(overloaded.back().held_back, 50ms) << "the batch times did not fall behind";
  EXPECT_LE(flow->max_in_flight(), kMaxPending + 1) << "more batches waited than allowed";
  const auto completed = flow->completed();
  for (std::size_t i = 1; i < completed.size(); ++i)
    EXPECT_EQ(completed[i].batch_time - completed[i - 1].batch_time, 10ms) << "a grid time lost";
  std::lock_guard lock(mutex);
  EXPECT_EQ(processed, iota_vector(stored.load())) << "stored records lost or repeated";
}
