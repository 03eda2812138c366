#include "zmq/zmq_receiver.hpp"

#include <cerrno>
#include <chrono>
#include <exception>
#include <utility>

#include "rill/core/detail/rill_thread.hpp"
#include "rill/core/errors.hpp"
#include "rill/core/logging.hpp"

namespace rill::zmq::detail {

namespace {
/// How long the receive thread waits for a message before it looks at the stop flag again: the
/// bound on how long on_stop() waits for it.
constexpr std::chrono::milliseconds kPollInterval{50};
}  // namespace

ZmqReceiver::ZmqReceiver(SourceOptions options) : options_(std::move(options)) {}

ZmqReceiver::~ZmqReceiver() {
  on_stop();
}

void ZmqReceiver::on_start() {
  stopping_ = false;
  const char* action = options_.bind ? "bind" : "connect to";
  try {
    ::zmq::context_t* context = options_.context;
    if (context == nullptr) {
      own_context_ = std::make_unique<::zmq::context_t>(1);
      context = own_context_.get();
    }
    socket_.emplace(*context, options_.socket == SocketType::sub ? ::zmq::socket_type::sub
                                                                 : ::zmq::socket_type::pull);
    // Nothing is ever sent: closing must not wait for anything.
    socket_->set(::zmq::sockopt::linger, 0);
    socket_->set(::zmq::sockopt::rcvhwm, options_.receive_hwm);
    if (options_.socket == SocketType::sub) {
      for (const auto& topic : options_.subscriptions)
        socket_->set(::zmq::sockopt::subscribe, topic);
    }
    if (options_.bind) {
      socket_->bind(options_.endpoint);
    } else {
      socket_->connect(options_.endpoint);
    }
  } catch (const ::zmq::error_t& e) {
    close();
    throw IoError(fmt::format("rill::zmq::stream: cannot {} {}: {}; check the endpoint{}", action,
                              options_.endpoint, e.what(),
                              options_.bind ? " and that no other socket binds it" : ""));
  }
  thread_ = std::thread([this] { run(); });
}

void ZmqReceiver::on_stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  close();
}

void ZmqReceiver::close() {
  socket_.reset();
  // No socket of it is open any more: terminating returns at once.
  own_context_.reset();
}

void ZmqReceiver::run() {
  rill::detail::RillThreadScope scope;
  rill::detail::LogLimiter drop_log;
  while (!stopping_.load(std::memory_order_relaxed)) {
    try {
      if (auto message = receive()) {
        deliver(*message, drop_log);
      } else {
        ::zmq::pollitem_t item{socket_->handle(), 0, ZMQ_POLLIN, 0};
        ::zmq::poll(&item, 1, kPollInterval);
      }
    } catch (const Stopped&) {
      return;  // stopping or restarting: on_stop() closes the socket
    } catch (const ::zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      if (e.num() == ETERM) {
        report_error(fmt::format(
            "rill::zmq::stream {}: its ZeroMQ context was terminated while the stream ran; it "
            "receives nothing more (stop the StreamingContext before terminating the context "
            "passed in SourceOptions::context)",
            options_.endpoint));
      } else {
        report_error(
            fmt::format("rill::zmq::stream {}: receiving failed: {}; it receives nothing more",
                        options_.endpoint, e.what()));
      }
      return;
    } catch (...) {
      report_error(fmt::format("rill::zmq::stream {}: receiving failed; it receives nothing more",
                               options_.endpoint),
                   std::current_exception());
      return;
    }
  }
}

void ZmqReceiver::deliver(std::string& message, rill::detail::LogLimiter& drop_log) {
  if (options_.socket == SocketType::pull) {
    store(std::move(message));
    return;
  }
  if (try_store(message)) return;
  count_skipped();
  if (auto unlogged = drop_log.allow()) {
    rill::detail::logger().warn(
        "rill::zmq::stream {}: dropped a message: rill's receiver queue is full (the batches "
        "fall behind the input; see Config::receiver_queue_capacity){}",
        options_.endpoint,
        *unlogged > 0 ? fmt::format(" ({} more dropped since the last line)", *unlogged) : "");
  }
}

std::optional<std::string> ZmqReceiver::receive() {
  auto& socket = *socket_;
  if (!socket.recv(part_, ::zmq::recv_flags::dontwait)) return std::nullopt;
  std::string message(part_.data<char>(), part_.size());
  // ZeroMQ delivers a multipart message whole: once its first part is here, all are.
  while (part_.more()) {
    if (!socket.recv(part_, ::zmq::recv_flags::none)) break;
    message.reserve(message.size() + options_.join_parts.size() + part_.size());
    message.append(options_.join_parts);
    message.append(part_.data<char>(), part_.size());
  }
  return message;
}

}  // namespace rill::zmq::detail
