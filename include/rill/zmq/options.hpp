#pragma once

#include <string>
#include <vector>

#include <zmq.hpp>

namespace rill::zmq {

/// The ZeroMQ socket a rill::zmq::stream reads with.
enum class SocketType {
  /// ZMQ_SUB, for a PUB (or XPUB) peer. PUB/SUB drops what a slow subscriber cannot take: when
  /// rill's receiver queue is full, rill drops the message and counts it (source_stats()
  /// `skipped`), so that the reading never stops and the loss is visible.
  sub,
  /// ZMQ_PULL, for a PUSH peer. PUSH/PULL pushes back: when rill's receiver queue is full, the
  /// receiver waits, ZeroMQ queues up to SourceOptions::receive_hwm messages, then the PUSH
  /// peer's send blocks (or goes to its other PULL peers). Nothing is dropped.
  pull,
};

/// Options of rill::zmq::stream (Spark's ZeroMQ receiver, ZeroMQUtils.createStream).
struct SourceOptions {
  /// The ZeroMQ endpoint, `transport://address`: `tcp://127.0.0.1:5556`, `ipc:///tmp/feed`,
  /// `inproc://feed` (which needs `context`). Required.
  std::string endpoint{};
  /// The socket type; its peer is a PUB (sub) or a PUSH (pull) socket.
  SocketType socket = SocketType::sub;
  /// SUB only: the topic prefixes subscribed to (ZMQ_SUBSCRIBE, matched against the bytes at
  /// the start of a message's first part); `{""}` (the default) receives every message. Must
  /// not be empty for a SUB socket (it would receive nothing); a PULL socket takes `{""}` or
  /// `{}` only.
  std::vector<std::string> subscriptions = {""};
  /// Put between the parts of a multipart message, which becomes one element: the default
  /// (empty) concatenates the parts' bytes; `"\n"` or `" "` keeps a topic part apart from its
  /// payload. A single-part message is its bytes, whatever this is.
  std::string join_parts{};
  /// false (the default): connect to `endpoint`, as Spark's ZeroMQ receiver does, so that one
  /// publisher can feed many subscribers; ZeroMQ connects in the background and reconnects,
  /// so the peer may bind before or after the context starts. true: bind `endpoint` (the
  /// peers connect); a bind that fails (the address in use) fails the context with a
  /// rill::IoError.
  bool bind = false;
  /// ZMQ_RCVHWM: the messages ZeroMQ queues for this socket on top of rill's receiver queue
  /// (Config::receiver_queue_capacity, receiver_queue_bytes). ZeroMQ's default, 1000. Must be
  /// positive: ZeroMQ's 0 (no limit) would let memory grow without bound.
  int receive_hwm = 1000;
  /// The ZeroMQ context the socket is made in; nullptr (the default): the stream's own context,
  /// with one I/O thread, made when the receiver starts and closed when it stops. An
  /// `inproc://` endpoint reaches only sockets of the same context: pass the peer's. A context
  /// passed here must outlive the StreamingContext's stop() (terminating it while the stream
  /// runs ends the stream's receiving, logged and counted as an error).
  ::zmq::context_t* context = nullptr;
};

}  // namespace rill::zmq
