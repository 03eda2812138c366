#include "checkpoint/durable_file.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include "checkpoint/frame_bytes.hpp"
#include "rill/core/errors.hpp"
#include "rill/core/logging.hpp"

namespace rill::detail {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[4] = {'R', 'I', 'L', 'L'};
constexpr std::size_t kHeaderSize = 4 + 4 + 4 + 8 + 4;

[[noreturn]] void fail(std::string_view what, const fs::path& path, int err) {
  throw CheckpointError(fmt::format("{} '{}': {}", what, path.string(), std::strerror(err)));
}

void write_all(int fd, std::string_view data, const fs::path& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    const auto n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write", path, errno);
    }
    done += static_cast<std::size_t>(n);
  }
}

struct CrashPlan {
  CrashPlan() {
    if (const char* env = std::getenv("RILL_CRASH_POINT")) {
      const std::string spec = env;
      const auto colon = spec.find(':');
      if (colon != std::string::npos) {
        name = spec.substr(0, colon);
        target = std::atol(spec.c_str() + colon + 1);
      }
    }
  }
  std::string name;
  long target = -1;
  std::atomic<long> seen{0};
};

CrashPlan& crash_plan() {
  static CrashPlan plan;
  return plan;
}

}  // namespace

void crash_point(const char* name) {
  auto& plan = crash_plan();
  if (plan.target < 0 || plan.name != name) return;
  if (++plan.seen == plan.target) ::kill(::getpid(), SIGKILL);
}

void sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("cannot open directory", dir, errno);
  crash_point("dirsync");
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) fail("cannot fsync directory", dir, err);
}

void write_durable(const fs::path& path, std::uint32_t kind, std::string_view payload) {
  std::string frame;
  frame.reserve(kHeaderSize + payload.size());
  frame.append(kMagic, 4);
  put<std::uint32_t>(frame, kFormatVersion);
  put<std::uint32_t>(frame, kind);
  put<std::uint64_t>(frame, payload.size());
  put<std::uint32_t>(frame, crc32(payload));
  frame.append(payload);

  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::string tmp_name = ".";
  tmp_name.append(path.filename().string()).append(".tmp");
  const fs::path tmp = dir / tmp_name;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot create", tmp, errno);
  try {
    // Two writes, so that a crash between them leaves a torn file behind.
    const std::size_t half = frame.size() / 2;
    write_all(fd, std::string_view(frame).substr(0, half), tmp);
    crash_point("write");
    write_all(fd, std::string_view(frame).substr(half), tmp);
    crash_point("fsync");
    if (::fsync(fd) != 0) fail("cannot fsync", tmp, errno);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  crash_point("rename");
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail("cannot rename into", path, err);
  }
  sync_directory(dir);
}

std::optional<FramedFile> read_framed(const fs::path& path, std::uint32_t kind, std::string* why) {
  const auto reject = [&](std::string reason) -> std::optional<FramedFile> {
    if (why != nullptr) *why = std::move(reason);
    return std::nullopt;
  };
  std::ifstream in(path, std::ios::binary);
  if (!in) return reject("cannot be opened");
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return reject("cannot be read");
  if (data.size() < kHeaderSize) return reject("is truncated (no complete header)");
  if (std::memcmp(data.data(), kMagic, 4) != 0) return reject("is not a rill file (bad magic)");
  const auto version = get<std::uint32_t>(data, 4);
  if (version != kFormatVersion) {
    return reject(
        fmt::format("has format version {}, this rill reads {}", version, kFormatVersion));
  }
  const auto file_kind = get<std::uint32_t>(data, 8);
  if (file_kind != kind) return reject(fmt::format("has kind {}, expected {}", file_kind, kind));
  const auto length = get<std::uint64_t>(data, 12);
  if (data.size() - kHeaderSize != length) {
    return reject(fmt::format("is truncated or torn ({} payload bytes, header says {})",
                              data.size() - kHeaderSize, length));
  }
  const std::string_view payload = std::string_view(data).substr(kHeaderSize);
  if (crc32(payload) != get<std::uint32_t>(data, 20)) return reject("fails its checksum");
  return FramedFile{file_kind, std::string(payload)};
}

DirectoryLock::DirectoryLock(const fs::path& dir) {
  const auto in_use = [&] {
    return CheckpointError(fmt::format(
        "checkpoint directory '{}' is in use by another StreamingContext or process; stop it or "
        "choose another directory",
        dir.string()));
  };
  // The lock is on the directory itself, held through an open descriptor: no file that can be
  // deleted under a running process stands for it, and the kernel drops it when the process
  // dies.
  fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0) fail("cannot open the checkpoint directory", dir, errno);
  if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
  int err = errno;
  ::close(fd_);
  fd_ = -1;
  if (err == EWOULDBLOCK) throw in_use();
  // Some file systems (NFS emulates flock with fcntl locks, which need a descriptor open for
  // writing) cannot lock a directory: lock a file in it instead.
  const fs::path lock = dir / "lock";
  logger().warn(
      "checkpoint directory '{}' cannot be locked itself ({}); locking '{}' instead: do not "
      "delete it while a context runs",
      dir.string(), std::strerror(err), lock.string());
  fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("cannot open the lock file", lock, errno);
  if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
  err = errno;
  ::close(fd_);
  fd_ = -1;
  if (err == EWOULDBLOCK) throw in_use();
  fail("cannot lock", lock, err);
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace rill::detail
