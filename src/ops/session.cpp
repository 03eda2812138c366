// One HTTP connection of the operations server.
#include "ops/session.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <exception>
#include <string_view>
#include <utility>
#include "rill/core/logging.hpp"

namespace rill::ops::detail {
namespace beast = boost::beast;
namespace http = beast::http;

Session::Session(boost::asio::ip::tcp::socket socket, SessionShared& shared)
    : stream_(std::move(socket)), shared_(shared) {
  ++shared_.open;
}

Session::~Session() {
  --shared_.open;
}

void Session::start() {
  read_request();
}

void Session::close() {
  beast::error_code ignored;
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.close();
}

void Session::read_request() {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(shared_.max_header_bytes));
  // Every endpoint is read-only: a request with a body is refused (empty_body's parser fails
  // with unexpected_body as soon as a Content-Length above 0 or chunked encoding is seen).
  parser_->body_limit(0);
  stream_.expires_after(shared_.idle_timeout);
  http::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
}

void Session::on_read(beast::error_code ec) {
  if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
      ec == boost::asio::error::operation_aborted || ec == boost::asio::error::connection_reset ||
      ec == boost::asio::error::eof) {
    close();
    return;
  }
  const unsigned version = parser_->get().version() == 10 ? 10 : 11;
  if (ec == http::error::header_limit) {
    write(error_response(http::status::request_header_fields_too_large, version, false));
    return;
  }
  if (ec == http::error::unexpected_body || ec == http::error::body_limit) {
    write(error_response(http::status::payload_too_large, version, false));
    return;
  }
  if (ec) {
    // Anything else malformed: a bad request line, bad headers, a bad chunk.
    write(error_response(http::status::bad_request, version, false));
    return;
  }
  Response response;
  try {
    response = shared_.router.handle(parser_->get());
  } catch (const std::exception& e) {
    get_logger()->error("rill::ops: {} failed: {}", std::string_view(parser_->get().target()),
                        e.what());
    response = error_response(http::status::internal_server_error, version, false);
  }
  write(std::move(response));
}

void Session::write(Response response) {
  response_ = std::move(response);
  const bool close_after = response_->need_eof();
  stream_.expires_after(shared_.idle_timeout);
  http::async_write(stream_, *response_,
                    [self = shared_from_this(), close_after](beast::error_code ec, std::size_t) {
                      self->on_write(close_after, ec);
                    });
}

void Session::on_write(bool close_after, beast::error_code ec) {
  response_.reset();
  if (ec) {
    close();
    return;
  }
  if (close_after) {
    linger();
    return;
  }
  read_request();
}

void Session::linger() {
  // Closing a socket with unread bytes makes the kernel send a reset, which may destroy the
  // response still in flight (the client of a refused request is usually still sending). So:
  // end our side, then read and drop what still comes, briefly and boundedly, until the client
  // closes.
  beast::error_code ignored;
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  stream_.expires_after(std::min<Duration>(shared_.idle_timeout, kLinger));
  drain();
}

void Session::drain() {
  stream_.async_read_some(boost::asio::buffer(discard_),
                          [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                            self->drained_ += n;
                            if (ec || self->drained_ > kMaxDrainBytes) {
                              self->close();
                            } else {
                              self->drain();
                            }
                          });
}

}  // namespace rill::ops::detail
