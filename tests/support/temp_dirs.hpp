#pragma once
// Directories for the tests that read or write files: TempDir, one fresh directory; TempDirs, the
// tree of a file-stream test. Both are removed with everything in them at the end.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <system_error>

namespace rill_test {

/// A fresh, empty directory under the system temp directory, named after the running test.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            fmt::format("rill-{}-{}-{}-{}", info != nullptr ? info->test_suite_name() : "x",
                        ::getpid(), info != nullptr ? info->name() : "x", counter++);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  /// The names of the entries in the directory, all of them (hidden ones too).
  [[nodiscard]] std::set<std::string> names() const {
    std::set<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(path_))
      out.insert(e.path().filename().string());
    return out;
  }

 private:
  std::filesystem::path path_;
};

/// A whole file's bytes ("" when it cannot be read).
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The tree of a file-stream test: `watched` (the stream's directory, created on demand or by
/// create_watched()), `staging` (where files are written before being moved in whole, as
/// Spark's file stream requires) and `checkpoints`.
class TempDirs {
 public:
  TempDirs() { std::filesystem::create_directories(staging()); }

  [[nodiscard]] std::filesystem::path watched() const { return root_.path() / "watched"; }
  [[nodiscard]] std::filesystem::path staging() const { return root_.path() / "staging"; }
  [[nodiscard]] std::filesystem::path checkpoints() const { return root_.path() / "ckpt"; }
  /// A path that never exists (the target of dangling links).
  [[nodiscard]] std::filesystem::path missing() const { return root_.path() / "no-such-file"; }

  void create_watched() const { std::filesystem::create_directories(watched()); }

  /// Writes `content` to staging, then moves it into the watched directory as `name`.
  void move_in(const std::string& name, const std::string& content) const {
    const std::filesystem::path tmp = staging() / name;
    write(tmp, content);
    std::filesystem::rename(tmp, watched() / name);
  }

  static void write(const std::filesystem::path& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    ASSERT_TRUE(out.good()) << path;
  }

 private:
  TempDir root_;
};

}  // namespace rill_test
