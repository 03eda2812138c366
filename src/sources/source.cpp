#include "rill/sources/source.hpp"

#include "rill/sources/detail/runtime.hpp"

namespace rill {

Clock& SourceContext::clock() const {
  return runtime_.clock();
}

const Config& SourceContext::config() const {
  return runtime_.config();
}

bool SourceContext::checkpointing() const {
  return runtime_.checkpointing();
}

bool SourceContext::available_now() const {
  return runtime_.config().trigger().is_available_now();
}

}  // namespace rill
