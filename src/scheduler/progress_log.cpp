#include "scheduler/progress_log.hpp"

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "rill/core/errors.hpp"
#include "rill/core/logging.hpp"
#include "rill/core/progress_json.hpp"

namespace rill::detail {

namespace {
std::filesystem::path rotated(const std::filesystem::path& path, std::size_t n) {
  std::filesystem::path out = path;
  out += fmt::format(".{}", n);
  return out;
}
}  // namespace

ProgressLog::ProgressLog(ProgressLogOptions options) : options_(std::move(options)) {
  if (!open()) {
    const int err = errno;
    throw IoError(fmt::format(
        "Config::progress_log: cannot open '{}' for appending: {}; create its directory, make it "
        "writable, or choose another path",
        options_.path.string(), std::strerror(err)));
  }
}

ProgressLog::~ProgressLog() {
  close();
}

bool ProgressLog::open() {
  file_ = std::fopen(options_.path.c_str(), "ae");
  if (file_ == nullptr) return false;
  std::error_code ec;
  const auto size = std::filesystem::file_size(options_.path, ec);
  size_ = ec ? 0 : size;
  return true;
}

void ProgressLog::close() {
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
}

void ProgressLog::on_batch_completed(const BatchInfo& info) {
  std::string line = to_json(info);
  line.push_back('\n');
  if (append(line)) return;
  ++skipped_;
  logger().warn(
      "progress log '{}': could not write the progress of batch {} ({}); {} line(s) skipped",
      options_.path.string(), info.batch_time, std::strerror(errno), skipped_);
}

bool ProgressLog::append(const std::string& line) {
  if (size_ > 0 && size_ + line.size() > options_.max_bytes) {
    if (!rotate()) return false;
  }
  if (file_ == nullptr && !open()) return false;
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    // Start over on a fresh handle with the next line (what was written of this one stays).
    close();
    return false;
  }
  size_ += line.size();
  return true;
}

bool ProgressLog::rotate() {
  close();
  std::error_code ec;
  const std::filesystem::path& path = options_.path;
  if (options_.max_files == 0) {
    std::filesystem::remove(path, ec);
  } else {
    std::filesystem::remove(rotated(path, options_.max_files), ec);
    for (std::size_t n = options_.max_files; n-- > 1;) {
      if (std::filesystem::exists(rotated(path, n), ec)) {
        std::filesystem::rename(rotated(path, n), rotated(path, n + 1), ec);
      }
    }
    std::filesystem::rename(path, rotated(path, 1), ec);
  }
  if (ec) {
    errno = ec.value();
    return false;
  }
  return open();
}

}  // namespace rill::detail
