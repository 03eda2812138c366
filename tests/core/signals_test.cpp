// rill::stop_on_signals: in-process (argument checks, one guard at a time, handlers restored,
// a raised signal stops a context gracefully) and against a child process that writes files
// (tests/core/signal_child.cpp): SIGTERM stops it gracefully with every received record
// written, exit code 0; a second SIGTERM stops it at once, dropping the batches that waited.

#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rill/testing.hpp>

extern char** environ;

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::atomic<int> g_previous_calls{0};
extern "C" void previous_handler(int /*sig*/) {
  ++g_previous_calls;
}

/// The handler of `sig` now.
void (*handler_of(int sig))(int) {
  struct sigaction now {};
  ::sigaction(sig, nullptr, &now);
  return now.sa_handler;
}

}  // namespace

TEST(StopOnSignals, RejectsBadSignalLists) {
  rill::testing::Harness h{1s};
  (void)h.collect(h.input<int>({{1}}));
  EXPECT_THROW((void)rill::stop_on_signals(h.context(), {}), rill::InvalidArgument);
  EXPECT_THROW((void)rill::stop_on_signals(h.context(), {SIGKILL}), rill::InvalidArgument);
  EXPECT_THROW((void)rill::stop_on_signals(h.context(), {SIGSTOP}), rill::InvalidArgument);
  EXPECT_THROW((void)rill::stop_on_signals(h.context(), {0}), rill::InvalidArgument);
  EXPECT_THROW((void)rill::stop_on_signals(h.context(), {NSIG + 1}), rill::InvalidArgument);
}

TEST(StopOnSignals, OneGuardAtATimeAndTheHandlersComeBackWhenItDies) {
  rill::testing::Harness h{1s};
  (void)h.collect(h.input<int>({{1}}));
  struct sigaction mine {};
  mine.sa_handler = previous_handler;
  sigemptyset(&mine.sa_mask);
  struct sigaction saved {};
  ASSERT_EQ(::sigaction(SIGUSR2, &mine, &saved), 0);
  {
    auto guard = rill::stop_on_signals(h.context(), {SIGUSR2});
    EXPECT_NE(handler_of(SIGUSR2), &previous_handler);
    EXPECT_THROW((void)rill::stop_on_signals(h.context(), {SIGUSR1}), rill::IllegalState);
    guard.reset();
    EXPECT_EQ(handler_of(SIGUSR2), &previous_handler);
    // A moved-from or reset guard holds nothing: a new one may be made.
    auto again = rill::stop_on_signals(h.context(), {SIGUSR2});
    rill::SignalStopGuard moved = std::move(again);
    EXPECT_NE(handler_of(SIGUSR2), &previous_handler);
  }
  EXPECT_EQ(handler_of(SIGUSR2), &previous_handler);
  EXPECT_EQ(h.context().state(), rill::ContextState::initialized) << "no signal, no stop";
  ::sigaction(SIGUSR2, &saved, nullptr);
}

// In process: the first signal stops the context gracefully (the batch it holds runs), then the
// previous handler is back, so a further signal reaches it.
TEST(StopOnSignals, ARaisedSignalStopsTheContextGracefullyThenRestoresTheHandler) {
  struct sigaction mine {};
  mine.sa_handler = previous_handler;
  sigemptyset(&mine.sa_mask);
  struct sigaction saved {};
  ASSERT_EQ(::sigaction(SIGUSR1, &mine, &saved), 0);
  g_previous_calls = 0;
  {
    rill::testing::Harness h{1s};
    auto out = h.collect(h.input<int>({{1, 2}, {3}}));
    auto guard = rill::stop_on_signals(h.context(), {SIGUSR1});
    h.run_batches(1);
    ASSERT_EQ(::raise(SIGUSR1), 0);
    EXPECT_TRUE(h.context().await_termination_for(10s));
    EXPECT_EQ(guard.signals_received(), 1);
    // The graceful stop under the manual clock ran no batch beyond what was due: batch 1000.
    EXPECT_EQ(out.batches().front(), (std::vector<int>{1, 2}));
    // Once the stop returned, the previous handler is back.
    for (int i = 0; i < 10000 && handler_of(SIGUSR1) != &previous_handler; ++i)
      std::this_thread::sleep_for(1ms);
    EXPECT_EQ(handler_of(SIGUSR1), &previous_handler);
    ASSERT_EQ(::raise(SIGUSR1), 0);
    EXPECT_EQ(g_previous_calls.load(), 1);
  }
  ::sigaction(SIGUSR1, &saved, nullptr);
}

