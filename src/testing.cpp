#include "rill/testing.hpp"

#include "scheduler/engine.hpp"

namespace rill::testing {

Harness::Harness(Duration batch_interval)
    : Harness(Config{}.batch_interval(batch_interval).parallelism(2)) {}

Harness::Harness(Config config) : clock_(ManualClock::create(Time{0})) {
  config.clock(clock_);
  ctx_ = std::make_unique<StreamingContext>(std::move(config));
}

Harness::~Harness() = default;

void Harness::run_batches(std::size_t n) {
  const Duration interval = ctx_->config().batch_interval();
  if (!started_) {
    ctx_->start();
    started_ = true;
    next_ = ctx_->zero_time() + interval;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const Time target = next_;
    if (clock_->now() < target) clock_->set_time(target);
    ctx_->engine().await_batch(target);
    next_ = target + interval;
  }
}

void run_until(StreamingContext& ctx, ManualClock& clock, Time t) {
  if (ctx.state() == ContextState::initialized) ctx.start();
  if (clock.now() < t) clock.set_time(t);
  ctx.engine().await_batch(t);
}

bool Harness::await_records_stored(std::int64_t n, std::chrono::milliseconds timeout) {
  return ctx_->engine().await_records_stored(n, timeout);
}

}  // namespace rill::testing
