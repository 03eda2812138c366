#include "scheduler/worker_pool.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <latch>
#include <memory>
#include <mutex>

#include <boost/asio/post.hpp>

#include "rill/core/detail/rill_thread.hpp"

namespace rill::detail {

WorkerPool::WorkerPool(std::size_t threads) : threads_(std::max<std::size_t>(1, threads)) {
  // The thread calling parallel_for is one of the threads.
  if (threads_ > 1) pool_.emplace(threads_ - 1);
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
    explicit Shared(std::ptrdiff_t helpers) : done(helpers) {}
    std::atomic<std::size_t> next{0};
    std::latch done;
    std::mutex error_mutex;
    std::exception_ptr error;
    void run(std::size_t n, const std::function<void(std::size_t)>& fn) {
      for (std::size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
        try {
          fn(i);
        } catch (...) {
          std::lock_guard lock(error_mutex);
          if (!error) error = std::current_exception();
          next.store(n);
        }
      }
    }
  };
  // The calling thread takes indices too: one thread fewer to wake, and no idle wait while
  // the helpers start.
  const auto helpers = std::min(n, threads_) - 1;
  auto shared = std::make_shared<Shared>(static_cast<std::ptrdiff_t>(helpers));
  for (std::size_t r = 0; r < helpers; ++r) {
    boost::asio::post(*pool_, [shared, n, &fn] {
      RillThreadScope scope;
      shared->run(n, fn);
      shared->done.count_down();
    });
  }
  shared->run(n, fn);
  shared->done.wait();
  std::lock_guard lock(shared->error_mutex);
  if (shared->error) std::rethrow_exception(shared->error);
}

}  // namespace rill::detail
