#include "scheduler/worker_pool.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <latch>
#include <memory>
#include <mutex>

#include <boost/asio/post.hpp>

#include "rill/scheduler/runtime.hpp"

namespace rill::detail {

WorkerPool::WorkerPool(std::size_t threads) : threads_(std::max<std::size_t>(1, threads)) {
  if (threads_ > 1) pool_.emplace(threads_);
}

WorkerPool::~WorkerPool() {
  join();
}

void WorkerPool::join() {
  if (pool_) {
    pool_->join();
    pool_.reset();
  }
}

void WorkerPool::parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn) {
  if (n == 0) return;
  if (n == 1 || !pool_) {
    for (std::size_t i = 0; i < n; ++i)
      fn(i);
    return;
  }
  struct Shared {
    explicit Shared(std::ptrdiff_t runners) : done(runners) {}
    std::atomic<std::size_t> next{0};
    std::latch done;
    std::mutex error_mutex;
    std::exception_ptr error;
  };
  const auto runners = std::min(n, threads_);
  auto shared = std::make_shared<Shared>(static_cast<std::ptrdiff_t>(runners));
  for (std::size_t r = 0; r < runners; ++r) {
    boost::asio::post(*pool_, [shared, n, &fn] {
      RillThreadScope scope;
      for (std::size_t i = shared->next.fetch_add(1); i < n; i = shared->next.fetch_add(1)) {
        try {
          fn(i);
        } catch (...) {
          std::lock_guard lock(shared->error_mutex);
          if (!shared->error) shared->error = std::current_exception();
          shared->next.store(n);
        }
      }
      shared->done.count_down();
    });
  }
  shared->done.wait();
  std::lock_guard lock(shared->error_mutex);
  if (shared->error) std::rethrow_exception(shared->error);
}

}  // namespace rill::detail
