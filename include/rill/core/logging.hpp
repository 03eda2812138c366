#pragma once

#include <memory>

#include <spdlog/logger.h>

namespace rill {

/// rill's logger, named `rill`. rill logs only through it and never prints to stderr itself;
/// configure it with spdlog (level, sinks) or replace it by registering a logger named `rill`
/// before the first context is created.
std::shared_ptr<spdlog::logger> get_logger();

namespace detail {
spdlog::logger& logger();
}

}  // namespace rill
