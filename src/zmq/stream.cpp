#include "rill/zmq/stream.hpp"

#include <memory>
#include <string_view>
#include <utility>

#include "rill/core/errors.hpp"
#include "rill/sources/detail/receiver_source.hpp"
#include "zmq/zmq_receiver.hpp"

namespace rill::zmq {

namespace {

void check(const SourceOptions& options) {
  const std::string_view endpoint = options.endpoint;
  const auto scheme = endpoint.find("://");
  if (scheme == std::string_view::npos || scheme == 0 || scheme + 3 == endpoint.size()) {
    throw InvalidArgument(fmt::format(
        "rill::zmq::stream: the endpoint '{}' is not transport://address (tcp://127.0.0.1:5556, "
        "ipc:///tmp/feed, inproc://feed)",
        options.endpoint));
  }
  if (endpoint.substr(0, scheme) == "inproc" && options.context == nullptr) {
    throw InvalidArgument(fmt::format(
        "rill::zmq::stream: the endpoint '{}' is inproc://, which reaches only sockets of the "
        "same ZeroMQ context: pass the peer's context in SourceOptions::context",
        options.endpoint));
  }
  if (options.socket == SocketType::sub && options.subscriptions.empty()) {
    throw InvalidArgument(
        "rill::zmq::stream: a SUB socket without subscriptions receives nothing; subscribe to "
        "{\"\"} for every message, or to topic prefixes");
  }
  if (options.socket == SocketType::pull &&
      !(options.subscriptions.empty() ||
        (options.subscriptions.size() == 1 && options.subscriptions[0].empty()))) {
    throw InvalidArgument(
        "rill::zmq::stream: a PULL socket cannot filter by topic; leave subscriptions {\"\"} or "
        "use SocketType::sub with a PUB peer");
  }
  if (options.receive_hwm <= 0) {
    throw InvalidArgument(fmt::format(
        "rill::zmq::stream: receive_hwm must be positive (messages), got {}; ZeroMQ's 0 (no "
        "limit) would let memory grow without bound",
        options.receive_hwm));
  }
}

}  // namespace

DStream<std::string> stream(StreamingContext& ctx, SourceOptions options) {
  check(options);
  auto receiver = std::make_shared<detail::ZmqReceiver>(std::move(options));
  // Neither socket type acknowledges: what ZeroMQ and the queue hold is lost, at most once.
  return ctx.add_source<std::string>(std::make_shared<rill::detail::ReceiverSource<std::string>>(
      "zmq_stream", std::move(receiver),
      rill::detail::QueueBounds{ctx.config().receiver_queue_capacity(),
                                ctx.config().receiver_queue_bytes()},
      SourceProperties{.delivery = Delivery::at_most_once, .replayable = true}));
}

}  // namespace rill::zmq
