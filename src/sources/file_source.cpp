#include "sources/file_source.hpp"

#include <algorithm>
#include <fstream>

#include "rill/core/logging.hpp"
#include "rill/core/serialization.hpp"

namespace rill::detail {

namespace fs = std::filesystem;

FileSource::FileSource(fs::path dir, FileStreamOptions options)
    : dir_(std::move(dir)), options_(options) {}

std::vector<fs::path> FileSource::list() {
  std::vector<fs::path> out;
  std::error_code ec;
  fs::directory_iterator it(dir_, ec);
  if (ec) {
    if (!dir_missing_logged_) {
      logger().warn("text_file_stream {}: cannot list '{}': {}", name_, dir_.string(),
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

void FileSource::start(SourceContext& ctx) {
  name_ = ctx.name();
  clock_ = &ctx.clock();
  checkpointing_ = ctx.checkpointing();
  if (options_.new_files_only) {
    for (const auto& path : list())
      seen_.insert(path.filename().string());
  }
}

bool FileSource::read_lines(const fs::path& file, std::vector<std::string>& lines) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
  }
  return !in.bad();
}

Sealed<std::string> FileSource::seal(Time t, bool take_buffered) {
  if (!take_buffered) return {};
  std::vector<std::string> lines;
  std::vector<std::string> taken;
  std::vector<std::string> newly_seen;
  const bool check_age = clock_ != nullptr && !clock_->is_manual();
  const Time now = clock_ != nullptr ? clock_->now() : t;
  for (const auto& path : list()) {
    std::string file_name = path.filename().string();
    {
      std::lock_guard lock(files_mutex_);
      if (!seen_.insert(file_name).second) continue;
    }
    newly_seen.push_back(file_name);
    if (check_age) {
      std::error_code ec;
      const auto mtime = fs::last_write_time(path, ec);
      if (!ec) {
        const auto sys = std::chrono::file_clock::to_sys(mtime);
        const Time modified{std::chrono::duration_cast<Duration>(sys.time_since_epoch()).count()};
        if (modified < now - options_.remember) {
          logger().info("text_file_stream {}: skipping '{}': modified before the remember window",
                        name_, path.string());
          ++skipped_;
          continue;
        }
      }
    }
    if (read_file(path, lines)) taken.push_back(std::move(file_name));
  }
  {
    std::lock_guard lock(files_mutex_);
    seen_in_[t] = std::move(newly_seen);
  }
  Sealed<std::string> sealed{std::move(lines), {}};
  if (checkpointing_) sealed.seal_record = to_bytes(taken);
  return sealed;
}

bool FileSource::read_file(const fs::path& path, std::vector<std::string>& lines) {
  const std::size_t before = lines.size();
  if (read_lines(path, lines)) return true;
  lines.resize(before);
  logger().error("text_file_stream {}: cannot read '{}'; skipped", name_, path.string());
  ++errors_;
  ++skipped_;
  return false;
}

std::vector<std::string> FileSource::replay(Time t, std::string_view record) {
  std::vector<std::string> names;
  if (!record.empty()) from_bytes(record, names);
  std::vector<std::string> lines;
  std::vector<std::string> taken;
  for (auto& file_name : names) {
    {
      std::lock_guard lock(files_mutex_);
      seen_.insert(file_name);
    }
    if (read_file(dir_ / file_name, lines)) taken.push_back(std::move(file_name));
  }
  {
    std::lock_guard lock(files_mutex_);
    seen_in_[t] = std::move(taken);
  }
  return lines;
}

std::string FileSource::save_position(Time t) const {
  std::lock_guard lock(files_mutex_);
  std::set<std::string> seen = seen_;
  for (auto it = seen_in_.upper_bound(t); it != seen_in_.end(); ++it) {
    for (const auto& name : it->second)
      seen.erase(name);
  }
  return to_bytes(seen);
}

void FileSource::load_position(std::string_view bytes) {
  std::set<std::string> seen;
  from_bytes(bytes, seen);
  std::lock_guard lock(files_mutex_);
  seen_ = std::move(seen);
}

void FileSource::release(Time t) {
  std::lock_guard lock(files_mutex_);
  seen_in_.erase(seen_in_.begin(), seen_in_.upper_bound(t));
}

}  // namespace rill::detail
