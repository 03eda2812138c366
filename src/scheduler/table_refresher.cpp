#include "scheduler/table_refresher.hpp"

#include <algorithm>
#include <exception>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "rill/core/detail/rill_thread.hpp"
#include "rill/core/errors.hpp"
#include "rill/core/logging.hpp"

namespace rill::detail {

namespace {
/// The message of the exception being handled.
std::string current_what() {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}
}  // namespace

TableRefresher::TableRefresher(Clock& clock, std::vector<TableVersions*> tables) : clock_(clock) {
  entries_.reserve(tables.size());
  for (TableVersions* table : tables)
    entries_.push_back(Entry{table, Time{0}, LogLimiter{}});
}

TableRefresher::~TableRefresher() {
  join();
}

void TableRefresher::load_all() {
  for (Entry& entry : entries_) {
    try {
      entry.table->load();
    } catch (const Error&) {
      throw;
    } catch (...) {
      std::throw_with_nested(IoError(fmt::format(
          "StreamingContext::start: the loader of static table '{}' failed: {}; fix the loader or "
          "the data it reads",
          entry.table->name(), current_what())));
    }
    logger().debug("static table {}: loaded {} rows", entry.table->name(),
                   entry.table->stats().records);
  }
}

Time TableRefresher::due_after(Duration refresh, Time now) const noexcept {
  if (now < zero_) return zero_ + refresh;
  return zero_ + ((now - zero_) / refresh + 1) * refresh;
}

void TableRefresher::start(Time zero) {
  zero_ = zero;
  const Time now = clock_.now();
  bool reloads = false;
  for (Entry& entry : entries_) {
    if (entry.table->refresh().count() <= 0) continue;
    entry.next_due = due_after(entry.table->refresh(), now);
    reloads = true;
  }
  if (reloads && !clock_.is_manual()) {
    thread_ = std::thread([this] {
      RillThreadScope scope;
      run();
    });
  }
}

void TableRefresher::reload(Entry& entry, Time now) {
  TableVersions& table = *entry.table;
  entry.next_due = due_after(table.refresh(), now);
  try {
    table.load();
  } catch (...) {
    table.failed();
    if (auto dropped = entry.log.allow()) {
      logger().warn("static table {}: reloading failed: {}; the previous version stays{}",
                    table.name(), current_what(),
                    *dropped > 0 ? fmt::format(" ({} more failures not logged)", *dropped) : "");
    }
  }
}

void TableRefresher::seal(Time t) {
  if (clock_.is_manual()) {
    for (Entry& entry : entries_) {
      if (entry.table->refresh().count() > 0 && entry.next_due <= t) reload(entry, t);
    }
  }
  for (Entry& entry : entries_)
    entry.table->pin(t);
}

void TableRefresher::release(Time t) {
  for (Entry& entry : entries_)
    entry.table->release(t);
}

void TableRefresher::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    std::optional<Time> due;
    for (const Entry& entry : entries_) {
      if (entry.table->refresh().count() > 0 && (!due || entry.next_due < *due)) {
        due = entry.next_due;
      }
    }
    const Time now = clock_.now();
    if (now < *due) {
      cv_.wait_for(lock, *due - now);
      continue;
    }
    lock.unlock();
    for (Entry& entry : entries_) {
      if (entry.table->refresh().count() > 0 && entry.next_due <= now) {
        reload(entry, clock_.now());
      }
    }
    lock.lock();
  }
}

void TableRefresher::request_stop() noexcept {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
}

void TableRefresher::join() {
  request_stop();
  if (thread_.joinable()) thread_.join();
}

std::vector<SourceStats> TableRefresher::stats() const {
  std::vector<SourceStats> out;
  out.reserve(entries_.size());
  for (const Entry& entry : entries_)
    out.push_back(entry.table->stats());
  return out;
}

}  // namespace rill::detail
