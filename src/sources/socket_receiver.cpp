#include "sources/socket_receiver.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "rill/core/detail/rill_thread.hpp"
#include "rill/core/logging.hpp"
#include "sources/log_limiter.hpp"

namespace rill::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

/// One run of the receiver, from on_start() to on_stop(); lives on the io thread.
struct SocketReceiver::Session : std::enable_shared_from_this<SocketReceiver::Session> {
  Session(SocketReceiver& owner, std::string host, std::uint16_t port, SocketOptions options)
      : owner_(owner),
        host_(std::move(host)),
        port_(port),
        options_(options),
        socket_(io_),
        resolver_(io_),
        timer_(io_),
        backoff_(options.reconnect_backoff) {}

  void run() {
    RillThreadScope scope;
    connect();
    io_.run();
  }

  void stop() {
    asio::post(io_, [self = shared_from_this()] {
      self->stopping_ = true;
      boost::system::error_code ignored;
      self->socket_.close(ignored);
      self->resolver_.cancel();
      self->timer_.cancel();
    });
  }

 private:
  void connect() {
    if (stopping_) return;
    resolver_.async_resolve(
        host_, std::to_string(port_),
        [self = shared_from_this()](const boost::system::error_code& ec,
                                    const tcp::resolver::results_type& endpoints) {
          if (self->stopping_) return;
          if (ec)
            return self->retry(fmt::format("cannot resolve {}: {}", self->host_, ec.message()));
          asio::async_connect(
              self->socket_, endpoints,
              [self](const boost::system::error_code& connect_ec, const tcp::endpoint&) {
                if (self->stopping_) return;
                if (connect_ec) {
                  return self->retry(fmt::format("cannot connect to {}:{}: {}", self->host_,
                                                 self->port_, connect_ec.message()));
                }
                logger().info("socket_text_stream: connected to {}:{}", self->host_, self->port_);
                self->backoff_ = self->options_.reconnect_backoff;
                self->failures_ = 0;
                self->read();
              });
        });
  }

  void retry(const std::string& why) {
    if (failures_++ == 0) {
      logger().warn("socket_text_stream: {}; retrying with back-off", why);
    } else {
      logger().debug("socket_text_stream: {}; retrying in {} ms", why, backoff_.count());
    }
    owner_.count_error();
    boost::system::error_code ignored;
    socket_.close(ignored);
    timer_.expires_after(backoff_);
    backoff_ = std::min(backoff_ * 2, options_.max_reconnect_backoff);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->connect();
    });
  }

  void read() {
    socket_.async_read_some(
        asio::buffer(buffer_),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
          if (self->stopping_) return;
          if (n > 0 && !self->consume(std::string_view(self->buffer_.data(), n))) return;
          if (ec) {
            // End of stream: the last line may lack its '\n' (as with readLine).
            if (!self->partial_.empty() && !self->skipping_) {
              if (self->partial_.back() == '\r') self->partial_.pop_back();
              if (!self->store({std::exchange(self->partial_, {})})) return;
            }
            self->partial_.clear();
            self->skipping_ = false;
            return self->retry(ec == asio::error::eof
                                   ? std::string("the server closed the connection")
                                   : fmt::format("connection lost: {}", ec.message()));
          }
          self->read();
        });
  }

  /// Splits received bytes into lines and stores them; false once the receiver is stopping.
  bool consume(std::string_view data) {
    std::vector<std::string> lines;
    while (!data.empty()) {
      const auto nl = data.find('\n');
      const auto piece = data.substr(0, nl);
      if (!skipping_) {
        if (partial_.size() + piece.size() > options_.max_line_bytes) {
          skipping_ = true;
          partial_.clear();
          partial_.shrink_to_fit();
          owner_.count_skipped();
          if (auto dropped = too_long_log_.allow()) {
            logger().warn("socket_text_stream: skipped a line longer than {} bytes from {}:{}{}",
                          options_.max_line_bytes, host_, port_,
                          *dropped > 0 ? fmt::format(" ({} more not logged)", *dropped) : "");
          }
        } else {
          partial_.append(piece);
        }
      }
      if (nl == std::string_view::npos) break;
      if (!skipping_) {
        if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
        lines.push_back(std::exchange(partial_, {}));
      }
      skipping_ = false;
      data.remove_prefix(nl + 1);
    }
    return lines.empty() || store(std::move(lines));
  }

  bool store(std::vector<std::string> lines) {
    try {
      owner_.store(std::move(lines));
      return true;
    } catch (const Stopped&) {
      stopping_ = true;
      boost::system::error_code ignored;
      socket_.close(ignored);
      return false;
    }
  }

 public:
  asio::io_context io_;

 private:
  SocketReceiver& owner_;
  std::string host_;
  std::uint16_t port_;
  SocketOptions options_;
  tcp::socket socket_;
  tcp::resolver resolver_;
  asio::steady_timer timer_;
  Duration backoff_;
  int failures_ = 0;
  bool stopping_ = false;
  bool skipping_ = false;
  LogLimiter too_long_log_;
  std::string partial_;
  std::array<char, 65536> buffer_{};
};

SocketReceiver::SocketReceiver(std::string host, std::uint16_t port, SocketOptions options)
    : host_(std::move(host)), port_(port), options_(options) {}

SocketReceiver::~SocketReceiver() {
  on_stop();
}

void SocketReceiver::on_start() {
  session_ = std::make_shared<Session>(*this, host_, port_, options_);
  thread_ = std::thread([session = session_] { session->run(); });
}

void SocketReceiver::on_stop() {
  if (session_) session_->stop();
  if (thread_.joinable()) thread_.join();
  session_.reset();
}

}  // namespace rill::detail
