#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "rill/sources/options.hpp"
#include "rill/sources/receiver.hpp"

namespace rill::detail {

/// socket_text_stream's receiver: a TCP client on its own Asio thread. Lines end at `\n` (a
/// trailing `\r` is dropped); a line longer than max_line_bytes is skipped, counted and logged.
/// A refused or closed connection is retried with exponential back-off (in real time: the
/// network does not follow a manual clock).
class SocketReceiver final : public Receiver<std::string> {
 public:
  SocketReceiver(std::string host, std::uint16_t port, SocketOptions options);
  ~SocketReceiver() override;

  void on_start() override;
  void on_stop() override;

 private:
  struct Session;
  std::string host_;
  std::uint16_t port_;
  SocketOptions options_;
  std::shared_ptr<Session> session_;
  std::thread thread_;
};

}  // namespace rill::detail
