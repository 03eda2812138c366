#include "rill/core/trigger.hpp"

#include <fmt/format.h>

#include "rill/core/errors.hpp"

namespace rill {

Trigger Trigger::processing_time(Duration interval) {
  if (interval.count() <= 0) {
    throw InvalidArgument(fmt::format(
        "Trigger::processing_time: the interval must be positive, got {} ms", interval.count()));
  }
  return Trigger(Kind::processing_time, interval);
}

}  // namespace rill
