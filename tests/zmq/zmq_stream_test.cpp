// Integration tests of rill::zmq::stream against real ZeroMQ peers: XPUB and PUSH sockets on
// 127.0.0.1 (a port the kernel picks) and on inproc:// in a context shared with the stream.
// An XPUB peer receives the subscriber's subscriptions, so a test sends only once the stream
// has subscribed: no message is lost to ZeroMQ's slow-joiner window, and the counts are exact.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <rill/testing.hpp>
#include <rill/zmq.hpp>
#include <zmq.hpp>

#include "support/eventually.hpp"
#include "support/signal.hpp"

using namespace std::chrono_literals;

// ThreadSanitizer cannot see libzmq's synchronization: Debian's libzmq is not instrumented, and
// its lock-free pipes hand memory between the sending thread and its I/O thread through atomics
// in that uninstrumented code (TSan reports the I/O thread's free() of a chunk the sender
// allocated, every stack frame inside libzmq). Reports from within libzmq are suppressed; rill's
// code stays checked. Read by ThreadSanitizer at start-up; unused in other builds.
extern "C" const char* __tsan_default_suppressions() {
  return "race:libzmq.so\n";
}

namespace {

using Lines = std::vector<std::string>;

Lines flatten(const std::vector<Lines>& batches) {
  Lines out;
  for (const auto& b : batches)
    out.insert(out.end(), b.begin(), b.end());
  return out;
}

Lines numbered(int from, int to, const std::string& prefix = "m") {
  Lines out;
  for (int i = from; i < to; ++i)
    out.push_back(prefix + std::to_string(i));
  return out;
}

using rill_test::eventually;

/// The endpoint a socket bound to (after `tcp://127.0.0.1:*` or port 0).
std::string last_endpoint(zmq::socket_t& socket) {
  return socket.get(zmq::sockopt::last_endpoint);
}

/// A tcp:// endpoint on 127.0.0.1 that was free a moment ago: bound, read, closed.
std::string free_tcp_endpoint(zmq::context_t& context) {
  zmq::socket_t probe(context, zmq::socket_type::pub);
  probe.set(zmq::sockopt::linger, 0);
  probe.bind("tcp://127.0.0.1:*");
  return last_endpoint(probe);
}

/// A publisher for the tests: an XPUB socket, which also receives the subscriptions (a byte 1
/// then the topic; each subscriber's, verbose), with no send high-water mark, so that ZeroMQ
/// itself never drops.
class Publisher {
 public:
  explicit Publisher(zmq::context_t& context, const std::string& endpoint = "tcp://127.0.0.1:*")
      : socket_(context, zmq::socket_type::xpub) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::sndhwm, 0);
    socket_.set(zmq::sockopt::xpub_verbose, 1);  // every subscription, also repeated ones
    socket_.set(zmq::sockopt::rcvtimeo, 10000);
    socket_.bind(endpoint);
    endpoint_ = last_endpoint(socket_);
  }

  [[nodiscard]] const std::string& endpoint() const { return endpoint_; }

  /// Waits for `n` subscriptions; returns their topics, in arrival order.
  Lines await_subscriptions(std::size_t n) {
    Lines topics;
    while (topics.size() < n) {
      zmq::message_t message;
      if (!socket_.recv(message)) throw std::runtime_error("no subscription within 10 s");
      const auto bytes = message.to_string();
      if (!bytes.empty() && bytes[0] == 1) topics.push_back(bytes.substr(1));
    }
    return topics;
  }

  void send(const std::string& message) {
    (void)socket_.send(zmq::buffer(message), zmq::send_flags::none);
  }
  void send(const Lines& messages) {
    for (const auto& m : messages)
      send(m);
  }
  void send_parts(const Lines& parts) {
    for (std::size_t i = 0; i < parts.size(); ++i) {
      (void)socket_.send(zmq::buffer(parts[i]),
                         i + 1 < parts.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
  }

 private:
  zmq::socket_t socket_;
  std::string endpoint_;
};

rill::zmq::SourceOptions sub_options(std::string endpoint) {
  return rill::zmq::SourceOptions{
      .endpoint = std::move(endpoint), .socket = rill::zmq::SocketType::sub, .subscriptions = {""}};
}

}  // namespace

