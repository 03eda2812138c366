#pragma once
// A fresh directory tree for one file-stream test: `watched` (the stream's directory, created on
// demand or by create_watched()), `staging` (where files are written before being moved in
// whole, as Spark's file stream requires) and `checkpoints`. Removed at the end.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace rill_test {

class TempDirs {
 public:
  TempDirs() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = std::filesystem::temp_directory_path() /
            fmt::format("rill-{}-{}-{}-{}", info->test_suite_name(), ::getpid(), info->name(),
                        counter++);
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(staging());
  }
  ~TempDirs() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  TempDirs(const TempDirs&) = delete;
  TempDirs& operator=(const TempDirs&) = delete;

  [[nodiscard]] std::filesystem::path watched() const { return root_ / "watched"; }
  [[nodiscard]] std::filesystem::path staging() const { return root_ / "staging"; }
  [[nodiscard]] std::filesystem::path checkpoints() const { return root_ / "ckpt"; }
  /// A path that never exists (the target of dangling links).
  [[nodiscard]] std::filesystem::path missing() const { return root_ / "no-such-file"; }

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
  std::filesystem::path root_;
};

}  // namespace rill_test