#ifdef RILL_SIGNAL_CHILD
namespace {

/// A running signal_child with its stdout on a pipe.
class Child {
 public:
  Child(const fs::path& out, const char* mode) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    const std::string dir = out.string();
    std::vector<char*> argv{const_cast<char*>(RILL_SIGNAL_CHILD), const_cast<char*>(dir.c_str()),
                            const_cast<char*>(mode), nullptr};
    const int rc = ::posix_spawn(&pid_, RILL_SIGNAL_CHILD, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    stdout_ = fds[0];
    if (rc != 0) throw std::runtime_error("posix_spawn");
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(stdout_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  /// Waits up to `timeout` for the child's `ready` line.
  bool await_ready(std::chrono::milliseconds timeout) {
    std::string got;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (got.find("ready\n") == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{stdout_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char buf[64];
      const auto n = ::read(stdout_, buf, sizeof buf);
      if (n <= 0) return false;
      got.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }
  void signal(int sig) const { ::kill(pid_, sig); }
  /// The exit status after up to `timeout`; nullopt when still running then.
  std::optional<int> await_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return status;
      }
      if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
      std::this_thread::sleep_for(5ms);
    }
  }

 private:
  pid_t pid_ = -1;
  int stdout_ = -1;
};

struct Result {
  std::int64_t stored = 0;
  std::int64_t submitted = 0;
  std::int64_t completed = 0;
  int signals = 0;
};

Result read_result(const fs::path& out) {
  std::ifstream in(out / "result.txt");
  Result r;
  in >> r.stored >> r.submitted >> r.completed >> r.signals;
  return r;
}

/// Every value written into complete `numbers-<ms>.txt` files; fails on a temporary file left.
std::vector<std::int64_t> written_values(const fs::path& out) {
  std::vector<std::int64_t> values;
  for (const auto& entry : fs::directory_iterator(out)) {
    const std::string name = entry.path().filename().string();
    EXPECT_EQ(name.find("rill-tmp"), std::string::npos) << "an unfinished file was left: " << name;
    if (name.rfind("numbers-", 0) != 0) continue;
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);)
      values.push_back(std::stoll(line));
  }
  std::sort(values.begin(), values.end());
  return values;
}

fs::path fresh_out(const std::string& name) {
  const fs::path out =
      fs::temp_directory_path() / ("rill_signals_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(out);
  fs::create_directories(out);
  return out;
}

}  // namespace

// SIGTERM: receivers stop, every batch of what was received runs and its files are written
// whole, the process exits 0. What the receiver stored is exactly what the files hold.
TEST(StopOnSignals, SigtermStopsAChildGracefullyWithEveryReceivedRecordWritten) {
  const fs::path out = fresh_out("graceful");
  Child child(out, "fast");
  ASSERT_TRUE(child.await_ready(30s)) << "the child did not complete a batch";
  child.signal(SIGTERM);
  const auto status = child.await_exit(60s);
  ASSERT_TRUE(status.has_value()) << "the child did not stop";
  ASSERT_TRUE(WIFEXITED(*status)) << "killed by signal " << WTERMSIG(*status);
  EXPECT_EQ(WEXITSTATUS(*status), 0);
  const Result r = read_result(out);
  EXPECT_EQ(r.signals, 1);
  EXPECT_GT(r.stored, 0);
  EXPECT_EQ(r.submitted, r.completed) << "a batch of received records did not run";
  const auto values = written_values(out);
  ASSERT_EQ(static_cast<std::int64_t>(values.size()), r.stored) << "records lost or written twice";
  for (std::int64_t i = 0; i < r.stored; ++i) {
    if (values[static_cast<std::size_t>(i)] != i) {
      ADD_FAILURE() << "record " << i << " missing";
      break;
    }
  }
  fs::remove_all(out);
}

// A second SIGTERM while the graceful stop drains seconds of batches stops at once: the batches
// that waited are dropped, the process still exits 0, and every file written is whole.
TEST(StopOnSignals, ASecondSigtermStopsTheChildAtOnce) {
  const fs::path out = fresh_out("immediate");
  Child child(out, "slow");
  ASSERT_TRUE(child.await_ready(30s)) << "the child did not complete a batch";
  child.signal(SIGTERM);
  std::this_thread::sleep_for(100ms);  // the graceful stop is under way (it would take seconds)
  const auto second = std::chrono::steady_clock::now();
  child.signal(SIGTERM);
  const auto status = child.await_exit(60s);
  ASSERT_TRUE(status.has_value()) << "the child did not stop";
  const auto took = std::chrono::steady_clock::now() - second;
  ASSERT_TRUE(WIFEXITED(*status)) << "killed by signal " << WTERMSIG(*status);
  EXPECT_EQ(WEXITSTATUS(*status), 0);
  const Result r = read_result(out);
  EXPECT_EQ(r.signals, 2);
  EXPECT_LT(r.completed, r.submitted) << "the waiting batches ran: the stop was not immediate";
  // The batch in flight finishes (300 ms); 8 waiting batches would take 2.4 s more.
  EXPECT_LT(took, 2s);
  (void)written_values(out);  // no unfinished file
  fs::remove_all(out);
}
#endif
