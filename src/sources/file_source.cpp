#include "sources/file_source.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>
#include <string_view>

#include "rill/core/errors.hpp"
#include "rill/core/logging.hpp"
#include "rill/core/serialization.hpp"
#include "sources/line_reader.hpp"

namespace rill::detail {

namespace fs = std::filesystem;

namespace {

// The first 8 bytes of a versioned seal record or position. The first layouts (a vector or set
// of names) begin with their element count, which is never this large.
constexpr std::uint64_t kSealRecordV2 = 0xF11E'5EA1'0000'0002ULL;
constexpr std::uint64_t kPositionV2 = 0xF11E'9051'0000'0002ULL;
constexpr std::uint64_t kPositionDeltaV1 = 0xF11E'DE17'0000'0001ULL;

std::uint64_t leading_word(std::string_view bytes) {
  std::uint64_t word = 0;
  if (bytes.size() >= sizeof word) from_bytes(bytes.substr(0, sizeof word), word);
  return word;
}

/// A version marker of a newer layout than this build reads.
bool newer_layout(std::uint64_t word, std::uint64_t current) {
  return (word >> 32) == (current >> 32) && word > current;
}

/// The modification time of the file, or of the link itself when its target cannot be reached
/// (so that a dangling link ages like a file and is forgotten like one).
std::optional<Time> modified_at(const fs::path& path) {
  std::error_code ec;
  const auto mtime = fs::last_write_time(path, ec);
  if (!ec) {
    const auto sys = std::chrono::file_clock::to_sys(mtime);
    return Time{std::chrono::duration_cast<Duration>(sys.time_since_epoch()).count()};
  }
  struct stat link {};
  if (::lstat(path.c_str(), &link) != 0) return std::nullopt;
  return Time{static_cast<std::int64_t>(link.st_mtim.tv_sec) * 1000 +
              static_cast<std::int64_t>(link.st_mtim.tv_nsec) / 1'000'000};
}

/// When the file's status last changed (st_ctime: set by creating, renaming, copying or
/// chmod-ing it, not by setting its modification time), or the link's when its target cannot be
/// reached.
std::optional<Time> status_changed_at(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 && ::lstat(path.c_str(), &st) != 0) return std::nullopt;
  return Time{static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000 +
              static_cast<std::int64_t>(st.st_ctim.tv_nsec) / 1'000'000};
}

std::string suppressed_note(std::int64_t n) {
  return n > 0 ? fmt::format(" ({} more not logged)", n) : std::string();
}

}  // namespace

FileSource::FileSource(fs::path dir, FileStreamOptions options)
    : dir_(std::move(dir)), options_(options) {}

std::optional<std::vector<FileSource::Listed>> FileSource::list() {
  // readdir, not std::filesystem::directory_iterator: only the names are read here (the file
  // types and times are read for new names only, in admit()), so that a batch over a directory
  // of n files costs n names, not n paths and n stats.
  std::vector<Listed> out;
  std::error_code ec;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(dir_.c_str()), &::closedir);
  if (dir == nullptr) ec = std::error_code(errno, std::generic_category());
  while (!ec) {
    errno = 0;
    const dirent* entry = ::readdir(dir.get());
    if (entry == nullptr) {
      if (errno != 0) ec = std::error_code(errno, std::generic_category());
      break;
    }
    const std::string_view file_name(entry->d_name);  // "." and ".." too
    if (file_name.empty() || file_name[0] == '.' || file_name[0] == '_') continue;
    out.push_back(Listed{std::string(file_name)});
  }
  if (ec) {
    if (!list_error_ || *list_error_ != ec) {
      logger().warn("text_file_stream {}: cannot list '{}': {}; retrying every batch", name_,
                    dir_.string(), ec.message());
      list_error_ = ec;
      ++errors_;
    }
    return std::nullopt;
  }
  if (list_error_) {
    logger().info("text_file_stream {}: '{}' can be listed again", name_, dir_.string());
    list_error_.reset();
  }
  std::sort(out.begin(), out.end(),
            [](const Listed& a, const Listed& b) { return a.name < b.name; });
  return out;
}

