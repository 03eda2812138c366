#include "receivers/file_input.hpp"

#include <algorithm>
#include <fstream>

#include "rill/core/logging.hpp"

namespace rill::detail {

namespace fs = std::filesystem;

FileInputNode::FileInputNode(fs::path dir, FileStreamOptions options, Duration interval,
                             std::size_t partitions)
    : SealedInputNode<std::string>("text_file_stream", interval, partitions),
      dir_(std::move(dir)),
      options_(options) {}

std::vector<fs::path> FileInputNode::list() {
  std::vector<fs::path> out;
  std::error_code ec;
  fs::directory_iterator it(dir_, ec);
  if (ec) {
    if (!dir_missing_logged_) {
      logger().warn("text_file_stream {}: cannot list '{}': {}", name(), dir_.string(),
                    ec.message());
      dir_missing_logged_ = true;
      ++errors_;
    }
    return out;
  }
  dir_missing_logged_ = false;
  for (const fs::directory_entry& entry : it) {
    const std::string file_name = entry.path().filename().string();
    if (file_name.empty() || file_name[0] == '.' || file_name[0] == '_') continue;
    // Regular files, and links whose target cannot be reached (counted as unreadable later);
    // directories, pipes and devices are not files to read.
    std::error_code type_ec;
    const auto status = entry.status(type_ec);
    if (!type_ec && !fs::is_regular_file(status)) continue;
    out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void FileInputNode::start_input(Runtime& rt, Time /*zero*/) {
  rt_ = &rt;
  if (options_.new_files_only) {
    for (const auto& path : list())
      seen_.insert(path.filename().string());
  }
}

bool FileInputNode::read_lines(const fs::path& file, std::vector<std::string>& lines) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
  }
  return !in.bad();
}

std::int64_t FileInputNode::seal(Time t, bool take_buffered) {
  if (!take_buffered) return seal_records(t, {});
  std::vector<std::string> lines;
  std::vector<std::string> taken;
  const bool check_age = rt_ != nullptr && !rt_->clock().is_manual();
  const Time now = rt_ != nullptr ? rt_->clock().now() : t;
  for (const auto& path : list()) {
    std::string file_name = path.filename().string();
    if (seen_.contains(file_name)) continue;
    seen_.insert(file_name);
    if (check_age) {
      std::error_code ec;
      const auto mtime = fs::last_write_time(path, ec);
      if (!ec) {
        const auto sys = std::chrono::file_clock::to_sys(mtime);
        const Time modified{std::chrono::duration_cast<Duration>(sys.time_since_epoch()).count()};
        if (modified < now - options_.remember) {
          logger().info("text_file_stream {}: skipping '{}': modified before the remember window",
                        name(), path.string());
          ++skipped_;
          continue;
        }
      }
    }
    const std::size_t before = lines.size();
    if (!read_lines(path, lines)) {
      lines.resize(before);
      logger().error("text_file_stream {}: cannot read '{}'; skipped", name(), path.string());
      ++errors_;
      ++skipped_;
      continue;
    }
    taken.push_back(std::move(file_name));
  }
  {
    std::lock_guard lock(files_mutex_);
    files_[t] = std::move(taken);
    // Only the files of pending batches are kept.
    while (files_.size() > 64)
      files_.erase(files_.begin());
  }
  return seal_records(t, std::move(lines));
}

std::vector<std::string> FileInputNode::files_of(Time t) const {
  std::lock_guard lock(files_mutex_);
  auto it = files_.find(t);
  return it == files_.end() ? std::vector<std::string>{} : it->second;
}

}  // namespace rill::detail
