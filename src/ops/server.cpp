// The operations server: a listening socket and its connections on one io_context thread.
#include "rill/ops/server.hpp"

#include <fmt/format.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/system_error.hpp>

#include <exception>
#include <memory>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "ops/session.hpp"
#include "rill/core/errors.hpp"
#include "rill/core/logging.hpp"
#include "rill/streaming_context.hpp"

namespace rill::ops {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

/// What a connection beyond ServeOptions::max_connections gets before it is closed.
constexpr std::string_view kBusy =
    "HTTP/1.1 503 Service Unavailable\r\nServer: rill\r\nContent-Type: text/plain\r\n"
    "Content-Length: 45\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
    "Too many connections to the operations server\n";

void check_options(const ServeOptions& o) {
  if (o.max_connections == 0) {
    throw InvalidArgument("rill::ops::serve: max_connections must be at least 1, got 0");
  }
  if (o.max_header_bytes < 1024 || o.max_header_bytes > (1u << 20)) {
    throw InvalidArgument(
        fmt::format("rill::ops::serve: max_header_bytes must be from 1024 to 1048576, got {}",
                    o.max_header_bytes));
  }
  if (o.idle_timeout.count() < 1) {
    throw InvalidArgument(fmt::format(
        "rill::ops::serve: idle_timeout must be at least 1 ms, got {} ms", o.idle_timeout.count()));
  }
}

asio::ip::address parse_address(const std::string& text) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(text, ec);
  if (ec) {
    throw InvalidArgument(fmt::format(
        "rill::ops::serve: '{}' is not an IP address; give one such as 127.0.0.1 (this machine "
        "only), 0.0.0.0 (every IPv4 interface) or ::1",
        text));
  }
  return address;
}

}  // namespace

class Server::Impl {
 public:
  Impl(StreamingContext& ctx, ServeOptions options)
      : shared_{detail::Router(ctx), options.max_header_bytes, options.idle_timeout, 0},
        options_(std::move(options)),
        acceptor_(io_),
        retry_(io_) {
    const tcp::endpoint endpoint{parse_address(options_.address), options_.port};
    try {
      acceptor_.open(endpoint.protocol());
      acceptor_.set_option(tcp::acceptor::reuse_address(true));
      acceptor_.bind(endpoint);
      acceptor_.listen(asio::socket_base::max_listen_connections);
    } catch (const boost::system::system_error& e) {
      throw IoError(fmt::format(
          "rill::ops::serve: cannot listen on {}:{}: {} (choose another port, 0 for any free "
          "one, or an address of this machine)",
          options_.address, options_.port, e.code().message()));
    }
    port_ = acceptor_.local_endpoint().port();
    accept();
    thread_ = std::thread([this] { run(); });
    get_logger()->info("rill::ops: serving the status page and metrics on http://{}:{}/",
                       endpoint.address().is_v6() ? "[" + options_.address + "]" : options_.address,
                       port_);
  }

  ~Impl() {
    // Ends run(): no handler runs after this. The connections' pending operations (which own
    // their sessions) are destroyed with io_, which closes their sockets.
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] const std::string& address() const noexcept { return options_.address; }

 private:
  void run() {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        // Only std::bad_alloc can get here; the server goes on.
        get_logger()->error("rill::ops: a request failed: {}", e.what());
      }
    }
  }

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) {
        // Out of file descriptors, or the like: try again a little later, without spinning.
        get_logger()->warn("rill::ops: accepting a connection failed: {}", ec.message());
        retry_.expires_after(std::chrono::milliseconds(100));
        retry_.async_wait([this](boost::system::error_code wait_ec) {
          if (!wait_ec) accept();
        });
        return;
      }
      if (shared_.open >= options_.max_connections) {
        refuse(std::move(socket));
      } else {
        std::make_shared<detail::Session>(std::move(socket), shared_)->start();
      }
      accept();
    });
  }

  /// Answers 503 and closes: a constant reply that fits in the socket's send buffer, so the
  /// write completes at once whatever the client does.
  static void refuse(tcp::socket socket) {
    auto owned = std::make_shared<tcp::socket>(std::move(socket));
    asio::async_write(*owned, asio::buffer(kBusy.data(), kBusy.size()),
                      [owned](boost::system::error_code, std::size_t) {
                        boost::system::error_code ignored;
                        owned->shutdown(tcp::socket::shutdown_both, ignored);
                        owned->close(ignored);
                      });
  }

  // Declaration order: shared_ outlives io_, whose destruction destroys the sessions that count
  // themselves in it.
  detail::SessionShared shared_;
  ServeOptions options_;
  asio::io_context io_{1};
  tcp::acceptor acceptor_;
  asio::steady_timer retry_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::Server(Server&&) noexcept = default;
Server& Server::operator=(Server&&) noexcept = default;
Server::~Server() = default;

std::uint16_t Server::port() const noexcept {
  return impl_ ? impl_->port() : 0;
}

const std::string& Server::address() const noexcept {
  static const std::string none;
  return impl_ ? impl_->address() : none;
}

void Server::stop() noexcept {
  impl_.reset();
}

Server serve(StreamingContext& ctx, ServeOptions options) {
  check_options(options);
  return Server(std::make_unique<Server::Impl>(ctx, std::move(options)));
}

}  // namespace rill::ops
