// Exactly once across SIGKILL: a child process runs tests/checkpoint/pipeline.hpp from its
// checkpoint directory; the test kills it at every write step (through RILL_CRASH_POINT) and
// after random delays, restarts it until it finishes, and compares every output file, byte for
// byte, with what a plain model below computes. RILL_CRASH_KILLS sets the random kills (default
// 20; the `slow` ctest label runs 300).
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <thread>
#include <tuple>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <unistd.h>

#include <gtest/gtest.h>
#include <rill/rill.hpp>

#include "checkpoint/pipeline.hpp"
#include "support/child_process.hpp"

namespace fs = std::filesystem;

namespace {

constexpr int kBatches = 150;

using rill_test::Outcome;

/// A run of the crash child on `ckpt` and `out` (all kBatches), or with `child_args`.
class Child : public rill_test::Child {
 public:
  Child(const fs::path& ckpt, const fs::path& out, const std::string& crash_point)
      : Child({ckpt.string(), out.string(), std::to_string(kBatches)}, crash_point) {}
  Child(std::vector<std::string> child_args, const std::string& crash_point)
      : rill_test::Child(RILL_CRASH_CHILD, std::move(child_args), crash_point) {}
};

/// The event-time part of the model: words counted per tumbling 3 s event-time window in append
/// mode, watermark delay 1 s (shared/api.md's rules, one input), the late rows, and the first
/// event of each word (drop_duplicates).
void event_time_model(std::map<std::string, std::string>& files) {
  const auto input = rill_test::events(kBatches);
  std::optional<std::int64_t> input_wm, in_force, late_bound;
  std::map<std::tuple<std::int64_t, std::string>, long> state;  // (window start, word) -> count
  std::map<std::string, std::int64_t> remembered;  // drop_duplicates: word -> its event time
  auto floor3 = [](std::int64_t t) { return t - (((t % 3000) + 3000) % 3000); };
  for (int b = 0; b < kBatches; ++b) {
    const auto t = std::to_string((b + 1) * 1000);
    late_bound = in_force;
    in_force = input_wm;
    std::vector<rill_test::Event> late;
    for (const auto& e : input[static_cast<std::size_t>(b)]) {
      const std::int64_t start = floor3(e.second);
      if (late_bound && start + 3000 <= *late_bound) {
        late.push_back(e);
      } else {
        ++state[{start, e.first}];
      }
    }
    std::string text;
    for (auto it = state.begin(); it != state.end();) {
      const auto& [start, word] = it->first;
      if (in_force && start + 3000 <= *in_force) {
        text += fmt::format("([{},{}),{},{})\n", start, start + 3000, word, it->second);
        it = state.erase(it);
      } else {
        ++it;
      }
    }
    files["event_counts-" + t] = text;
    std::sort(late.begin(), late.end());
    text.clear();
    for (const auto& e : late)
      text += fmt::format("({},{})\n", e.first, e.second);
    files["late_events-" + t] = text;
    // drop_duplicates(word): late rows out, then the first row of each word not remembered
    // passes, then words with wm(t) >= their event time are forgotten.
    std::vector<rill_test::Event> passed;
    for (const auto& e : input[static_cast<std::size_t>(b)]) {
      if (late_bound && e.second <= *late_bound) continue;
      if (remembered.emplace(e.first, e.second).second) passed.push_back(e);
    }
    std::erase_if(remembered, [&](const auto& kv) { return in_force && *in_force >= kv.second; });
    std::sort(passed.begin(), passed.end());
    text.clear();
    for (const auto& e : passed)
      text += fmt::format("({},{})\n", e.first, e.second);
    files["first_events-" + t] = text;
    for (const auto& e : input[static_cast<std::size_t>(b)]) {
      if (!input_wm || e.second - 1000 > *input_wm) input_wm = e.second - 1000;
    }
  }
}

/// The model: what the pipeline must write, computed without rill.
std::map<std::string, std::string> model() {
  const auto input = rill_test::lines(kBatches);
  std::vector<std::map<std::string, int>> per_batch;
  for (const auto& batch : input) {
    std::map<std::string, int> counts;
    for (const auto& line : batch) {
      std::istringstream words(line);
      for (std::string w; words >> w;)
        ++counts[w];
    }
    per_batch.push_back(std::move(counts));
  }
  std::map<std::string, std::string> files;
  std::map<std::string, int> totals;
  std::map<std::string, std::pair<int, int>> sessions;  // word -> (count, last batch time)
  for (int b = 0; b < kBatches; ++b) {
    const auto t = std::to_string((b + 1) * 1000);
    for (const auto& [w, n] : per_batch[static_cast<std::size_t>(b)])
      totals[w] += n;
    std::string text;
    for (const auto& [w, n] : totals)
      text += "(" + w + "," + std::to_string(n) + ")\n";
    files["totals-" + t] = text;
    std::map<std::string, int> recent;
    long words = 0;
    for (int i = std::max(0, b - 2); i <= b; ++i) {
      for (const auto& [w, n] : per_batch[static_cast<std::size_t>(i)]) {
        recent[w] += n;
        if (i >= b - 1) words += n;
      }
    }
    text.clear();
    for (const auto& [w, n] : recent)
      text += "(" + w + "," + std::to_string(n) + ")\n";
    files["recent-" + t] = text;
    files["window_count-" + t] = std::to_string(words) + "\n";
    // Sessions: one line per word occurrence with its running count, then the words idle for
    // more than 2 s end (map_with_state with a 2 s timeout).
    std::vector<std::string> lines;
    const int now = (b + 1) * 1000;
    for (const auto& line : input[static_cast<std::size_t>(b)]) {
      std::istringstream in(line);
      for (std::string w; in >> w;) {
        auto& session = sessions[w];
        lines.push_back(w + " " + std::to_string(++session.first));
        session.second = now;
      }
    }
    for (auto it = sessions.begin(); it != sessions.end();) {
      if (it->second.second + 2000 < now) {
        lines.push_back(it->first + " ended at " + std::to_string(it->second.first));
        it = sessions.erase(it);
      } else {
        ++it;
      }
    }
    std::sort(lines.begin(), lines.end());
    text.clear();
    for (const auto& l : lines)
      text += l + "\n";
    files["sessions-" + t] = text;
  }
  event_time_model(files);
  return files;
}

using rill_test::read_outputs;

int random_kills() {
  return rill_test::crash_kills(20);
}

}  // namespace

