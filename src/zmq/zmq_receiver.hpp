#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "rill/sources/receiver.hpp"
#include "rill/zmq/options.hpp"
#include "sources/log_limiter.hpp"

namespace rill::zmq::detail {

/// rill::zmq::stream's receiver: a SUB or PULL socket read on a thread of its own, polled with
/// a timeout (kPollInterval) so that on_stop() returns promptly. A SUB socket's messages are
/// stored without waiting (try_store) and dropped, counted as skipped, while the queue is full;
/// a PULL socket's are stored waiting (store), which pushes back on the PUSH peer.
class ZmqReceiver final : public Receiver<std::string> {
 public:
  explicit ZmqReceiver(SourceOptions options);
  ~ZmqReceiver() override;
  ZmqReceiver(const ZmqReceiver&) = delete;
  ZmqReceiver& operator=(const ZmqReceiver&) = delete;

  /// Makes the socket (and the context, unless SourceOptions::context), connects or binds,
  /// starts the thread. Throws rill::IoError when ZeroMQ refuses the socket, the bind or the
  /// connect.
  void on_start() override;
  /// Ends the thread (within kPollInterval), closes the socket and the stream's own context.
  void on_stop() override;

 private:
  void run();
  /// The next whole message, its parts joined, if one has arrived; nullopt otherwise.
  std::optional<std::string> receive();
  /// Stores a message as the socket type says: a SUB socket's without waiting (dropped and
  /// counted when the queue is full), a PULL socket's waiting. Throws rill::Stopped.
  void deliver(std::string& message, rill::detail::LogLimiter& drop_log);
  void close();

  SourceOptions options_;
  std::unique_ptr<::zmq::context_t> own_context_;
  std::optional<::zmq::socket_t> socket_;
  ::zmq::message_t part_;  // the receive thread's buffer
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace rill::zmq::detail