void FileSource::start(SourceContext& ctx) {
  name_ = ctx.name();
  clock_ = &ctx.clock();
  checkpointing_ = ctx.checkpointing();
  available_now_ = ctx.available_now();
  if (available_now_) {
    // The input of the run: listed once, now. What a restored checkpoint says was processed is
    // left out when the first batch queues it (load_position() comes after this).
    if (auto listing = list()) {
      std::vector<Available> files;
      for (auto& entry : *listing) {
        const fs::path path = dir_ / entry.name;
        std::optional<Time> modified;
        if (!clock_->is_manual()) modified = modified_at(path);
        std::error_code type_ec;
        const auto status = fs::status(path, type_ec);
        const bool regular = type_ec || fs::is_regular_file(status);
        files.push_back(Available{std::move(entry), modified, regular});
      }
      std::lock_guard lock(files_mutex_);
      start_listing_ = std::move(files);
    }
    return;
  }
  if (options_.new_files_only) {
    const Time now = clock_->now();
    if (auto listing = list()) {
      std::lock_guard lock(files_mutex_);
      for (const auto& entry : *listing)
        seen_.emplace(entry.name, now);
    }
  }
}

void FileSource::admit(const Listed& entry, Time now, Time t) {
  const std::string& file_name = entry.name;
  const fs::path path = dir_ / file_name;
  if (clock_ != nullptr && !clock_->is_manual()) {
    if (const auto modified = modified_at(path)) {
      Time forget_before;
      {
        std::lock_guard lock(files_mutex_);
        forget_before = forget_before_;
      }
      // Modified before the names now remembered were listed: a file listed then and forgotten
      // since, passed over without a word (its name is no longer known), as Spark's
      // FileInputDStream does; unless its status changed after that (it was moved or copied in
      // since, with an old modification time): a new file too old to take, skipped below.
      if (*modified < forget_before) {
        const auto changed = status_changed_at(path);
        if (!changed || *changed < forget_before) return;
      }
      // available_now takes every file of its listing that no checkpoint forgot, however old.
      if (!available_now_ && *modified < now - options_.remember) {
        {
          std::lock_guard lock(files_mutex_);
          seen_.emplace(file_name, now);
          seen_in_[t].push_back(file_name);
        }
        ++skipped_;
        if (auto dropped = too_old_log_.allow()) {
          logger().info("text_file_stream {}: skipping '{}': modified before the remember window{}",
                        name_, path.string(), suppressed_note(*dropped));
        }
        return;
      }
    }
  }
  // Regular files, and links whose target cannot be reached (counted as unreadable when read);
  // directories, pipes and devices are skipped (counted once).
  std::error_code type_ec;
  const auto status = fs::status(path, type_ec);
  const bool regular = type_ec || fs::is_regular_file(status);
  // Seen and seen in batch t at once: a checkpoint of an earlier batch, written meanwhile on the
  // batch thread, must not count the name as seen before t (save_position).
  std::lock_guard lock(files_mutex_);
  seen_.emplace(file_name, now);
  seen_in_[t].push_back(file_name);
  if (!regular) {
    ++skipped_;
    if (auto dropped = not_regular_log_.allow()) {
      logger().info(
          "text_file_stream {}: skipping '{}': not a regular file (a directory, FIFO, socket or "
          "device){}",
          name_, path.string(), suppressed_note(*dropped));
    }
    return;
  }
  queue_.push_back(Pending{file_name, 0});
}

