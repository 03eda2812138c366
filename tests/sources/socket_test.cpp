// Integration tests of socket_text_stream against a real TCP server on 127.0.0.1.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

#include "support/eventually.hpp"
#include "support/sequences.hpp"

using namespace std::chrono_literals;

namespace {

using Lines = std::vector<std::string>;

[[noreturn]] void fail_errno(const char* what) {
  throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

/// One accepted connection of the test server.
class Connection {
 public:
  Connection() = default;
  explicit Connection(int fd) : fd_(fd) {}
  Connection(Connection&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Connection& operator=(Connection&& other) noexcept {
    if (this != &other) {
      close();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~Connection() { close(); }

  void send(std::string_view data) const {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail_errno("send");
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  /// Closes the connection: the client sees the end of the stream.
  void close() {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }

 private:
  int fd_ = -1;
};

/// A TCP server on 127.0.0.1: listens on a port chosen by the kernel (or a given one), and
/// accepts with a timeout. Accepting on the test's thread is enough: the kernel completes the
/// client's handshake as soon as the socket listens.
class TestServer {
 public:
  explicit TestServer(std::uint16_t port = 0) { listen_on(port); }
  ~TestServer() { stop_listening(); }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }

  /// Waits for the next client, at most `timeout`.
  Connection accept(std::chrono::milliseconds timeout = 10s) const {
    pollfd pfd{listen_fd_, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
    if (ready < 0) fail_errno("poll");
    if (ready == 0) throw std::runtime_error("TestServer: no client connected in time");
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) fail_errno("accept");
    return Connection(fd);
  }

  /// Closes the listening socket: new connections are refused.
  void stop_listening() {
    if (listen_fd_ >= 0) ::close(std::exchange(listen_fd_, -1));
  }
  /// Listens again on the same port.
  void restart_listening() {
    stop_listening();
    listen_on(port_);
  }

 private:
  void listen_on(std::uint16_t port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) fail_errno("socket");
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
      fail_errno("bind");
    if (::listen(listen_fd_, 8) != 0) fail_errno("listen");
    socklen_t len = sizeof addr;
    if (::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      fail_errno("getsockname");
    port_ = ntohs(addr.sin_port);
  }

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
};

/// Fast reconnects, so that tests of reconnection take milliseconds.
constexpr rill::SocketOptions kFast{.reconnect_backoff = std::chrono::milliseconds(20),
                                    .max_reconnect_backoff = std::chrono::milliseconds(50)};

using rill_test::eventually;

using rill_test::flatten;

}  // namespace

TEST(SocketStream, LinesAndCrLf) {
  TestServer server;
  rill::testing::Harness h{1s};
  auto out = h.collect(h.context().socket_text_stream("127.0.0.1", server.port(), kFast));
  h.run_batches(1);  // starts the receiver, which connects
  auto conn = server.accept();
  conn.send("first\nsecond\r\n\nwith spaces  \r\n");
  ASSERT_TRUE(h.await_records_stored(4, 10s));
  h.run_batches(1);
  conn.send("third\n");
  ASSERT_TRUE(h.await_records_stored(5, 10s));
  h.run_batches(1);

  const auto batches = out.batches();
  ASSERT_EQ(batches.size(), 3U);
  EXPECT_EQ(batches[0], Lines{});
  EXPECT_EQ(batches[1], (Lines{"first", "second", "", "with spaces  "}));
  EXPECT_EQ(batches[2], (Lines{"third"}));
  const auto stats = h.context().source_stats();
  ASSERT_EQ(stats.size(), 1U);
  EXPECT_EQ(stats[0].records, 5);
  EXPECT_EQ(stats[0].skipped, 0);
}

TEST(SocketStream, LineSplitAcrossTwoSends) {
  TestServer server;
  rill::testing::Harness h{1s};
  auto out = h.collect(h.context().socket_text_stream("127.0.0.1", server.port(), kFast));
  h.run_batches(1);
  auto conn = server.accept();
  conn.send("whole\nhal");
  ASSERT_TRUE(h.await_records_stored(1, 10s));  // "hal" is now buffered in the receiver
  h.run_batches(1);
  conn.send("f and half\r");
  conn.send("\nnext\n");
  ASSERT_TRUE(h.await_records_stored(3, 10s));
  h.run_batches(1);
  EXPECT_EQ(out.batches(), (std::vector<Lines>{{}, {"whole"}, {"half and half", "next"}}));
}

TEST(SocketStream, HostNameIsResolved) {
  TestServer server;  // on 127.0.0.1 only: an IPv6 "localhost" must fall back to it
  rill::testing::Harness h{1s};
  auto out = h.collect(h.context().socket_text_stream("localhost", server.port(), kFast));
  h.run_batches(1);
  auto conn = server.accept();
  conn.send("resolved\n");
  ASSERT_TRUE(h.await_records_stored(1, 10s));
  h.run_batches(1);
  EXPECT_EQ(flatten(out.batches()), (Lines{"resolved"}));
}

TEST(SocketStream, ServerAbsentAtStartIsReachedLater) {
  std::uint16_t port = 0;
  {
    TestServer probe;  // finds a free port, then frees it
    port = probe.port();
  }
  rill::testing::Harness h{1s};
  auto out = h.collect(h.context().socket_text_stream("127.0.0.1", port, kFast));
  h.run_batches(2);
  // The receiver is refused (each refusal counted) and retries in the background.
  ASSERT_TRUE(eventually([&] { return h.context().source_stats().at(0).errors >= 2; }));
  EXPECT_EQ(h.context().state(), rill::ContextState::active);

  TestServer server(port);
  auto conn = server.accept();
  conn.send("late\nbut here\n");
  ASSERT_TRUE(h.await_records_stored(2, 10s));
  h.run_batches(1);
  EXPECT_EQ(out.batches(), (std::vector<Lines>{{}, {}, {"late", "but here"}}));
}

TEST(SocketStream, ServerClosingMidStreamThenComingBack) {
  TestServer server;
  rill::testing::Harness h{1s};
  auto out = h.collect(h.context().socket_text_stream("127.0.0.1", server.port(), kFast));
  h.run_batches(1);
  {
    auto conn = server.accept();
    conn.send("one\ntwo\nthr");
    conn.send("ee\nlast without newline");
    conn.close();  // the last line is complete at the end of the stream
  }
  server.stop_listening();  // reconnects are refused for a while
  ASSERT_TRUE(h.await_records_stored(4, 10s));
  h.run_batches(1);

  server.restart_listening();
  auto conn = server.accept();  // the receiver reconnects on its own
  conn.send("after\n");
  ASSERT_TRUE(h.await_records_stored(5, 10s));
  h.run_batches(1);

  EXPECT_EQ(flatten(out.batches()),
            (Lines{"one", "two", "three", "last without newline", "after"}));
  EXPECT_EQ(out.batches().size(), 3U);
  EXPECT_EQ(out.batches()[2], (Lines{"after"}));
  EXPECT_TRUE(
      eventually([&] { return h.context().source_stats().at(0).errors >= 1; }));  // the close
  EXPECT_EQ(h.context().source_stats().at(0).records, 5);
}

TEST(SocketStream, LastLineBeforeCloseDropsItsTrailingCr) {
  // "a trailing \r dropped" holds for every line, also the last one ended by the close (as in
  // text_file_stream, where "last\r" at the end of a file gives "last").
  TestServer server;
  rill::testing::Harness h{1s};
  auto out = h.collect(h.context().socket_text_stream("127.0.0.1", server.port(), kFast));
  h.run_batches(1);
  {
    auto conn = server.accept();
    conn.send("dos\r\nlast\r");
  }
  ASSERT_TRUE(h.await_records_stored(2, 10s));
  h.run_batches(1);
  EXPECT_EQ(flatten(out.batches()), (Lines{"dos", "last"}));
}

TEST(SocketStream, ReconnectsAfterSeveralCloses) {
  TestServer server;
  rill::testing::Harness h{1s};
  auto out = h.collect(h.context().socket_text_stream("127.0.0.1", server.port(), kFast));
  h.run_batches(1);
  for (int i = 0; i < 3; ++i) {
    auto conn = server.accept();
    conn.send("round " + std::to_string(i) + "\n");
    ASSERT_TRUE(h.await_records_stored(i + 1, 10s));
  }  // each connection closes at the end of its round
  h.run_batches(1);
  EXPECT_EQ(flatten(out.batches()), (Lines{"round 0", "round 1", "round 2"}));
}

TEST(SocketStream, OverLongLineIsSkippedAndCounted) {
  TestServer server;
  rill::testing::Harness h{1s};
  rill::SocketOptions options = kFast;
  options.max_line_bytes = 16;
  auto out = h.collect(h.context().socket_text_stream("127.0.0.1", server.port(), options));
  h.run_batches(1);
  auto conn = server.accept();
  conn.send("short\n");
  conn.send(std::string(100, 'x') + "\n");
  conn.send("exactly16bytes!!\n");          // 16 bytes: kept
  conn.send("seventeen bytes!!\nafter\n");  // 17 bytes: skipped
  // An over-long line arriving in pieces is skipped as a whole, and the next line survives.
  conn.send(std::string(12, 'y'));
  conn.send(std::string(12, 'y'));
  conn.send(std::string(12, 'y') + "\nend\n");
  ASSERT_TRUE(h.await_records_stored(4, 10s));
  h.run_batches(1);

  EXPECT_EQ(flatten(out.batches()), (Lines{"short", "exactly16bytes!!", "after", "end"}));
  const auto stats = h.context().source_stats();
  ASSERT_EQ(stats.size(), 1U);
  EXPECT_EQ(stats[0].skipped, 3);
  EXPECT_EQ(stats[0].records, 4);
  EXPECT_EQ(h.context().state(), rill::ContextState::active);
}

TEST(SocketStream, ReadmeWordCount) {
  TestServer server;
  rill::testing::Harness h{1s};
  auto counts = h.context()
                    .socket_text_stream("127.0.0.1", server.port(), kFast)
                    .flat_map([](const std::string& line) { return rill::split_words(line); })
                    .map([](const std::string& w) {
                      return std::pair{w, 1L};
                    })
                    .reduce_by_key([](long a, long b) { return a + b; });
  auto out = h.collect(counts);
  h.run_batches(1);
  auto conn = server.accept();
  conn.send("a b a\nb\n");
  ASSERT_TRUE(h.await_records_stored(2, 10s));
  h.run_batches(1);
  const auto batches = out.sorted_batches();
  ASSERT_EQ(batches.size(), 2U);
  EXPECT_TRUE(batches[0].empty());
  EXPECT_EQ(batches[1], (std::vector<std::pair<std::string, long>>{{"a", 2}, {"b", 2}}));
}

TEST(SocketStream, StopsPromptlyWhileConnectedOrRetrying) {
  TestServer server;
  {
    rill::testing::Harness h{1s};
    auto out = h.collect(h.context().socket_text_stream("127.0.0.1", server.port(), kFast));
    h.run_batches(1);
    auto conn = server.accept();
    conn.send("x\n");
    ASSERT_TRUE(h.await_records_stored(1, 10s));
    h.run_batches(1);
    h.context().stop();
    EXPECT_EQ(h.context().state(), rill::ContextState::stopped);
    EXPECT_EQ(flatten(out.batches()), (Lines{"x"}));
  }
  server.stop_listening();
  {
    rill::testing::Harness h{1s};
    h.collect(h.context().socket_text_stream("127.0.0.1", server.port(), kFast));
    h.run_batches(1);
    h.context().stop();  // the receiver is in its back-off loop
    EXPECT_EQ(h.context().state(), rill::ContextState::stopped);
  }
}

TEST(SocketStream, InvalidOptionsThrowInvalidArgument) {
  rill::StreamingContext ctx{rill::Config{}.batch_interval(1s).clock(rill::ManualClock::create())};
  EXPECT_THROW(ctx.socket_text_stream("", 9999), rill::InvalidArgument);
  EXPECT_THROW(ctx.socket_text_stream("127.0.0.1", 0), rill::InvalidArgument);
  EXPECT_THROW(ctx.socket_text_stream("127.0.0.1", 9999, rill::SocketOptions{.max_line_bytes = 0}),
               rill::InvalidArgument);
  EXPECT_THROW(ctx.socket_text_stream(
                   "127.0.0.1", 9999,
                   rill::SocketOptions{.reconnect_backoff = std::chrono::milliseconds(0)}),
               rill::InvalidArgument);
  EXPECT_THROW(ctx.socket_text_stream(
                   "127.0.0.1", 9999,
                   rill::SocketOptions{.reconnect_backoff = std::chrono::milliseconds(500),
                                       .max_reconnect_backoff = std::chrono::milliseconds(100)}),
               rill::InvalidArgument);
}
