#include "scheduler/delivery_check.hpp"

#include <string>
#include <vector>

#include <fmt/ranges.h>

#include "rill/core/errors.hpp"
#include "rill/core/logging.hpp"

namespace rill::detail {

void check_delivery(const Plan& plan, Delivery delivery, bool checkpointing) {
  if (delivery != Delivery::exactly_once) return;
  std::vector<std::string> problems;
  if (!checkpointing) problems.emplace_back("no checkpoint directory (call checkpoint(dir))");
  for (const auto& input : plan.inputs) {
    if (input->source_properties().delivery != Delivery::exactly_once) {
      problems.push_back(fmt::format("source '{}' cannot replay its input", input->source_name()));
    }
  }
  for (const auto& op : plan.outputs) {
    const SinkProperties sink = op->properties();
    if (sink.delivery == Delivery::exactly_once) continue;
    if (sink.console) {
      logger().warn("output '{}' may print a batch again after a crash (at least once)",
                    op->name());
      continue;
    }
    problems.push_back(
        fmt::format("output '{}' is at least once (use save_as_text_files, foreach_batch(f, "
                    "rill::idempotent) when f is idempotent per batch time, or "
                    "rill::kafka::write with a transactional_id)",
                    op->name()));
  }
  if (!problems.empty()) {
    throw InvalidArgument(fmt::format("Config::delivery(exactly_once) cannot be kept: {}",
                                      fmt::join(problems, "; ")));
  }
}

}  // namespace rill::detail
