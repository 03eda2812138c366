#include "rill/detail/malformed_lines.hpp"

#include <fmt/format.h>
#include <spdlog/logger.h>

#include "rill/core/logging.hpp"

namespace rill::detail {

void MalformedLines::report(std::string_view line, std::string_view reason,
                            std::vector<std::string>* slot) {
  if (slot != nullptr) slot->emplace_back(line);
  const std::int64_t n = count_.fetch_add(1, std::memory_order_relaxed) + 1;
  const std::string_view name = node_ != nullptr ? std::string_view(node_->name()) : "parse";
  const std::string_view quoted = line.substr(0, kQuotedBytes);
  const std::string_view more = line.size() > kQuotedBytes ? "..." : "";
  if (n <= kLoggedInFull) {
    logger().warn("{}: malformed line skipped ({}): '{}{}'{}", name, reason, quoted, more,
                  n == kLoggedInFull ? fmt::format("; further ones are summarized at most every "
                                                   "{} s",
                                                   kLogInterval.count())
                                     : std::string());
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  if (last_log_ && now - *last_log_ < kLogInterval) {
    ++unlogged_;
    return;
  }
  last_log_ = now;
  logger().warn("{}: {} more malformed lines skipped ({} in all); the latest ({}): '{}{}'", name,
                unlogged_ + 1, n, reason, quoted, more);
  unlogged_ = 0;
}

}  // namespace rill::detail
