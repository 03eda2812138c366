#pragma once

#include "rill/core/config.hpp"

namespace rill::ops::detail {

/// A context state's name as /context and /metrics show it: "initialized", "active", "stopped".
inline const char* context_state_name(ContextState s) {
  switch (s) {
    case ContextState::initialized:
      return "initialized";
    case ContextState::active:
      return "active";
    case ContextState::stopped:
      return "stopped";
  }
  return "unknown";
}

}  // namespace rill::ops::detail
