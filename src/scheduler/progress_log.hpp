#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "rill/core/config.hpp"
#include "rill/core/listener.hpp"

namespace rill::detail {

/// Config::progress_log(): a listener that appends every completed batch's progress record as one
/// JSON line (rill::to_json) to a file, rotated by size (log4j's RollingFileAppender:
/// `path` -> `path.1` -> ... -> `path.<max_files>`, the oldest deleted). It runs on the listener
/// bus's thread, so the batch thread never waits for the disk; each line is flushed to the
/// kernel (not fsynced): a crash of the process loses no line, a crash of the machine may.
///
/// Thread-safety: on_batch_completed() on the bus's thread only (one at a time, in order).
/// Errors: the constructor throws rill::IoError when the file cannot be opened for appending;
/// after that a failed write or rotation skips the line, logs a warning with the count of
/// skipped lines and retries with the next line (skipped()).
class ProgressLog final : public StreamingListener {
 public:
  explicit ProgressLog(ProgressLogOptions options);
  ~ProgressLog() override;
  ProgressLog(const ProgressLog&) = delete;
  ProgressLog& operator=(const ProgressLog&) = delete;

  void on_batch_completed(const BatchInfo& info) override;

  /// Lines skipped because a write or a rotation failed.
  [[nodiscard]] std::int64_t skipped() const noexcept { return skipped_; }

 private:
  /// Appends `line` (with its newline); false when it could not be written whole.
  bool append(const std::string& line);
  /// Shifts the rotated files and starts a new file; false when it could not.
  bool rotate();
  /// Opens options_.path for appending and reads its size; false when it cannot.
  bool open();
  void close();

  ProgressLogOptions options_;
  std::FILE* file_ = nullptr;
  std::uint64_t size_ = 0;  // bytes in the current file
  std::int64_t skipped_ = 0;
};

}  // namespace rill::detail
