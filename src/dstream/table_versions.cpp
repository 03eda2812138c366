#include "rill/dstream/detail/table_versions.hpp"

namespace rill::detail {

TableVersions::TableVersions(std::string name, Duration refresh, bool reloads)
    : name_(std::move(name)), refresh_(refresh), reloads_(reloads) {}

TableVersions::~TableVersions() = default;

void TableVersions::load() {
  auto [version, rows] = build();  // the loader, outside the lock
  install(std::move(version), rows);
}

void TableVersions::install(std::shared_ptr<const void> version, std::int64_t rows) {
  std::shared_ptr<const void> previous;  // destroyed outside the lock
  std::lock_guard lock(mutex_);
  previous = std::exchange(newest_, std::move(version));
  rows_ = rows;
}

void TableVersions::pin(Time t) {
  std::lock_guard lock(mutex_);
  pins_[t] = newest_;
}

void TableVersions::release(Time t) {
  std::map<Time, std::shared_ptr<const void>> done;  // a last reference is dropped unlocked
  std::lock_guard lock(mutex_);
  auto end = pins_.upper_bound(t);
  done.insert(std::make_move_iterator(pins_.begin()), std::make_move_iterator(end));
  pins_.erase(pins_.begin(), end);
}

std::shared_ptr<const void> TableVersions::pinned(Time t) const {
  std::lock_guard lock(mutex_);
  if (auto it = pins_.find(t); it != pins_.end()) return it->second;
  return newest_;
}

void TableVersions::failed() {
  std::lock_guard lock(mutex_);
  ++errors_;
}

SourceStats TableVersions::stats() const {
  std::lock_guard lock(mutex_);
  return SourceStats{.name = name_, .records = rows_, .skipped = 0, .errors = errors_};
}

}  // namespace rill::detail