TEST(CrashRecovery, OutputsEqualTheModelAfterKillsAtEveryStep) {
  const fs::path root = fs::temp_directory_path() / fmt::format("rill-crash-{}", ::getpid());
  fs::remove_all(root);
  fs::create_directories(root / "out");
  const fs::path ckpt = root / "ckpt";

  std::map<std::string, int> kills;  // per phase
  // Kill at each write step of seal records, checkpoints and the commit between outputs and
  // the checkpoint: the n-th passage of the next run.
  for (int n : {1, 2, 3}) {
    for (const char* step : {"write", "fsync", "rename", "dirsync", "commit"}) {
      Child child(ckpt, root / "out", fmt::format("{}:{}", step, n));
      const Outcome outcome = child.wait();
      if (outcome.killed) {
        ASSERT_EQ(outcome.code, SIGKILL);
        ++kills[step];
      } else {
        ASSERT_EQ(outcome.code, 0) << "the child failed after a crash at " << step;
      }
    }
  }
  // Kill after random delays.
  std::mt19937 rng(static_cast<unsigned>(::getpid()));
  std::uniform_int_distribution<int> delay_us(0, 30000);
  const int n = random_kills();
  int rounds = 0;  // runs that consumed the whole input between kills
  for (int i = 0; i < n; ++i) {
    Child child(ckpt, root / "out", "");
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
    child.kill();
    const Outcome outcome = child.wait();
    if (outcome.killed) {
      ++kills["random"];
    } else {
      ASSERT_EQ(outcome.code, 0) << "the child failed after a random kill";
      // The input is consumed: check this round, then start another from nothing, so that
      // every kill asked for can land.
      ASSERT_EQ(read_outputs(root / "out"), model()) << "round " << rounds;
      ++rounds;
      fs::remove_all(ckpt);
      fs::remove_all(root / "out");
      fs::create_directories(root / "out");
    }
  }
  // Run to the end.
  Child last(ckpt, root / "out", "");
  const Outcome final_run = last.wait();
  ASSERT_FALSE(final_run.killed);
  ASSERT_EQ(final_run.code, 0);

  std::string summary;
  for (const auto& [phase, count] : kills)
    summary += fmt::format(" {}={}", phase, count);
  std::printf("kills per phase:%s; %d round(s) completed between random kills\n", summary.c_str(),
              rounds);
  for (const char* step : {"write", "fsync", "rename", "dirsync", "commit"}) {
    EXPECT_GT(kills[step], 0) << "no kill landed at " << step;
  }
  EXPECT_EQ(read_outputs(root / "out"), model());
  fs::remove_all(root);
}

