// What the applications that run on generated input or on a TCP server share (recommendations,
// risk_check): a portable seeded generator, the printer that sorts and flushes each batch's
// lines, the input's options and the batch tag of a printed line.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <rill/rill.hpp>

namespace rill_examples {

/// splitmix64: a small generator whose sequence is the same on every platform (the standard
/// distributions are not), so the bundled input is the same everywhere.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// A whole number in [lo, hi].
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }

 private:
  std::uint64_t state_;
};

/// Prints lines, sorted, under one lock (output operations of a batch may run concurrently), and
/// flushes after each batch.
class Printer {
 public:
  void batch(std::vector<std::string> lines) {
    std::sort(lines.begin(), lines.end());
    const std::lock_guard lock{mutex_};
    for (const std::string& line : lines)
      std::fputs(line.c_str(), stdout);
    std::fflush(stdout);
  }

 private:
  std::mutex mutex_;
};

/// Where the lines come from: the generator (default) or a TCP server.
struct Input {
  std::uint64_t seed = 16;
  std::string host = "127.0.0.1";
  std::optional<std::uint16_t> port;  // set: read the server's lines instead of the generator's
  std::optional<int> seconds;         // with a port: stop gracefully after this many seconds
};

/// The batch a line is printed in: `#<n>` on the generated input (batch times 1 × interval,
/// 2 × interval, ... on the manual clock), `@<batch time in ms>` on a socket.
inline std::string batch_tag(rill::Time t, bool generated, rill::Duration interval) {
  return generated ? "#" + std::to_string(t.milliseconds() / interval.count()) + " "
                   : "@" + std::to_string(t.milliseconds()) + " ";
}

}  // namespace rill_examples
