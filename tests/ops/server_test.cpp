// rill::ops::serve over real sockets: the endpoints' statuses and headers, the methods and
// requests it refuses, its limits (connections, header bytes, idle time), and that a client that
// stalls never holds up other requests or the batches.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rill/ops.hpp>
#include <rill/testing.hpp>

#include "ops/http_client.hpp"
#include "support/eventually.hpp"

using namespace std::chrono_literals;

namespace {

/// A harness with one queue source and an output; batches run under the manual clock.
struct Pipeline {
  rill::testing::Harness h{1s};
  Pipeline() {
    h.input<int>({{1, 2, 3}, {4, 5}, {6}, {}, {7}})
        .name("numbers")
        .foreach_batch([](const rill::Batch<int>&, rill::Time) {});
  }
};

TEST(OpsServer, ServesEveryEndpointOnGetAndHead) {
  Pipeline p;
  auto server = rill::ops::serve(p.h.context(), rill::ops::ServeOptions{.port = 0});
  ASSERT_NE(server.port(), 0);
  EXPECT_EQ(server.address(), "127.0.0.1");
  p.h.run_batches(2);
  struct Case {
    const char* target;
    const char* content_type;
    const char* in_body;
  };
  for (const Case c :
       {Case{"/", "text/html; charset=utf-8", "id=\"last-batch-time\""},
        Case{"/index.html", "text/html; charset=utf-8", "<svg id=\"chart-input-rate\""},
        Case{"/metrics", "text/plain; version=0.0.4; charset=utf-8",
             "rill_batches_completed_total 2\n"},
        Case{"/metrics?x=1", "text/plain; version=0.0.4; charset=utf-8", "# TYPE"},
        Case{"/progress", "application/json", "\"batch_time_ms\":2000"},
        Case{"/context", "application/json", "\"state\":\"active\""}}) {
    const auto get = rill_test::http_get(server.port(), c.target);
    ASSERT_EQ(get.status(), 200) << c.target << ": " << get.error;
    EXPECT_EQ(get.header("Content-Type"), c.content_type) << c.target;
    EXPECT_EQ(get.header("Cache-Control"), "no-store") << c.target;
    EXPECT_NE(get.body().find(c.in_body), std::string::npos) << c.target << ": " << get.body();
    const auto head = rill_test::http_get(server.port(), c.target, "HEAD");
    ASSERT_EQ(head.status(), 200) << c.target << ": " << head.error;
    EXPECT_EQ(head.header("Content-Type"), c.content_type);
    EXPECT_TRUE(head.body().empty());
    EXPECT_GT(std::stoll(head.header("Content-Length")), 0) << c.target;
  }
  // The page loads nothing from elsewhere, and may only talk to this server.
  const auto page = rill_test::http_get(server.port(), "/");
  EXPECT_EQ(page.body().find("http://"), page.body().find("http://www.w3.org/2000/svg"));
  EXPECT_EQ(page.body().find("https://"), std::string::npos);
  EXPECT_NE(page.header("Content-Security-Policy").find("connect-src 'self'"), std::string::npos);
}

TEST(OpsServer, UnknownPathsAre404AndOtherMethods405) {
  Pipeline p;
  auto server = rill::ops::serve(p.h.context());
  for (const char* target : {"/nope", "/metrics/", "/progress.json", "//", "/..%2f"}) {
    EXPECT_EQ(rill_test::http_get(server.port(), target).status(), 404) << target;
  }
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    const auto r = rill_test::http_get(server.port(), "/metrics", method);
    EXPECT_EQ(r.status(), 405) << method << ": " << r.error;
    EXPECT_EQ(r.header("Allow"), "GET, HEAD") << method;
  }
}

