#pragma once

#include "rill/core/config.hpp"
#include "scheduler/plan.hpp"

namespace rill::detail {

/// Checks at start() that a context asking for `delivery` can keep it: exactly once needs a
/// checkpoint directory (`checkpointing`), sources that can replay their input, and outputs that
/// are exactly once (a console output is only warned about in the log). Throws
/// rill::InvalidArgument naming every problem. Reads the plan only; any thread.
void check_delivery(const Plan& plan, Delivery delivery, bool checkpointing);

}  // namespace rill::detail
