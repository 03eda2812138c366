#include "rill/core/config.hpp"

#include <algorithm>
#include <cmath>
#include <thread>
#include <utility>

#include "rill/core/errors.hpp"

namespace rill {

Config& Config::batch_interval(Duration d) {
  if (d.count() <= 0) {
    throw InvalidArgument(fmt::format(
        "Config::batch_interval: the batch interval must be positive, got {} ms", d.count()));
  }
  batch_interval_ = d;
  return *this;
}

Config& Config::trigger(Trigger t) {
  if (t.is_available_now()) {
    available_now_ = true;
  } else {
    batch_interval(t.interval());
    available_now_ = false;
  }
  return *this;
}

Trigger Config::trigger() const noexcept {
  if (available_now_) return Trigger::available_now();
  return Trigger(Trigger::Kind::processing_time, batch_interval_);
}

Config& Config::parallelism(std::size_t n) {
  if (n == 0) {
    throw InvalidArgument("Config::parallelism: the partition count must be at least 1, got 0");
  }
  parallelism_ = n;
  return *this;
}

Config& Config::worker_threads(std::size_t n) {
  if (n == 0) {
    throw InvalidArgument("Config::worker_threads: the pool needs at least 1 thread, got 0");
  }
  worker_threads_ = n;
  return *this;
}

Config& Config::max_pending_batches(std::size_t n) {
  if (n == 0) {
    throw InvalidArgument(
        "Config::max_pending_batches: at least 1 sealed batch must be allowed to wait, got 0");
  }
  max_pending_batches_ = n;
  return *this;
}

Config& Config::receiver_queue_capacity(std::size_t records) {
  if (records == 0) {
    throw InvalidArgument(
        "Config::receiver_queue_capacity: a receiver must be able to hold at least 1 record, got "
        "0");
  }
  receiver_queue_capacity_ = records;
  return *this;
}

Config& Config::receiver_queue_bytes(std::size_t bytes) {
  if (bytes == 0) {
    throw InvalidArgument(
        "Config::receiver_queue_bytes: a receiver must be able to hold at least 1 byte, got 0 "
        "(64 MiB is the default)");
  }
  receiver_queue_bytes_ = bytes;
  return *this;
}

Config& Config::clock(std::shared_ptr<Clock> c) {
  if (!c) throw InvalidArgument("Config::clock: the clock must not be null");
  clock_ = std::move(c);
  return *this;
}

Config& Config::delivery(Delivery d) {
  delivery_ = d;
  return *this;
}

Config& Config::checkpoint_snapshot_interval(std::size_t checkpoints) {
  if (checkpoints == 0) {
    throw InvalidArgument(
        "Config::checkpoint_snapshot_interval: every n-th checkpoint is a snapshot; n must be at "
        "least 1, got 0");
  }
  checkpoint_snapshot_interval_ = checkpoints;
  return *this;
}

Config& Config::checkpoints_retained(std::size_t n) {
  if (n == 0) {
    throw InvalidArgument(
        "Config::checkpoints_retained: at least 1 checkpoint must be kept, got 0");
  }
  checkpoints_retained_ = n;
  return *this;
}

namespace {
/// A rate in records/s or a gain: finite and >= 0 (or > 0 when `positive`), else
/// rill::InvalidArgument naming `what` and the value.
void check_non_negative(double value, const char* what, const char* hint, bool positive = false) {
  if (!std::isfinite(value) || value < 0 || (positive && value == 0)) {
    throw InvalidArgument(fmt::format("{}: must be a finite number {} 0, got {}{}", what,
                                      positive ? ">" : ">=", value, hint));
  }
}
}  // namespace

Config& Config::backpressure(bool enabled) noexcept {
  backpressure_ = enabled;
  return *this;
}

Config& Config::max_rate_per_source(double records_per_second) {
  check_non_negative(records_per_second, "Config::max_rate_per_source (records/s)",
                     " (0 means unlimited)");
  max_rate_per_source_ = records_per_second;
  return *this;
}

Config& Config::backpressure_initial_rate(double records_per_second) {
  check_non_negative(records_per_second, "Config::backpressure_initial_rate (records/s)",
                     " (0 means no limit before the first estimate)");
  backpressure_initial_rate_ = records_per_second;
  return *this;
}

Config& Config::backpressure_pid(PidRateOptions options) {
  check_non_negative(options.proportional, "Config::backpressure_pid: proportional",
                     " (Spark's default is 1.0)");
  check_non_negative(options.integral, "Config::backpressure_pid: integral",
                     " (Spark's default is 0.2)");
  check_non_negative(options.derived, "Config::backpressure_pid: derived",
                     " (Spark's default is 0.0)");
  check_non_negative(options.min_rate, "Config::backpressure_pid: min_rate (records/s)",
                     " (Spark's default is 100)", /*positive=*/true);
  backpressure_pid_ = options;
  return *this;
}

std::size_t Config::worker_threads() const noexcept {
  if (worker_threads_) return *worker_threads_;
  return std::max<std::size_t>(1, std::thread::hardware_concurrency());
}

std::size_t Config::parallelism() const noexcept {
  return parallelism_ ? *parallelism_ : worker_threads();
}

std::shared_ptr<Clock> Config::clock() const {
  if (clock_) return clock_;
  return SystemClock::create();
}

Config& Config::watermark_policy(WatermarkPolicy policy) noexcept {
  watermark_policy_ = policy;
  return *this;
}

Config& Config::progress_log(std::filesystem::path path, std::uint64_t max_bytes,
                             std::size_t max_files) {
  if (path.empty()) {
    throw InvalidArgument("Config::progress_log: the path is empty; name the file to append to");
  }
  if (max_bytes == 0) {
    throw InvalidArgument(
        "Config::progress_log: the rotation size must be at least 1 byte, got 0 (10 MiB is the "
        "default)");
  }
  progress_log_ = ProgressLogOptions{std::move(path), max_bytes, max_files};
  return *this;
}

}  // namespace rill
