#pragma once
// Child processes for the crash tests (tests/checkpoint/crash_test.cpp,
// tests/kafka/crash_test.cpp): Child starts a program with arguments and, optionally, rill's fault
// injection RILL_CRASH_POINT=<step>:<n> (src/checkpoint/durable_file.hpp); Outcome says how it
// ended. read_outputs() reads an output directory back, crash_kills() the number of random kills
// asked for (RILL_CRASH_KILLS).

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace rill_test {

/// Status of one child run: exited normally (`code` is its exit status) or killed (`code` is
/// the signal).
struct Outcome {
  bool killed = false;
  int code = 0;
};

/// A child process running `program args...` with this process's environment, where
/// RILL_CRASH_POINT is replaced by `crash_point` (removed when it is empty). Throws
/// std::runtime_error when the program cannot be started. wait() must be called once.
class Child {
 public:
  Child(const std::string& program, std::vector<std::string> args, const std::string& crash_point) {
    args.insert(args.begin(), program);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      if (!std::string_view(*e).starts_with("RILL_CRASH_POINT=")) env.emplace_back(*e);
    }
    if (!crash_point.empty()) env.push_back("RILL_CRASH_POINT=" + crash_point);
    std::vector<char*> envp;
    for (auto& e : env)
      envp.push_back(e.data());
    envp.push_back(nullptr);
    if (::posix_spawn(&pid_, program.c_str(), nullptr, nullptr, argv.data(), envp.data()) != 0) {
      throw std::runtime_error("posix_spawn failed for " + program);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  /// Sends SIGKILL (nothing happens when the child has exited already and was not waited for).
  void kill() { ::kill(pid_, SIGKILL); }
  /// Waits for the child to end.
  Outcome wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    if (WIFSIGNALED(status)) return {true, WTERMSIG(status)};
    return {false, WEXITSTATUS(status)};
  }

 private:
  pid_t pid_ = 0;
};

/// Every file of `dir` by name with its bytes, except names starting with '.' (temporary files
/// a kill left behind).
inline std::map<std::string, std::string> read_outputs(const std::filesystem::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (name.starts_with(".")) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    files[name] =
        std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  return files;
}

/// The random kills a crash test makes: RILL_CRASH_KILLS when set (the `slow` runs), else
/// `default_kills`.
inline int crash_kills(int default_kills) {
  if (const char* env = std::getenv("RILL_CRASH_KILLS")) return std::max(0, std::atoi(env));
  return default_kills;
}

}  // namespace rill_test
