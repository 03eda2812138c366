#pragma once
// A small blocking HTTP/1.1 client for the operations server's tests, on Boost.Beast: every call
// bounds its own time (an io_context run for at most `timeout`), so a server that hangs fails
// the test instead of hanging it.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace rill_test {

/// What came back: the parsed response, or why there was none.
struct HttpResult {
  std::optional<boost::beast::http::response<boost::beast::http::string_body>> response;
  std::string error;

  [[nodiscard]] int status() const { return response ? response->result_int() : 0; }
  [[nodiscard]] std::string body() const { return response ? response->body() : std::string{}; }
  [[nodiscard]] std::string header(const char* name) const {
    if (!response) return {};
    const auto it = response->find(name);
    return it == response->end() ? std::string{} : std::string(it->value());
  }
};

/// One TCP connection to 127.0.0.1:port, kept open between exchanges (keep-alive, or a client
/// that sends nothing at all).
class HttpConnection {
 public:
  explicit HttpConnection(std::uint16_t port) : socket_(io_) {
    boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), port);
    socket_.connect(endpoint);
  }

  /// Sends `raw` as it is (any bytes), then reads one response; `head`: the response to a HEAD
  /// request has no body.
  HttpResult exchange(const std::string& raw, bool head = false,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    send(raw, timeout);
    return read_response(head, timeout);
  }

  /// Writes `raw`; false when the write failed or timed out.
  bool send(const std::string& raw, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    boost::system::error_code result = boost::asio::error::timed_out;
    boost::asio::async_write(socket_, boost::asio::buffer(raw),
                             [&](boost::system::error_code ec, std::size_t) { result = ec; });
    run(timeout);
    return !result;
  }

  HttpResult read_response(bool head, std::chrono::milliseconds timeout) {
    namespace http = boost::beast::http;
    auto parser = std::make_shared<http::response_parser<http::string_body>>();
    parser->skip(head);
    parser->body_limit(64 << 20);
    boost::system::error_code result = boost::asio::error::timed_out;
    http::async_read(socket_, buffer_, *parser,
                     [&](boost::system::error_code ec, std::size_t) { result = ec; });
    run(timeout);
    HttpResult out;
    if (result) {
      out.error = result.message();
    } else {
      out.response = parser->release();
    }
    return out;
  }

  /// True when the server closed the connection (a read ends with end of file or a reset)
  /// within `timeout`.
  bool closed_by_server(std::chrono::milliseconds timeout) {
    char byte = 0;
    boost::system::error_code result = boost::asio::error::timed_out;
    socket_.async_read_some(boost::asio::buffer(&byte, 1),
                            [&](boost::system::error_code ec, std::size_t) { result = ec; });
    run(timeout);
    return result == boost::asio::error::eof || result == boost::asio::error::connection_reset;
  }

  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  void run(std::chrono::milliseconds timeout) {
    io_.restart();
    io_.run_for(timeout);
    if (!io_.stopped()) {
      // Timed out: cancel the operation and let its handler run.
      boost::system::error_code ignored;
      socket_.cancel(ignored);
      io_.restart();
      io_.run();
    }
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

/// A request line plus the usual headers, for `method target`, closing the connection after.
inline std::string request(const std::string& method, const std::string& target,
                           const std::string& extra_headers = {}, bool keep_alive = false) {
  return method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers +
         (keep_alive ? "" : "Connection: close\r\n") + "\r\n";
}

/// One request on a new connection.
inline HttpResult http_get(std::uint16_t port, const std::string& target,
                           const std::string& method = "GET") {
  HttpConnection c(port);
  return c.exchange(request(method, target), method == "HEAD");
}

}  // namespace rill_test