TEST(ZmqStream, SubOverTcpGetsEveryMessageInOrderOneElementEach) {
  zmq::context_t context;
  Publisher pub(context);
  rill::testing::Harness h{1s};
  auto out = h.collect(rill::zmq::stream(h.context(), sub_options(pub.endpoint())));
  h.run_batches(1);  // starts the receiver, which connects and subscribes
  EXPECT_EQ(pub.await_subscriptions(1), Lines{""});
  const Lines sent = numbered(0, 1000);
  pub.send(sent);
  pub.send(std::string("with\nnewline and \0 byte", 24));
  pub.send("");  // an empty message is an empty element
  ASSERT_TRUE(h.await_records_stored(1002, 10s));
  h.run_batches(1);
  auto expected = sent;
  expected.emplace_back("with\nnewline and \0 byte", 24);
  expected.emplace_back("");
  const auto batches = out.batches();
  ASSERT_EQ(batches.size(), 2U);
  EXPECT_EQ(batches[0], Lines{});
  EXPECT_EQ(batches[1], expected);
  const auto stats = h.context().source_stats();
  ASSERT_EQ(stats.size(), 1U);
  EXPECT_EQ(stats[0].name, "zmq_stream#1");
  EXPECT_EQ(stats[0].records, 1002);
  EXPECT_EQ(stats[0].skipped, 0);
  EXPECT_EQ(stats[0].errors, 0);
}

TEST(ZmqStream, MultipartMessagesAreJoinedWithJoinParts) {
  zmq::context_t context;
  Publisher pub(context);
  rill::testing::Harness h{1s};
  auto concatenated = h.collect(rill::zmq::stream(h.context(), sub_options(pub.endpoint())));
  auto options = sub_options(pub.endpoint());
  options.join_parts = " | ";
  auto separated = h.collect(rill::zmq::stream(h.context(), options));
  h.run_batches(1);
  pub.await_subscriptions(2);
  pub.send_parts({"topic", "payload"});
  pub.send_parts({"a", "", "c"});
  pub.send_parts({"single"});
  ASSERT_TRUE(h.await_records_stored(6, 10s));
  h.run_batches(1);
  EXPECT_EQ(flatten(concatenated.batches()), (Lines{"topicpayload", "ac", "single"}));
  EXPECT_EQ(flatten(separated.batches()), (Lines{"topic | payload", "a |  | c", "single"}));
}

TEST(ZmqStream, SubscriptionsFilterByTopicPrefix) {
  zmq::context_t context;
  Publisher pub(context);
  rill::testing::Harness h{1s};
  auto options = sub_options(pub.endpoint());
  options.subscriptions = {"alerts.", "audit"};
  auto out = h.collect(rill::zmq::stream(h.context(), options));
  h.run_batches(1);
  auto topics = pub.await_subscriptions(2);
  std::sort(topics.begin(), topics.end());
  EXPECT_EQ(topics, (Lines{"alerts.", "audit"}));
  pub.send({"alerts.disk full", "metrics.cpu 3", "audit login", "alerts", "auditor", "x"});
  pub.send_parts({"alerts.net", "down"});  // the first part is matched
  pub.send_parts({"metrics", "alerts.no"});
  ASSERT_TRUE(h.await_records_stored(4, 10s));
  h.run_batches(1);
  EXPECT_EQ(flatten(out.batches()),
            (Lines{"alerts.disk full", "audit login", "auditor", "alerts.netdown"}));
  EXPECT_EQ(h.context().source_stats()[0].skipped, 0);
}

TEST(ZmqStream, PublisherThatBindsAfterTheStreamStartedIsReached) {
  zmq::context_t context;
  const std::string endpoint = free_tcp_endpoint(context);
  rill::testing::Harness h{1s};
  auto out = h.collect(rill::zmq::stream(h.context(), sub_options(endpoint)));
  h.run_batches(1);                    // connects to nothing yet: ZeroMQ retries in the background
  std::this_thread::sleep_for(150ms);  // past ZeroMQ's first reconnect interval (100 ms)
  h.run_batches(1);
  Publisher pub(context, endpoint);
  pub.await_subscriptions(1);
  pub.send(numbered(0, 50));
  ASSERT_TRUE(h.await_records_stored(50, 10s));
  h.run_batches(1);
  EXPECT_EQ(out.batches(), (std::vector<Lines>{{}, {}, numbered(0, 50)}));
}

