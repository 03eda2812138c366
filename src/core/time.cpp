#include "rill/core/time.hpp"

#include <ostream>

namespace rill {

std::ostream& operator<<(std::ostream& os, Time t) {
  return os << t.milliseconds() << " ms";
}

std::string to_string(Time t) {
  return fmt::format("{}", t);
}

}  // namespace rill
