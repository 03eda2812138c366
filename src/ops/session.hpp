#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstddef>
#include <memory>
#include <optional>

#include "ops/router.hpp"
#include "rill/core/time.hpp"

namespace rill::ops::detail {

/// What every connection of a server shares: the router, the limits, and the count of open
/// connections. Lives as long as the server's io_context (Server::Impl).
struct SessionShared {
  Router router;
  std::size_t max_header_bytes;
  Duration idle_timeout;
  /// Open connections (server's thread only): a Session counts itself from its construction to
  /// its destruction.
  std::size_t open = 0;
};

/// One HTTP/1.1 connection (Boost.Beast): reads a request within the idle timeout, answers it
/// through the router, and goes on while the client keeps the connection alive. A request whose
/// headers exceed the limit gets 431, one with a body 413, a malformed one 400; each closes the
/// connection. A client that sends nothing, or reads nothing, is closed at the timeout; nothing
/// it does blocks the server's thread. Owned by its pending operations (shared_from_this);
/// server's thread only.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(boost::asio::ip::tcp::socket socket, SessionShared& shared);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Starts reading the first request.
  void start();
  /// Closes the connection (the server stops); its pending operations end with an error.
  void close();

 private:
  void read_request();
  void on_read(boost::beast::error_code ec);
  void write(Response response);
  void on_write(bool close, boost::beast::error_code ec);
  void linger();
  void drain();

  /// After a response that ends the connection: how long, and how many bytes, the client's
  /// remaining input is read and dropped before the socket is closed.
  static constexpr Duration kLinger{1000};
  static constexpr std::size_t kMaxDrainBytes = 1 << 20;

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  SessionShared& shared_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::empty_body>> parser_;
  std::optional<Response> response_;
  std::array<char, 4096> discard_{};
  std::size_t drained_ = 0;
};

}  // namespace rill::ops::detail
