#pragma once
// A reliable receiver for the crash test: reads "<offset>\n" lines from a test server, stores
// them in blocks tagged with their last offset, and acknowledges that offset ("ACK <n>\n") only
// after store() returned (the block is in the write-ahead log). After a restart it skips what
// its recovered position says is already stored; the server resends from the last ack.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <rill/rill.hpp>

namespace rill_test {

class ReliableReceiver final : public rill::Receiver<std::int64_t> {
 public:
  ReliableReceiver(std::uint16_t port, std::int64_t last_offset)
      : port_(port), last_offset_(last_offset) {}

  void on_start() override {
    stored_up_to_ = -1;
    if (auto position = recovered_position()) stored_up_to_ = std::stoll(*position);
    thread_ = std::thread([this] { run(); });
  }
  void on_stop() override {
    stop_ = true;
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
  }
  /// True once every offset up to the last is stored (in this run or before a restart).
  [[nodiscard]] bool done() const { return stored_up_to_.load() >= last_offset_; }

 private:
  void run() {
    while (!stop_ && !done()) {
      fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(port_);
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd_);
        fd_ = -1;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the server is not up yet
        continue;
      }
      read_lines();
      ::close(fd_);
      fd_ = -1;
    }
  }

  void read_lines() {
    std::string buffer;
    char chunk[4096];
    for (;;) {
      const auto n = ::read(fd_, chunk, sizeof chunk);
      if (n <= 0) return;
      buffer.append(chunk, static_cast<std::size_t>(n));
      std::vector<std::int64_t> block;
      std::size_t start = 0;
      for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n', start)) {
        const std::int64_t offset = std::stoll(buffer.substr(start, nl - start));
        start = nl + 1;
        if (offset > stored_up_to_ + static_cast<std::int64_t>(block.size()))
          block.push_back(offset);
      }
      buffer.erase(0, start);
      if (block.empty()) {
        if (!ack(stored_up_to_)) return;
        continue;
      }
      const std::int64_t last = block.back();
      try {
        store(std::move(block), std::to_string(last));
      } catch (const rill::Stopped&) {
        return;
      }
      stored_up_to_ = last;
      if (!ack(last)) return;
      if (done()) return;
    }
  }

  bool ack(std::int64_t offset) {
    const std::string line = "ACK " + std::to_string(offset) + "\n";
    return ::write(fd_, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  }

  std::uint16_t port_;
  std::int64_t last_offset_;
  std::atomic<std::int64_t> stored_up_to_{-1};
  std::atomic<bool> stop_{false};
  std::atomic<int> fd_{-1};
  std::thread thread_;
};

}  // namespace rill_test
