#include "rill/core/format.hpp"

namespace rill::detail {

namespace {
// Shortest round-trip form of the value in its own type (0.1f prints 0.1), plus ".0" when that
// is a whole number, as Spark prints doubles.
template <class F>
void append_shortest(std::string& out, F v) {
  const auto start = out.size();
  fmt::format_to(std::back_inserter(out), "{}", v);
  if (!std::isfinite(v)) return;
  const std::string_view written(out.data() + start, out.size() - start);
  if (written.find_first_of(".eE") == std::string_view::npos) out += ".0";
}
}  // namespace

void append_floating(std::string& out, float v) {
  append_shortest(out, v);
}
void append_floating(std::string& out, double v) {
  append_shortest(out, v);
}
void append_floating(std::string& out, long double v) {
  append_shortest(out, v);
}

}  // namespace rill::detail
