#pragma once

#include <string_view>

namespace rill::ops::detail {

/// The status page served on `/`: one self-contained HTML file (inline CSS, plain JavaScript,
/// inline SVG; nothing loaded from elsewhere) that polls /progress and /context every second and
/// draws the last batches. Stable element ids for the numbers it shows (docs/operations.md).
[[nodiscard]] std::string_view status_page_html() noexcept;

}  // namespace rill::ops::detail
