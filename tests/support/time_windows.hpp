#pragma once

/// The window [start, end) in ms of event time, written short: `win(10000, 15000)`. Shared by the
/// window tests so that, compiled together (a unity build), they do not each define it.

#include <cstdint>

#include <rill/rill.hpp>

namespace rill_test {

inline rill::TimeWindow win(std::int64_t start_ms, std::int64_t end_ms) {
  return rill::TimeWindow{rill::Time{start_ms}, rill::Time{end_ms}};
}

}  // namespace rill_test
