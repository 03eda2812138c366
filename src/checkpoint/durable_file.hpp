#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace rill::detail {

/// rill's on-disk frame for checkpoint and log files: a header with a magic, the format version,
/// the file's kind and the payload's length and CRC-32, then the payload. A torn, truncated or
/// corrupted file is detected when read.
inline constexpr std::uint32_t kFormatVersion = 2;  // 2: incremental checkpoints

struct FramedFile {
  std::uint32_t kind = 0;
  std::string payload;
};

/// Writes `payload` to `path` durably: a temporary name in the same directory, fsync, rename,
/// then fsync of the directory. Throws rill::CheckpointError naming the file.
void write_durable(const std::filesystem::path& path, std::uint32_t kind, std::string_view payload);

/// Reads a framed file; nullopt (with the reason in `why`) when it is missing, torn, truncated,
/// of another version or kind, or fails its checksum.
std::optional<FramedFile> read_framed(const std::filesystem::path& path, std::uint32_t kind,
                                      std::string* why = nullptr);

/// fsyncs a directory, so that renames and deletions in it are durable.
void sync_directory(const std::filesystem::path& dir);

/// An exclusive lock on a directory (flock on the directory, open while the object lives; the
/// kernel releases it when the process dies). A second process (or context) on the same
/// directory gets rill::CheckpointError; deleting files in the directory does not unlock it.
/// Where a directory cannot be locked (NFS), a file `<dir>/lock` is locked instead, with a
/// warning.
class DirectoryLock {
 public:
  explicit DirectoryLock(const std::filesystem::path& dir);
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

/// Fault injection for crash tests: when the environment variable RILL_CRASH_POINT is
/// `<name>:<n>`, the n-th passage through crash_point("<name>") kills the process with SIGKILL.
/// Names: write, fsync, rename, dirsync, commit. Costs one comparison when unset.
void crash_point(const char* name);

}  // namespace rill::detail
