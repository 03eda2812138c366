#include "rill/dstream/time_window.hpp"

namespace rill {

std::ostream& operator<<(std::ostream& os, const TimeWindow& w) {
  return os << to_string(w);
}

std::string to_string(const TimeWindow& w) {
  std::string out;
  detail::append_window(out, w);
  return out;
}

}  // namespace rill
