#pragma once

#include <cstddef>
#include <functional>
#include <optional>

#include <boost/asio/thread_pool.hpp>

namespace rill::detail {

/// The worker threads that run the partitions of a batch. Blocks when idle (Asio's pool).
class WorkerPool {
 public:
  explicit WorkerPool(std::size_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// Runs fn(i) for i in [0, n) and waits; rethrows the first exception (the remaining indices
  /// are then skipped). The calling thread runs indices too, alongside up to threads() - 1
  /// workers; with one worker, or one index, it runs them all.
  void parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn);
  void join();
  [[nodiscard]] std::size_t threads() const noexcept { return threads_; }

 private:
  std::size_t threads_;
  std::optional<boost::asio::thread_pool> pool_;
};

}  // namespace rill::detail
