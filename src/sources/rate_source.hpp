#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rill/sources/options.hpp"
#include "rill/sources/source.hpp"

namespace rill::detail {

/// rate_stream: the rows of batch t are a pure function of t, the start time and the options, so
/// a replay seals them again and nothing is checkpointed. Cumulative rows after e ms are
/// floor(rate * e / 1000) (with a linear ramp-up first); batch t holds the values between the
/// counts at t - interval and t, their timestamps spread evenly over the batch's interval.
class RateSource final : public Source<RateRow> {
 public:
  RateSource(RateOptions options, Duration interval);

  [[nodiscard]] std::string kind() const override { return "rate_stream"; }
  [[nodiscard]] SourceProperties properties() const override {
    return SourceProperties{.delivery = Delivery::exactly_once, .replayable = true};
  }
  [[nodiscard]] std::size_t num_partitions() const override { return options_.num_partitions; }
  void start(SourceContext& ctx) override;
  Sealed<RateRow> seal(Time t, bool take_buffered) override;

  /// Rows generated in the first `elapsed` ms after the start.
  [[nodiscard]] std::int64_t rows_after(Duration elapsed) const noexcept;

 private:
  RateOptions options_;
  Duration interval_;
  Time start_;
};

}  // namespace rill::detail