Sealed<std::string> FileSource::seal(Time t, bool take_buffered) {
  if (!take_buffered) return {};
  const Time now = clock_ != nullptr ? clock_->now() : t;
  if (available_now_) {
    admit_available(now, t);
  } else if (t.milliseconds() <= stop_at_) {
    if (auto listing = list()) {
      std::vector<const Listed*> unseen;
      {
        std::lock_guard lock(files_mutex_);
        for (const auto& entry : *listing) {
          if (seen_.count(entry.name) == 0) unseen.push_back(&entry);
        }
      }
      for (const Listed* entry : unseen)
        admit(*entry, now, t);
      if (clock_ != nullptr && clock_->is_manual()) forget_absent(*listing);
    }
  }
  std::vector<std::string> lines;
  std::vector<Taken> taken;
  read_queued(lines, taken);
  {
    std::lock_guard lock(files_mutex_);
    queue_after_[t] = std::vector<Pending>(queue_.begin(), queue_.end());
  }
  Sealed<std::string> sealed{std::move(lines), {}};
  if (checkpointing_) sealed.seal_record = to_bytes(kSealRecordV2, taken);
  return sealed;
}

void FileSource::admit_available(Time now, Time t) {
  std::vector<Available> files;
  {
    std::lock_guard lock(files_mutex_);
    files.swap(start_listing_);
  }
  for (const auto& file : files) {
    {
      std::lock_guard lock(files_mutex_);
      if (seen_.count(file.entry.name) != 0) continue;
    }
    admit(file.entry, now, t);
  }
}

bool FileSource::still_available(const Available& file) const {
  if (!file.regular) return false;
  if (seen_.count(file.entry.name) != 0) return false;
  return !file.modified || *file.modified >= forget_before_;
}

bool FileSource::has_available_input() const {
  std::lock_guard lock(files_mutex_);
  if (!queue_.empty()) return true;
  return std::any_of(start_listing_.begin(), start_listing_.end(),
                     [&](const Available& file) { return still_available(file); });
}

void FileSource::read_queued(std::vector<std::string>& lines, std::vector<Taken>& taken) {
  std::uint64_t used = 0;
  std::size_t files = 0;  // files this batch started or went on reading
  while (used < options_.max_bytes_per_batch) {
    if (options_.max_files_per_batch && files >= *options_.max_files_per_batch) return;
    Pending next;
    {
      std::lock_guard lock(files_mutex_);
      if (queue_.empty()) return;
      next = queue_.front();
    }
    ++files;
    const LineLimits limits{.budget = options_.max_bytes_per_batch - used,
                            .max_line_bytes = options_.max_line_bytes,
                            .take_one = used == 0};
    const std::size_t before = lines.size();
    const auto range = read_line_range(dir_ / next.name, next.offset, limits, lines);
    if (!range) {
      lines.resize(before);
      count_unreadable(next.name);
      std::lock_guard lock(files_mutex_);
      queue_.pop_front();
      continue;
    }
    count_too_long(next.name, range->too_long);
    if (range->end > next.offset) taken.push_back(Taken{next.name, next.offset, range->end});
    used += range->end - next.offset;
    std::lock_guard lock(files_mutex_);
    if (range->at_end) {
      queue_.pop_front();
      continue;
    }
    queue_.front().offset = range->end;  // the batch is full: the rest waits for the next
    return;
  }
}

std::vector<std::string> FileSource::replay(Time t, std::string_view record) {
  std::vector<Taken> ranges;
  if (!record.empty()) {
    const std::uint64_t word = leading_word(record);
    if (newer_layout(word, kSealRecordV2)) {
      throw CheckpointError(fmt::format(
          "text_file_stream {}: the seal record of batch {} has a newer layout than this build "
          "reads; restore with the rill version that wrote the checkpoint",
          name_, t));
    }
    if (word == kSealRecordV2) {
      std::uint64_t version = 0;
      from_bytes(record, version, ranges);
    } else {
      // The first layout: the names of the files the batch read whole.
      std::vector<std::string> names;
      from_bytes(record, names);
      for (auto& file_name : names)
        ranges.push_back(Taken{std::move(file_name), 0, std::numeric_limits<std::uint64_t>::max()});
    }
  }
  std::vector<std::string> lines;
  std::vector<std::string> names;  // first remembered by this batch
  for (const auto& range : ranges) {
    if (replay_range(range, lines)) names.push_back(range.name);
  }
  std::lock_guard lock(files_mutex_);
  seen_in_[t] = std::move(names);
  queue_after_[t] = std::vector<Pending>(queue_.begin(), queue_.end());
  return lines;
}