TEST(ZmqStream, PullOverInprocInASharedContextConnectingBeforeThePeerBinds) {
  zmq::context_t context;
  rill::testing::Harness h{1s};
  auto out = h.collect(
      rill::zmq::stream(h.context(), rill::zmq::SourceOptions{.endpoint = "inproc://rill-pull",
                                                              .socket = rill::zmq::SocketType::pull,
                                                              .join_parts = ",",
                                                              .context = &context}));
  h.run_batches(1);  // the stream connects first: inproc allows it since ZeroMQ 4.0
  zmq::socket_t push(context, zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 0);
  push.bind("inproc://rill-pull");
  for (const auto& m : numbered(0, 200))
    (void)push.send(zmq::buffer(m), zmq::send_flags::none);
  (void)push.send(zmq::str_buffer("x"), zmq::send_flags::sndmore);
  (void)push.send(zmq::str_buffer("y"), zmq::send_flags::none);
  ASSERT_TRUE(h.await_records_stored(201, 10s));
  h.run_batches(1);
  auto expected = numbered(0, 200);
  expected.emplace_back("x,y");
  EXPECT_EQ(out.batches(), (std::vector<Lines>{{}, expected}));
}

TEST(ZmqStream, BindModeTakesConnectingPushPeers) {
  zmq::context_t context;
  rill::testing::Harness h{1s};
  auto out = h.collect(
      rill::zmq::stream(h.context(), rill::zmq::SourceOptions{.endpoint = "inproc://rill-bind",
                                                              .socket = rill::zmq::SocketType::pull,
                                                              .bind = true,
                                                              .context = &context}));
  h.run_batches(1);
  zmq::socket_t first(context, zmq::socket_type::push);
  zmq::socket_t second(context, zmq::socket_type::push);
  first.set(zmq::sockopt::linger, 0);
  second.set(zmq::sockopt::linger, 0);
  first.connect("inproc://rill-bind");
  second.connect("inproc://rill-bind");
  (void)first.send(zmq::str_buffer("from first"), zmq::send_flags::none);
  (void)second.send(zmq::str_buffer("from second"), zmq::send_flags::none);
  ASSERT_TRUE(h.await_records_stored(2, 10s));
  h.run_batches(1);
  auto got = flatten(out.batches());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (Lines{"from first", "from second"}));
}

TEST(ZmqStream, BindToAnAddressInUseFailsTheContextWithIoError) {
  zmq::context_t context;
  Publisher holder(context);  // holds the port
  rill::testing::Harness h{1s};
  auto options = sub_options(holder.endpoint());
  options.bind = true;
  h.collect(rill::zmq::stream(h.context(), options));
  try {
    h.run_batches(1);
    ADD_FAILURE() << "starting should fail: the address is in use";
  } catch (const rill::IoError& e) {
    EXPECT_NE(std::string(e.what()).find(holder.endpoint()), std::string::npos) << e.what();
  }
  EXPECT_EQ(h.context().state(), rill::ContextState::stopped);
}

