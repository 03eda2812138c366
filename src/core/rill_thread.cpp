#include "rill/core/detail/rill_thread.hpp"

namespace rill::detail {

namespace {
thread_local bool tl_rill_thread = false;
}  // namespace

RillThreadScope::RillThreadScope() noexcept : previous_(tl_rill_thread) {
  tl_rill_thread = true;
}

RillThreadScope::~RillThreadScope() {
  tl_rill_thread = previous_;
}

bool on_rill_thread() noexcept {
  return tl_rill_thread;
}

}  // namespace rill::detail