bool FileSource::replay_range(const Taken& range, std::vector<std::string>& lines) {
  const fs::path path = dir_ / range.name;
  const std::size_t before = lines.size();
  const auto read = read_line_range(
      path, range.begin, LineLimits{.limit = range.end, .max_line_bytes = options_.max_line_bytes},
      lines);
  if (!read) {
    lines.resize(before);
    count_unreadable(range.name);
  } else {
    count_too_long(range.name, read->too_long);
  }
  // The queue as the batch left it: a file it took part of goes first, from where it stopped.
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  std::lock_guard lock(files_mutex_);
  const bool added = seen_.emplace(range.name, clock_ != nullptr ? clock_->now() : Time{}).second;
  std::erase_if(queue_, [&](const Pending& p) { return p.name == range.name; });
  if (read && !ec && read->end < size) queue_.push_front(Pending{range.name, read->end});
  return added;
}

void FileSource::count_too_long(const std::string& name, std::int64_t n) {
  if (n == 0) return;
  skipped_ += n;
  if (auto dropped = too_long_log_.allow()) {
    logger().warn("text_file_stream {}: skipped {} line(s) longer than {} bytes in '{}'{}", name_,
                  n, options_.max_line_bytes, (dir_ / name).string(), suppressed_note(*dropped));
  }
}

void FileSource::count_unreadable(const std::string& name) {
  ++errors_;
  ++skipped_;
  if (auto dropped = unreadable_log_.allow()) {
    logger().error("text_file_stream {}: cannot read '{}'; skipped{}", name_,
                   (dir_ / name).string(), suppressed_note(*dropped));
  }
}

bool FileSource::has_buffered_input() const {
  std::lock_guard lock(files_mutex_);
  return !queue_.empty();
}

void FileSource::forget_old(Time now) {
  forget_before_ = std::max(forget_before_, now - options_.remember);
  std::erase_if(seen_, [&](const auto& entry) {
    if (entry.second >= forget_before_) return false;
    return std::none_of(queue_.begin(), queue_.end(),
                        [&](const Pending& p) { return p.name == entry.first; });
  });
}

void FileSource::forget_absent(const std::vector<Listed>& listing) {
  const auto present = [&](const std::string& name) {  // the listing is sorted by name
    const auto it =
        std::lower_bound(listing.begin(), listing.end(), name,
                         [](const Listed& e, const std::string& n) { return e.name < n; });
    return it != listing.end() && it->name == name;
  };
  std::lock_guard lock(files_mutex_);
  std::erase_if(seen_, [&](const auto& entry) {
    if (present(entry.first)) return false;
    return std::none_of(queue_.begin(), queue_.end(),
                        [&](const Pending& p) { return p.name == entry.first; });
  });
}

FileSource::Position FileSource::position_at(Time t) const {
  std::lock_guard lock(files_mutex_);
  Position position{forget_before_, seen_, queue_before_};
  for (auto it = seen_in_.upper_bound(t); it != seen_in_.end(); ++it) {
    for (const auto& name : it->second)
      position.names.erase(name);
  }
  if (auto it = queue_after_.upper_bound(t); it != queue_after_.begin())
    position.queue = std::prev(it)->second;
  return position;
}

void FileSource::keep_written(Time t, Position position) const {
  if (!tracking_) return;
  std::lock_guard lock(written_mutex_);
  written_.emplace(t, std::move(position));
}

