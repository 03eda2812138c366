#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "rill/core/time.hpp"

namespace rill {
class StreamingContext;
}

namespace rill::ops {

/// Settings of rill::ops::serve(). Designated initializers: `{.address = "0.0.0.0", .port = 8080}`.
struct ServeOptions {
  /// The IPv4 or IPv6 address to listen on. The default serves this machine only; set
  /// "0.0.0.0" (or "::") to reach the server from elsewhere (it has no authentication).
  std::string address = "127.0.0.1";
  /// TCP port; 0 picks a free one (Server::port() tells which).
  std::uint16_t port = 0;
  /// Connections served at once; a connection beyond them gets `503 Service Unavailable` and is
  /// closed. At least 1.
  std::size_t max_connections = 16;
  /// Bytes of a request's start line and headers; a larger request gets `431` and is closed.
  /// From 1024 to 1 MiB. Requests with a body are refused (`413`): every endpoint is read-only.
  std::size_t max_header_bytes = 8192;
  /// A connection that sends no complete request, or does not read its response, for this long
  /// is closed (ms; at least 1 ms).
  Duration idle_timeout = std::chrono::seconds(10);
};

/// The running server: RAII, its destructor (or stop()) stops it. Move-only.
///
/// Threads: the server runs on one thread of its own (an Asio io_context) that accepts, reads,
/// and answers with non-blocking I/O; no batch, receiver or listener thread ever waits for a
/// client. A request reads the context through its thread-safe accessors (last_progress(),
/// recent_progress(), progress_totals(), source_stats(), operator_graph(), state(), config()),
/// each of which takes the progress history's mutex for the time of a copy (a batch takes it
/// once, when it completes).
///
/// Lifetime: the server holds a reference to the context. Stop it (destroy it) before the
/// context is destroyed: declare it after the context (or the Harness) in the same scope. It
/// may outlive a stop() of the context: the endpoints then show the last records.
class Server {
 public:
  Server(Server&&) noexcept;
  Server& operator=(Server&&) noexcept;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  /// Stops the server (stop()); never throws.
  ~Server();

  /// The TCP port the server listens on (the one chosen when ServeOptions::port was 0); 0 after
  /// stop() or a move.
  [[nodiscard]] std::uint16_t port() const noexcept;
  /// The address it listens on, as given; empty after stop() or a move.
  [[nodiscard]] const std::string& address() const noexcept;
  /// Closes the listening socket and every connection, and joins the server's thread. Idempotent;
  /// never throws. Not from a request of this server (there is no user code on its thread).
  void stop() noexcept;

 private:
  class Impl;
  friend Server serve(StreamingContext& ctx, ServeOptions options);
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Serves `ctx` over HTTP/1.1 on `options.address:options.port` until the returned Server dies
/// (as Spark's UI and Flink's REST endpoint serve a running job). May be called before or
/// after ctx.start(). Endpoints (GET or HEAD; other methods get 405):
///   /          the status page: one self-contained HTML file with graphs, refreshed every second
///   /metrics   Prometheus text exposition format 0.0.4 (prometheus_text())
///   /progress  the recent progress records (ctx.recent_progress(), up to 100, oldest first) as
///              a JSON array of rill::to_json() objects
///   /context   the context's state, batch interval, operator graph and totals as a JSON object
/// anything else gets 404. The port is logged (`rill` logger, info). Throws
/// rill::InvalidArgument for an address that is not an IP address or out-of-range options, and
/// rill::IoError when the address cannot be bound (the port in use, an address not of this
/// machine). Thread-safe.
[[nodiscard]] Server serve(StreamingContext& ctx, ServeOptions options = {});

}  // namespace rill::ops
