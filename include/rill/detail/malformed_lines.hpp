#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rill/core/batch.hpp"
#include "rill/core/time.hpp"
#include "rill/dstream/detail/node.hpp"

/// The lines a parse_json() / parse_csv() step could not parse: counted, logged (rate-limited)
/// and, when the stream's malformed() is used, kept per batch for it.
namespace rill::detail {

/// Shared by a parse step (and its copies, one per partition task), the ParsedDStream handle
/// and the malformed() node. Thread-safety: report() from any partition task (each writes only
/// its own partition's slot); open() and take() on the batch thread, which runs batches one at
/// a time; count() anywhere.
class MalformedLines {
 public:
  /// Lines logged one by one before the log is rate-limited.
  static constexpr std::int64_t kLoggedInFull = 10;
  /// After those, at most one summary line per this much real time.
  static constexpr std::chrono::seconds kLogInterval{10};
  /// Bytes of a bad line quoted in the log.
  static constexpr std::size_t kQuotedBytes = 200;

  explicit MalformedLines(std::size_t partitions) : partitions_(partitions) {}

  /// The parse node, named in the log lines. Before start().
  void set_node(const OperatorNode* node) noexcept { node_ = node; }
  /// malformed() is used: keep each batch's bad lines for it. Before start().
  void keep() noexcept { keep_ = true; }

  /// Batch t starts: forgets earlier batches and, when the lines are kept, returns t's slots
  /// (one per partition, empty), else nullptr.
  std::vector<std::vector<std::string>>* open(Time t) {
    if (!keep_) return nullptr;
    std::lock_guard lock(mutex_);
    while (!batches_.empty() && batches_.begin()->first < t)
      batches_.erase(batches_.begin());
    auto& slots = batches_[t];
    slots.assign(partitions_, {});
    return &slots;
  }

  /// Batch t's bad lines, by partition, in input order (empty partitions if none were kept).
  std::shared_ptr<const Batch<std::string>> take(Time t) {
    std::lock_guard lock(mutex_);
    auto it = batches_.find(t);
    if (it == batches_.end()) {
      return std::make_shared<const Batch<std::string>>(
          typename Batch<std::string>::Partitions(partitions_));
    }
    auto batch = std::make_shared<const Batch<std::string>>(std::move(it->second));
    batches_.erase(it);
    return batch;
  }

  /// One bad line: counted, logged (the first kLoggedInFull with their reason, then a summary
  /// at most every kLogInterval), and appended to `slot` when the lines are kept.
  void report(std::string_view line, std::string_view reason, std::vector<std::string>* slot);

  /// Bad lines seen since the context started (a replayed batch's count again).
  [[nodiscard]] std::int64_t count() const noexcept {
    return count_.load(std::memory_order_relaxed);
  }

 private:
  std::size_t partitions_;
  const OperatorNode* node_ = nullptr;
  bool keep_ = false;
  std::atomic<std::int64_t> count_{0};
  std::mutex mutex_;  // batches_ and the log's state
  std::map<Time, std::vector<std::vector<std::string>>> batches_;
  std::optional<std::chrono::steady_clock::time_point> last_log_;
  std::int64_t unlogged_ = 0;
};

/// malformed(): each batch's lines the parse node `parsed` (a Node<T>) could not parse,
/// partitioned as its input was.
template <class T>
class MalformedNode final : public Node<std::string> {
 public:
  MalformedNode(std::shared_ptr<Node<T>> parsed, std::shared_ptr<MalformedLines> lines)
      : Node<std::string>("malformed", {parsed}, parsed->slide(), parsed->num_partitions()),
        parsed_(std::move(parsed)),
        lines_(std::move(lines)) {}

 protected:
  std::shared_ptr<const Batch<std::string>> compute(Time t, Exec& ex) override {
    (void)parsed_->get(t, ex);  // parses batch t (once: the node caches it) and fills the slots
    return lines_->take(t);
  }

 private:
  std::shared_ptr<Node<T>> parsed_;
  std::shared_ptr<MalformedLines> lines_;
};

}  // namespace rill::detail