std::string FileSource::save_position(Time t) const {
  Position position = position_at(t);
  std::vector<std::pair<std::string, std::int64_t>> names;
  names.reserve(position.names.size());
  for (const auto& [name, listed] : position.names)
    names.emplace_back(name, listed.milliseconds());
  std::string bytes =
      to_bytes(kPositionV2, position.forget_before.milliseconds(), names, position.queue);
  keep_written(t, std::move(position));
  return bytes;
}

FileSource::PositionDelta FileSource::diff(const Position& from, const Position& to) {
  PositionDelta delta;
  delta.forget_before_ms = to.forget_before.milliseconds();
  // Both maps are sorted by name: one merge.
  auto a = from.names.begin();
  auto b = to.names.begin();
  while (a != from.names.end() || b != to.names.end()) {
    if (b == to.names.end() || (a != from.names.end() && a->first < b->first)) {
      delta.forgotten.push_back(a->first);
      ++a;
    } else if (a == from.names.end() || b->first < a->first) {
      delta.added.emplace_back(b->first, b->second.milliseconds());
      ++b;
    } else {
      if (a->second != b->second) delta.added.emplace_back(b->first, b->second.milliseconds());
      ++a;
      ++b;
    }
  }
  // Files leave the queue at its front and join at its back; a name is queued at most once. The
  // new queue's first file, found in the old one, fixes how many left; the old entries after it
  // must follow unchanged. Otherwise (a replay moved a file to the front) the whole queue is new.
  const auto& old_queue = from.queue;
  const auto& new_queue = to.queue;
  delta.queue_dropped = old_queue.size();
  std::size_t kept = 0;
  if (!new_queue.empty()) {
    const auto first = std::find_if(old_queue.begin(), old_queue.end(), [&](const Pending& p) {
      return p.name == new_queue.front().name;
    });
    const auto dropped = static_cast<std::size_t>(first - old_queue.begin());
    const std::size_t rest = old_queue.size() - dropped;
    bool follows = first != old_queue.end() && rest <= new_queue.size();
    for (std::size_t i = 1; follows && i < rest; ++i) {
      follows = old_queue[dropped + i].name == new_queue[i].name &&
                old_queue[dropped + i].offset == new_queue[i].offset;
    }
    if (follows) {
      kept = rest;
      delta.queue_dropped = dropped;
      delta.queue_kept = rest;
      delta.front_offset = new_queue.front().offset;
    }
  }
  delta.queue_added.assign(new_queue.begin() + static_cast<std::ptrdiff_t>(kept), new_queue.end());
  return delta;
}

void FileSource::track_position_changes() {
  tracking_ = true;
}

std::optional<std::string> FileSource::save_position_delta(Time t) const {
  if (!tracking_) return std::nullopt;
  std::lock_guard lock(written_mutex_);
  if (!saved_) return std::nullopt;
  Position position = position_at(t);
  const PositionDelta d = diff(*saved_, position);
  written_.emplace(t, std::move(position));
  return to_bytes(kPositionDeltaV1, d.forget_before_ms, d.added, d.forgotten, d.queue_dropped,
                  d.queue_kept, d.front_offset, d.queue_added);
}

void FileSource::position_saved(Time t) {
  std::lock_guard lock(written_mutex_);
  // What the checkpoint of t holds becomes the base of the next delta. Should it be unknown
  // (no save of t was kept), the next checkpoint writes the whole position.
  if (written_ && written_->first == t) {
    saved_ = std::move(written_->second);
  } else {
    saved_.reset();
  }
  written_.reset();
}

