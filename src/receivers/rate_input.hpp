#pragma once

#include <map>
#include <mutex>
#include <utility>

#include "rill/dstream/node.hpp"
#include "rill/receivers/options.hpp"

namespace rill::detail {

/// rate_stream: the rows of batch t are a pure function of t, the start time and the options.
/// Cumulative rows after e ms are floor(rate * e / 1000) (with a linear ramp-up first); batch t
/// holds the values between the counts at t - interval and t, their timestamps spread evenly over
/// the batch's interval.
class RateInputNode final : public Node<RateRow> {
 public:
  RateInputNode(RateOptions options, Duration interval, std::size_t partitions);

  [[nodiscard]] bool is_input() const noexcept override { return true; }
  void start_input(Runtime& rt, Time zero) override;
  std::int64_t seal(Time t, bool take_buffered) override;
  void release_input(Time t) override;
  [[nodiscard]] SourceStats source_stats() const override;

  /// Rows generated in the first `elapsed` ms after the start.
  [[nodiscard]] std::int64_t rows_after(Duration elapsed) const noexcept;

 protected:
  std::shared_ptr<const Batch<RateRow>> compute(Time t, Exec& ex) override;

 private:
  RateOptions options_;
  Duration interval_;
  Time start_;
  mutable std::mutex mutex_;
  std::map<Time, std::pair<std::int64_t, std::int64_t>> sealed_;  // t -> [first, end)
  std::int64_t records_ = 0;
};

}  // namespace rill::detail