// A blocked pipeline (no batch drains the queue: the manual clock stands still) and a SUB
// socket: rill's queue takes its capacity, every later message is dropped and counted, the
// socket is read on (ZeroMQ's queue stays near empty), and the stop returns at once.
TEST(ZmqStream, SubDropsAndCountsWhatArrivesWhileTheQueueIsFull) {
  zmq::context_t context;
  Publisher pub(context);
  rill::testing::Harness h{rill::Config{}.batch_interval(1s).receiver_queue_capacity(100)};
  auto options = sub_options(pub.endpoint());
  options.receive_hwm = 10;
  auto out = h.collect(rill::zmq::stream(h.context(), options));
  h.run_batches(1);
  pub.await_subscriptions(1);
  pub.send(numbered(0, 3000));
  // The publisher's queue is unbounded and the subscriber reads on: ZeroMQ drops nothing, so
  // every message is either stored or dropped by rill, and counted.
  ASSERT_TRUE(h.await_records_stored(100, 10s));
  ASSERT_TRUE(eventually([&] { return h.context().source_stats()[0].skipped == 2900; }))
      << "skipped " << h.context().source_stats()[0].skipped;
  EXPECT_FALSE(h.await_records_stored(101, 50ms)) << "the queue went past its capacity";
  h.run_batches(1);
  EXPECT_EQ(out.batches(), (std::vector<Lines>{{}, numbered(0, 100)}));
  // Room again: new messages are taken.
  pub.send("after");
  ASSERT_TRUE(h.await_records_stored(101, 10s));
  h.run_batches(1);
  EXPECT_EQ(out.batches().back(), Lines{"after"});
  const auto started = std::chrono::steady_clock::now();
  h.context().stop(rill::StopOptions{.graceful = false, .timeout = 5s});
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  EXPECT_EQ(h.context().source_stats()[0].records, 101);
}

// A blocked pipeline and a PULL socket: the receiver waits, ZeroMQ's queues fill, then the PUSH
// peer cannot send: memory stays bounded and nothing is lost.
TEST(ZmqStream, PullPushesBackOnThePusherWhileTheQueueIsFullAndLosesNothing) {
  zmq::context_t context;
  rill::testing::Harness h{rill::Config{}.batch_interval(1s).receiver_queue_capacity(50)};
  auto out = h.collect(rill::zmq::stream(
      h.context(), rill::zmq::SourceOptions{.endpoint = "inproc://rill-back-pressure",
                                            .socket = rill::zmq::SocketType::pull,
                                            .receive_hwm = 10,
                                            .context = &context}));
  zmq::socket_t push(context, zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 0);
  push.set(zmq::sockopt::sndhwm, 10);
  push.set(zmq::sockopt::sndtimeo, 200);
  push.bind("inproc://rill-back-pressure");
  h.run_batches(1);
  // Send until a send times out twice, the second time with rill's queue full: a slow receiver
  // thread (a loaded machine) may leave the pipe full for a moment before that.
  int sent = 0;
  int timeouts = 0;
  while (sent < 100000) {
    if (push.send(zmq::buffer("m" + std::to_string(sent)), zmq::send_flags::none)) {
      ++sent;
    } else {
      ASSERT_TRUE(h.await_records_stored(50, 10s)) << "rill's queue did not fill";
      if (++timeouts == 2) break;
    }
  }
  // rill's 50, ZeroMQ's pipe (about the two high-water marks, 20) and the one the receiver holds.
  EXPECT_GE(sent, 50);
  EXPECT_LE(sent, 50 + 20 + 1 + 20) << "the pusher was never pushed back";
  ASSERT_TRUE(h.await_records_stored(50, 10s));
  EXPECT_FALSE(h.await_records_stored(51, 50ms)) << "the queue went past its capacity";
  Lines got;
  while (static_cast<int>(got.size()) < sent) {
    h.run_batches(1);
    got = flatten(out.batches());
    ASSERT_LE(out.batches().back().size(), 50U);
    if (static_cast<int>(got.size()) < sent) {
      ASSERT_TRUE(h.await_records_stored(static_cast<std::int64_t>(got.size()) + 1, 10s));
    }
  }
  EXPECT_EQ(got, numbered(0, sent));
  EXPECT_EQ(h.context().source_stats()[0].skipped, 0);
  // Blocked again, with the receiver waiting in store(): the stop does not wait for the pusher.
  while (push.send(zmq::str_buffer("more"), zmq::send_flags::none)) {
  }
  const auto started = std::chrono::steady_clock::now();
  h.context().stop(rill::StopOptions{.graceful = false, .timeout = 5s});
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
}

