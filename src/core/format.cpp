#include "rill/core/format.hpp"

namespace rill::detail {

void append_floating(std::string& out, double v) {
  const auto start = out.size();
  fmt::format_to(std::back_inserter(out), "{}", v);
  if (!std::isfinite(v)) return;
  const std::string_view written(out.data() + start, out.size() - start);
  if (written.find_first_of(".eE") == std::string_view::npos) out += ".0";
}

}  // namespace rill::detail