void FileSource::load_position_delta(std::string_view bytes) {
  const std::uint64_t word = leading_word(bytes);
  if (newer_layout(word, kPositionDeltaV1)) {
    throw CheckpointError(fmt::format(
        "text_file_stream {}: a checkpointed position delta has a newer layout than this build "
        "reads; restore with the rill version that wrote the checkpoint",
        name_));
  }
  if (word != kPositionDeltaV1) {
    throw CheckpointError(fmt::format(
        "text_file_stream {}: a checkpointed position delta does not begin with its layout "
        "marker; the checkpoint is damaged or not this stream's",
        name_));
  }
  PositionDelta d;
  try {
    std::uint64_t version = 0;
    from_bytes(bytes, version, d.forget_before_ms, d.added, d.forgotten, d.queue_dropped,
               d.queue_kept, d.front_offset, d.queue_added);
  } catch (const std::exception& e) {
    throw CheckpointError(fmt::format(
        "text_file_stream {}: a checkpointed position delta cannot be read ({}); the checkpoint "
        "is damaged",
        name_, e.what()));
  }
  std::lock_guard lock(files_mutex_);
  // Check before changing anything: a delta applies only to the position it was written over.
  const auto mismatch = [&](std::string_view what) {
    return CheckpointError(fmt::format(
        "text_file_stream {}: a checkpointed position delta does not apply to the position "
        "restored before it ({}); the checkpoint chain is damaged",
        name_, what));
  };
  for (const auto& name : d.forgotten) {
    if (seen_.count(name) == 0)
      throw mismatch(fmt::format("it forgets '{}', which is not remembered", name));
  }
  if (d.queue_dropped > queue_.size() || d.queue_kept != queue_.size() - d.queue_dropped) {
    throw mismatch(fmt::format("it keeps {} of {} queued files after dropping {}", d.queue_kept,
                               queue_.size(), d.queue_dropped));
  }
  for (const auto& name : d.forgotten)
    seen_.erase(name);
  for (auto& [name, listed] : d.added)
    seen_.insert_or_assign(std::move(name), Time{listed});
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(d.queue_dropped));
  if (!queue_.empty()) queue_.front().offset = d.front_offset;
  queue_.insert(queue_.end(), d.queue_added.begin(), d.queue_added.end());
  queue_before_.assign(queue_.begin(), queue_.end());
  forget_before_ = Time{d.forget_before_ms};
}

void FileSource::load_position(std::string_view bytes) {
  std::map<std::string, Time> seen;
  std::vector<Pending> queue;
  Time forget_before{std::numeric_limits<std::int64_t>::min()};
  const std::uint64_t word = leading_word(bytes);
  if (newer_layout(word, kPositionV2)) {
    throw CheckpointError(fmt::format(
        "text_file_stream {}: the checkpointed position has a newer layout than this build "
        "reads; restore with the rill version that wrote the checkpoint",
        name_));
  }
  if (word == kPositionV2) {
    std::uint64_t version = 0;
    std::int64_t forget_ms = 0;
    std::vector<std::pair<std::string, std::int64_t>> names;
    from_bytes(bytes, version, forget_ms, names, queue);
    forget_before = Time{forget_ms};
    for (auto& [name, listed] : names)
      seen.emplace(std::move(name), Time{listed});
  } else {
    // The first layout: the set of names seen, all taken as listed now.
    std::set<std::string> names;
    from_bytes(bytes, names);
    const Time now = clock_ != nullptr ? clock_->now() : Time{};
    for (const auto& name : names)
      seen.emplace(name, now);
  }
  std::lock_guard lock(files_mutex_);
  seen_ = std::move(seen);
  forget_before_ = forget_before;
  queue_.assign(queue.begin(), queue.end());
  queue_before_ = std::move(queue);
}

void FileSource::release(Time t) {
  std::lock_guard lock(files_mutex_);
  seen_in_.erase(seen_in_.begin(), seen_in_.upper_bound(t));
  const auto end = queue_after_.upper_bound(t);
  if (end != queue_after_.begin()) queue_before_ = std::prev(end)->second;
  queue_after_.erase(queue_after_.begin(), end);
  if (clock_ != nullptr && !clock_->is_manual()) forget_old(clock_->now());
}

}  // namespace rill::detail
