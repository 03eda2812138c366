#include "sources/rate_source.hpp"

namespace rill::detail {

namespace {
__extension__ using Wide = __int128;
}

RateSource::RateSource(RateOptions options, Duration interval)
    : options_(options), interval_(interval) {}

void RateSource::start(SourceContext& ctx) {
  start_ = ctx.zero();
}

std::int64_t RateSource::rows_after(Duration elapsed) const noexcept {
  const Wide e = elapsed.count();
  if (e <= 0) return 0;
  const Wide rate = options_.rows_per_second;
  const Wide ramp = options_.ramp_up.count();
  if (ramp > 0 && e <= ramp) return static_cast<std::int64_t>(rate * e * e / (2 * ramp * 1000));
  // After the ramp: the ramp's rate * ramp / 2 rows, then `rate` per second.
  return static_cast<std::int64_t>(rate * (2 * e - ramp) / 2000);
}

Sealed<RateRow> RateSource::seal(Time t, bool /*take_buffered*/) {
  const std::int64_t first = rows_after(t - interval_ - start_);
  const std::int64_t count = rows_after(t - start_) - first;
  const Time batch_start = t - interval_;
  Sealed<RateRow> sealed;
  sealed.records.reserve(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) {
    const auto offset = static_cast<std::int64_t>(static_cast<Wide>(i) * interval_.count() / count);
    sealed.records.push_back(RateRow{batch_start + Duration{offset}, first + i});
  }
  return sealed;
}

}  // namespace rill::detail
