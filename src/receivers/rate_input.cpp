#include "receivers/rate_input.hpp"

namespace rill::detail {

namespace {
__extension__ using Wide = __int128;
}

RateInputNode::RateInputNode(RateOptions options, Duration interval, std::size_t partitions)
    : Node<RateRow>("rate_stream", {}, interval, partitions),
      options_(options),
      interval_(interval) {}

void RateInputNode::start_input(Runtime& /*rt*/, Time zero) {
  start_ = zero;
}

std::int64_t RateInputNode::rows_after(Duration elapsed) const noexcept {
  const Wide e = elapsed.count();
  if (e <= 0) return 0;
  const Wide rate = options_.rows_per_second;
  const Wide ramp = options_.ramp_up.count();
  if (ramp > 0 && e <= ramp) return static_cast<std::int64_t>(rate * e * e / (2 * ramp * 1000));
  // After the ramp: the ramp's rate * ramp / 2 rows, then `rate` per second.
  return static_cast<std::int64_t>(rate * (2 * e - ramp) / 2000);
}

std::int64_t RateInputNode::seal(Time t, bool /*take_buffered*/) {
  const std::int64_t first = rows_after(t - interval_ - start_);
  const std::int64_t end = rows_after(t - start_);
  std::lock_guard lock(mutex_);
  sealed_[t] = {first, end};
  records_ += end - first;
  return end - first;
}

void RateInputNode::release_input(Time t) {
  std::lock_guard lock(mutex_);
  sealed_.erase(t);
}

SourceStats RateInputNode::source_stats() const {
  std::lock_guard lock(mutex_);
  return SourceStats{name(), records_, 0, 0};
}

std::shared_ptr<const Batch<RateRow>> RateInputNode::compute(Time t, Exec& ex) {
  std::pair<std::int64_t, std::int64_t> range{0, 0};
  {
    std::lock_guard lock(mutex_);
    if (auto it = sealed_.find(t); it != sealed_.end()) range = it->second;
  }
  const auto [first, end] = range;
  const std::int64_t count = end - first;
  const std::size_t n = num_partitions();
  Batch<RateRow>::Partitions parts(n);
  const Time batch_start = t - interval_;
  ex.parallel_for(n, [&, first = first](std::size_t p) {
    const auto from = static_cast<std::int64_t>(p) * count / static_cast<std::int64_t>(n);
    const auto to = static_cast<std::int64_t>(p + 1) * count / static_cast<std::int64_t>(n);
    auto& out = parts[p];
    out.reserve(static_cast<std::size_t>(to - from));
    for (std::int64_t i = from; i < to; ++i) {
      const auto offset =
          static_cast<std::int64_t>(static_cast<Wide>(i) * interval_.count() / count);
      out.push_back(RateRow{batch_start + Duration{offset}, first + i});
    }
  });
  return std::make_shared<const Batch<RateRow>>(std::move(parts));
}

}  // namespace rill::detail