TEST(OpsServer, RefusesOversizedHeadersBodiesAndGarbage) {
  Pipeline p;
  auto server = rill::ops::serve(p.h.context(), rill::ops::ServeOptions{.max_header_bytes = 4096});
  {
    // 20 KB of headers: 431, and the connection is closed.
    rill_test::HttpConnection c(server.port());
    const auto r = c.exchange(rill_test::request(
        "GET", "/metrics", "X-Filler: " + std::string(20000, 'x') + "\r\n", true));
    EXPECT_EQ(r.status(), 431) << r.error;
    EXPECT_TRUE(c.closed_by_server(2s));
  }
  {
    // A body, even on GET: 413 (every endpoint is read-only).
    rill_test::HttpConnection c(server.port());
    const auto r =
        c.exchange("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    EXPECT_EQ(r.status(), 413) << r.error;
  }
  {
    rill_test::HttpConnection c(server.port());
    const auto r = c.exchange("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    EXPECT_EQ(r.status(), 413) << r.error;
  }
  {
    rill_test::HttpConnection c(server.port());
    const auto r = c.exchange("THIS IS NOT HTTP\r\n\r\n");
    EXPECT_EQ(r.status(), 400) << r.error;
  }
  // And the server still answers.
  EXPECT_EQ(rill_test::http_get(server.port(), "/metrics").status(), 200);
}

TEST(OpsServer, KeepsAConnectionAliveAcrossRequests) {
  Pipeline p;
  auto server = rill::ops::serve(p.h.context());
  rill_test::HttpConnection c(server.port());
  for (int i = 0; i < 3; ++i) {
    const auto r = c.exchange(rill_test::request("GET", "/progress", {}, true));
    ASSERT_EQ(r.status(), 200) << r.error;
    p.h.run_batches(1);
  }
}

TEST(OpsServer, AStalledClientBlocksNeitherRequestsNorBatches) {
  Pipeline p;
  auto server = rill::ops::serve(p.h.context(), rill::ops::ServeOptions{.idle_timeout = 300ms});
  // One client connects and sends nothing; another sends half a request line and stops; a
  // third asks for a large response and never reads it.
  rill_test::HttpConnection silent(server.port());
  rill_test::HttpConnection half(server.port());
  ASSERT_TRUE(half.send("GET /metr"));
  rill_test::HttpConnection no_reader(server.port());
  std::string many;
  for (int i = 0; i < 200; ++i)
    many += rill_test::request("GET", "/", {}, true);
  ASSERT_TRUE(no_reader.send(many));

  // Batches run (the manual clock's run_batches waits for each batch's outputs)...
  p.h.run_batches(3);
  ASSERT_EQ(p.h.context().last_progress()->batch_time, rill::Time{3000});
  // ...and other clients are answered, with the batches' records.
  const auto r = rill_test::http_get(server.port(), "/metrics");
  ASSERT_EQ(r.status(), 200) << r.error;
  EXPECT_NE(r.body().find("rill_batches_completed_total 3\n"), std::string::npos);
  p.h.run_batches(2);
  EXPECT_EQ(p.h.context().last_progress()->batch_time, rill::Time{5000});
  EXPECT_EQ(p.h.context().last_progress()->num_records, 1);

  // The idle ones are closed at the timeout.
  EXPECT_TRUE(silent.closed_by_server(5s));
  EXPECT_TRUE(half.closed_by_server(5s));
}

TEST(OpsServer, LimitsConnectionsAndFreesASlotWhenOneCloses) {
  Pipeline p;
  auto server = rill::ops::serve(p.h.context(), rill::ops::ServeOptions{.max_connections = 2});
  // Two clients hold their connections open (each served once, so the server has them).
  rill_test::HttpConnection a(server.port());
  rill_test::HttpConnection b(server.port());
  ASSERT_EQ(a.exchange(rill_test::request("GET", "/context", {}, true)).status(), 200);
  ASSERT_EQ(b.exchange(rill_test::request("GET", "/context", {}, true)).status(), 200);
  // A third is refused with 503 and closed.
  const auto refused = rill_test::http_get(server.port(), "/metrics");
  EXPECT_EQ(refused.status(), 503) << refused.error;
  EXPECT_EQ(refused.header("Retry-After"), "1");
  // Once one closes, a new client is served again (the server sees the close asynchronously).
  a.close();
  EXPECT_TRUE(rill_test::eventually(
      [&] { return rill_test::http_get(server.port(), "/metrics").status() == 200; }, 5s));
}

TEST(OpsServer, StopsAndFreesItsPort) {
  Pipeline p;
  auto server = rill::ops::serve(p.h.context());
  const auto port = server.port();
  rill_test::HttpConnection open_connection(port);  // stopping does not wait for clients
  server.stop();
  EXPECT_EQ(server.port(), 0);
  server.stop();  // idempotent
  EXPECT_THROW(rill_test::HttpConnection{port}, boost::system::system_error);
  // The port can be taken again at once.
  auto again = rill::ops::serve(p.h.context(), rill::ops::ServeOptions{.port = port});
  EXPECT_EQ(again.port(), port);
  EXPECT_EQ(rill_test::http_get(port, "/metrics").status(), 200);
}

TEST(OpsServer, RefusesBadOptionsAndABusyPort) {
  Pipeline p;
  auto& ctx = p.h.context();
  EXPECT_THROW((void)rill::ops::serve(ctx, {.address = "localhost"}), rill::InvalidArgument);
  EXPECT_THROW((void)rill::ops::serve(ctx, {.address = "300.1.1.1"}), rill::InvalidArgument);
  EXPECT_THROW((void)rill::ops::serve(ctx, {.max_connections = 0}), rill::InvalidArgument);
  EXPECT_THROW((void)rill::ops::serve(ctx, {.max_header_bytes = 10}), rill::InvalidArgument);
  EXPECT_THROW((void)rill::ops::serve(ctx, {.idle_timeout = 0ms}), rill::InvalidArgument);
  auto first = rill::ops::serve(ctx);
  try {
    auto second = rill::ops::serve(ctx, {.port = first.port()});
    ADD_FAILURE() << "a second server on port " << first.port() << " was started";
  } catch (const rill::IoError& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(first.port())), std::string::npos)
        << e.what();
  }
}

TEST(OpsServer, ScrapingWhileTheContextStartsAndRunsIsSafe) {
  // The endpoints read the context while start() sets it up and batches complete: under
  // ThreadSanitizer (label context) this catches an accessor read without its lock.
  Pipeline p;
  auto server = rill::ops::serve(p.h.context());
  std::atomic<bool> done{false};
  std::atomic<int> answered{0};
  std::thread scraper([&] {
    while (!done.load()) {
      for (const char* target : {"/metrics", "/progress", "/context"}) {
        if (rill_test::http_get(server.port(), target).status() == 200) ++answered;
      }
    }
  });
  p.h.run_batches(5);
  // At least one round after the batches, so that reads of a running context happened too.
  const int before = answered.load();
  EXPECT_TRUE(rill_test::eventually([&] { return answered.load() >= before + 3; }, 5s));
  done = true;
  scraper.join();
}

TEST(OpsServer, OutlivesAStoppedContext) {
  Pipeline p;
  auto server = rill::ops::serve(p.h.context());
  p.h.run_batches(2);
  p.h.context().stop();
  const auto r = rill_test::http_get(server.port(), "/metrics");
  ASSERT_EQ(r.status(), 200) << r.error;
  EXPECT_NE(r.body().find("rill_context_state{state=\"stopped\"} 1\n"), std::string::npos);
  EXPECT_NE(r.body().find("rill_batches_completed_total 2\n"), std::string::npos);
}

}  // namespace