// The system clock, and an output that blocks: the batches fall behind, the receiver's queue
// and ZeroMQ stay bounded, drops are counted; once released the pipeline goes on, and a
// graceful stop returns.
TEST(ZmqStream, ABlockedOutputUnderTheSystemClockBoundsTheInputAndTheStopReturns) {
  // Declared before the context, which may still run a batch using them when a test assertion
  // returns early (its destructor stops it).
  rill_test::Signal gate;
  bool open = false;
  std::mutex mutex;
  std::vector<std::size_t> sizes;
  zmq::context_t context;
  Publisher pub(context);
  rill::StreamingContext ctx(
      rill::Config{}.batch_interval(20ms).receiver_queue_capacity(200).max_pending_batches(1));
  auto options = sub_options(pub.endpoint());
  options.receive_hwm = 10;
  rill::zmq::stream(ctx, options)
      .foreach_batch([&](const rill::Batch<std::string>& batch, rill::Time) {
        const auto n = batch.collect().size();
        {
          std::lock_guard lock(mutex);
          sizes.push_back(n);
        }
        if (n > 0) gate.wait_for([&] { return open; }, 10s);
      });
  ctx.start();
  pub.await_subscriptions(1);
  pub.send(numbered(0, 5000));
  ASSERT_TRUE(eventually([&] { return ctx.source_stats()[0].skipped > 0; }));
  gate.notify([&] { open = true; });
  pub.send("last");
  ASSERT_TRUE(eventually([&] {
    const auto s = ctx.source_stats()[0];
    return s.records + s.skipped == 5001;
  })) << "every message is either taken into a batch or counted as dropped";
  const auto started = std::chrono::steady_clock::now();
  ctx.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  std::lock_guard lock(mutex);
  for (const auto n : sizes)
    EXPECT_LE(n, 200U) << "a batch took more than the receiver queue's capacity";
}

TEST(ZmqStream, TerminatingTheSharedContextEndsTheStreamWithACountedError) {
  zmq::context_t context;
  rill::testing::Harness h{1s};
  h.collect(
      rill::zmq::stream(h.context(), rill::zmq::SourceOptions{.endpoint = "inproc://rill-shutdown",
                                                              .socket = rill::zmq::SocketType::pull,
                                                              .context = &context}));
  h.run_batches(1);
  context.shutdown();  // blocking calls on its sockets fail with ETERM from now on
  ASSERT_TRUE(eventually([&] { return h.context().source_stats()[0].errors == 1; }));
  h.run_batches(1);  // the context goes on, with empty batches
  h.context().stop(rill::StopOptions{.graceful = false, .timeout = 5s});
  context.close();  // returns: the stream closed its socket at the stop
}

TEST(ZmqStream, InvalidOptionsAreRefusedWhenTheStreamIsCreated) {
  zmq::context_t context;
  rill::testing::Harness h{1s};
  using rill::zmq::SocketType;
  using rill::zmq::SourceOptions;
  const std::vector<std::pair<const char*, SourceOptions>> cases = {
      {"empty endpoint", SourceOptions{}},
      {"no transport", SourceOptions{.endpoint = "127.0.0.1:5556"}},
      {"no address", SourceOptions{.endpoint = "tcp://"}},
      {"inproc without a context", SourceOptions{.endpoint = "inproc://feed"}},
      {"sub without subscriptions",
       SourceOptions{.endpoint = "tcp://127.0.0.1:5556", .subscriptions = {}}},
      {"pull with a topic",
       SourceOptions{
           .endpoint = "tcp://127.0.0.1:5556", .socket = SocketType::pull, .subscriptions = {"a"}}},
      {"hwm 0", SourceOptions{.endpoint = "tcp://127.0.0.1:5556", .receive_hwm = 0}},
      {"hwm negative", SourceOptions{.endpoint = "tcp://127.0.0.1:5556", .receive_hwm = -1}},
  };
  for (const auto& [what, options] : cases) {
    EXPECT_THROW(rill::zmq::stream(h.context(), options), rill::InvalidArgument) << what;
  }
  // Valid: a PULL socket with no subscriptions, inproc with a context.
  h.collect(rill::zmq::stream(h.context(), SourceOptions{.endpoint = "inproc://ok",
                                                         .socket = SocketType::pull,
                                                         .subscriptions = {},
                                                         .context = &context}));
  h.run_batches(1);
  EXPECT_THROW(rill::zmq::stream(h.context(), sub_options("tcp://127.0.0.1:5556")),
               rill::IllegalState);
}
