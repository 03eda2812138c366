#include "sources/line_reader.hpp"

#include <algorithm>
#include <fstream>
#include <memory>
#include <string_view>

namespace rill::detail {

namespace {
constexpr std::size_t kChunkBytes = std::size_t{1} << 20;
}  // namespace

std::optional<LineRange> read_line_range(const std::filesystem::path& file, std::uint64_t begin,
                                         const LineLimits& limits,
                                         std::vector<std::string>& lines) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  LineRange range{begin, false, 0};
  if (begin > 0) {
    in.seekg(static_cast<std::streamoff>(begin));
    if (!in) return std::nullopt;
  }
  const auto chunk = std::make_unique<char[]>(kChunkBytes);
  std::string line;
  bool skipping = false;       // inside a line longer than max_line_bytes
  bool taken_any = false;      // a line was taken (the budget then binds)
  bool in_line = false;        // bytes of an unfinished line were read
  std::uint64_t read = begin;  // bytes of the file consumed so far

  // Ends the line [range.end, line_end): false when the budget leaves it for a later range.
  const auto finish = [&](std::uint64_t line_end) {
    if ((taken_any || !limits.take_one) && line_end - begin > limits.budget) return false;
    if (skipping) {
      ++range.too_long;
    } else {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(std::move(line));
    }
    line = std::string();
    skipping = false;
    in_line = false;
    taken_any = true;
    range.end = line_end;
    return true;
  };

  while (read < limits.limit) {
    const auto want =
        static_cast<std::size_t>(std::min<std::uint64_t>(kChunkBytes, limits.limit - read));
    in.read(chunk.get(), static_cast<std::streamsize>(want));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got == 0) {
      if (in.bad()) return std::nullopt;
      range.at_end = true;
      break;
    }
    std::string_view data(chunk.get(), got);
    std::uint64_t offset = read;  // file offset of data[0]
    while (!data.empty()) {
      const auto nl = data.find('\n');
      const auto piece = data.substr(0, nl);
      in_line = true;
      if (!skipping) {
        if (line.size() + piece.size() > limits.max_line_bytes) {
          skipping = true;
          line = std::string();
        } else {
          line.append(piece);
        }
      }
      if (nl == std::string_view::npos) break;
      if (!finish(offset + nl + 1)) return range;
      offset += nl + 1;
      data.remove_prefix(nl + 1);
    }
    read += got;
    if (got < want) {
      if (in.bad()) return std::nullopt;
      range.at_end = true;
      break;
    }
  }
  // The last line lacks its '\n' (at the end of the file, or of a replayed range that ended
  // there).
  if (in_line && !finish(read)) {
    range.at_end = false;
    return range;
  }
  return range;
}

}  // namespace rill::detail