TEST(CrashRecovery, ADamagedSealRecordIsSealedAgain) {
  for (const std::string how : {"flip", "truncate", "delete"}) {
    SCOPED_TRACE(how);
    const fs::path root = fs::temp_directory_path() / fmt::format("rill-seal-{}", ::getpid());
    fs::remove_all(root);
    fs::create_directories(root / "out");
    const fs::path ckpt = root / "ckpt";
    // Killed between batch outputs and their checkpoint: a seal record stays behind.
    Child first(ckpt, root / "out", "commit:5");
    ASSERT_TRUE(first.wait().killed);
    std::vector<fs::path> seals;
    for (const auto& e : fs::directory_iterator(ckpt)) {
      if (e.path().filename().string().starts_with("sealed-")) seals.push_back(e.path());
    }
    ASSERT_FALSE(seals.empty());
    for (const auto& seal : seals) {
      if (how == "flip") {
        std::fstream f(seal, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(std::max<std::streamoff>(0, static_cast<std::streamoff>(fs::file_size(seal)) - 3));
        f.put('\x5a');  // fails its checksum
      } else if (how == "truncate") {
        fs::resize_file(seal, fs::file_size(seal) / 2);
      } else {
        fs::remove(seal);
      }
    }
    Child second(ckpt, root / "out", "");
    const Outcome outcome = second.wait();
    ASSERT_FALSE(outcome.killed);
    ASSERT_EQ(outcome.code, 0);
    EXPECT_EQ(read_outputs(root / "out"), model());
    fs::remove_all(root);
  }
}

namespace {
/// The source of the reliable-receiver test: sends "<offset>\n" for 0..last, resending from the
/// last acknowledged offset on every new connection.
class OffsetServer {
 public:
  explicit OffsetServer(std::int64_t last) : last_(last) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(listen_fd_, 4);
    thread_ = std::thread([this] { serve(); });
  }
  ~OffsetServer() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    thread_.join();
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] int connections() const { return connections_.load(); }

 private:
  void serve() {
    while (!stop_) {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      ++connections_;
      std::atomic<bool> open{true};
      std::thread acks([&] {
        std::string buffer;
        char chunk[256];
        for (;;) {
          const auto n = ::read(fd, chunk, sizeof chunk);
          if (n <= 0) break;
          buffer.append(chunk, static_cast<std::size_t>(n));
          for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n')) {
            const auto acked = std::stoll(buffer.substr(4, nl - 4));
            if (acked > acked_) acked_ = acked;
            buffer.erase(0, nl + 1);
          }
        }
        open = false;
      });
      for (std::int64_t next = acked_ + 1; open && next <= last_;) {
        std::string lines;
        for (int i = 0; i < 40 && next <= last_; ++i)
          lines += std::to_string(next++) + "\n";
        if (::send(fd, lines.data(), lines.size(), MSG_NOSIGNAL) < 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      acks.join();  // until the client closes or dies
      ::close(fd);
    }
  }

  std::int64_t last_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> acked_{-1};
  std::atomic<int> connections_{0};
  std::thread thread_;
};
}  // namespace

TEST(CrashRecovery, AReliableReceiverLosesNothingAndCountsNothingTwice) {
  // Enough lines that every random kill lands while the server is still sending.
  const int random = std::max(5, random_kills() / 2);
  const std::int64_t kLast = std::max<std::int64_t>(19999, 2000LL * random - 1);
  const fs::path root = fs::temp_directory_path() / fmt::format("rill-reliable-{}", ::getpid());
  fs::remove_all(root);
  fs::create_directories(root / "out");
  OffsetServer server(kLast);
  const std::vector<std::string> args = {"receiver", (root / "ckpt").string(),
                                         (root / "out").string(), std::to_string(server.port()),
                                         std::to_string(kLast)};
  std::map<std::string, int> kills;
  // Random kills first, while the server still has most of its lines to send (about 40,000 a
  // second), then kills inside the log append, a seal or checkpoint write, and the commit.
  std::mt19937 rng(static_cast<unsigned>(::getpid()) + 1);
  std::uniform_int_distribution<int> delay_ms(10, 60);
  for (int i = 0; i < random; ++i) {
    Child child(args, "");
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    child.kill();
    if (child.wait().killed) ++kills["random"];
  }
  for (int n : {1, 3}) {
    for (const char* step : {"wal", "write", "commit"}) {
      Child child(args, fmt::format("{}:{}", step, n));
      const Outcome outcome = child.wait();
      if (outcome.killed) ++kills[step];
    }
  }
  Child last(args, "");
  const Outcome final_run = last.wait();
  ASSERT_FALSE(final_run.killed);
  ASSERT_EQ(final_run.code, 0);

  std::map<std::int64_t, int> seen;
  for (const auto& [name, text] : read_outputs(root / "out")) {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
      ++seen[std::stoll(line)];
  }
  std::string summary;
  for (const auto& [phase, count] : kills)
    summary += fmt::format(" {}={}", phase, count);
  std::printf("reliable receiver: kills per phase:%s, %d connections\n", summary.c_str(),
              server.connections());
  EXPECT_GT(kills["wal"], 0);
  EXPECT_GT(kills["random"], 0);
  std::string missing;  // the lost ranges, to tell a lost block from a lost batch
  for (std::int64_t o = 0; o <= kLast; ++o) {
    if (seen.contains(o)) continue;
    std::int64_t end = o;
    while (end + 1 <= kLast && !seen.contains(end + 1))
      ++end;
    missing += fmt::format(" [{},{}]", o, end);
    o = end;
  }
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kLast + 1))
      << "lines lost:" << missing << " (kept " << root << ")";
  for (const auto& [offset, count] : seen)
    ASSERT_EQ(count, 1) << "offset " << offset << " twice";
  EXPECT_EQ(seen.begin()->first, 0);
  EXPECT_EQ(seen.rbegin()->first, kLast);
  fs::remove_all(root);
}
