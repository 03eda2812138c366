#include "rill/dstream/detail/window.hpp"

namespace rill::detail {

void check_window(const char* what, Duration window, Duration slide, Duration parent_slide) {
  const auto bad = [&](const char* why) {
    throw InvalidArgument(fmt::format(
        "DStream::{}: {} (window {} ms, slide {} ms, parent slide {} ms); use multiples of the "
        "parent's slide",
        what, why, window.count(), slide.count(), parent_slide.count()));
  };
  if (window.count() <= 0 || slide.count() <= 0) bad("the window and the slide must be positive");
  if (window.count() % parent_slide.count() != 0) {
    bad("the window is not a multiple of the parent's slide");
  }
  if (slide.count() % parent_slide.count() != 0) {
    bad("the slide is not a multiple of the parent's slide");
  }
}

}  // namespace rill::detail
