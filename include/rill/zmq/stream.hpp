#pragma once

#include <string>

#include "rill/dstream.hpp"
#include "rill/streaming_context.hpp"
#include "rill/zmq/options.hpp"

namespace rill::zmq {

/// A stream of the messages a ZeroMQ SUB or PULL socket receives: one element per message, its
/// parts joined with SourceOptions::join_parts (Spark's ZeroMQUtils.createStream, one element per
/// message instead of a user function over the parts). A receiver: a thread of its own reads the
/// socket into rill's bounded receiver queue, and each batch takes what was received since the
/// last. At most once, as socket_text_stream: what ZeroMQ or rill's queue held when the process
/// ended is lost, and a SUB socket drops (and counts, source_stats() `skipped`) what arrives
/// while the queue is full; see SocketType and docs/zmq.md.
///
/// Before ctx.start(); nothing connects before it. The receiver stops within 50 ms of stop().
/// Throws rill::InvalidArgument for an empty endpoint or one without `transport://`, an
/// `inproc://` endpoint without SourceOptions::context, a SUB socket without subscriptions, a
/// PULL socket with subscriptions other than `{""}`, or a receive_hwm not positive;
/// rill::IllegalState after ctx.start(). A bind or connect ZeroMQ refuses (the address in use,
/// an unknown transport) fails the context with a rill::IoError when the receiver starts.
/// Thread-safe like the other graph-building calls.
DStream<std::string> stream(StreamingContext& ctx, SourceOptions options);

}  // namespace rill::zmq
