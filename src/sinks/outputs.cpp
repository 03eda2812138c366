#include "rill/sinks/detail/outputs.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include "rill/core/errors.hpp"

namespace rill::detail {

void write_stdout_block(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

void append_print_header(std::string& out, Time t) {
  constexpr std::string_view dashes = "-------------------------------------------";
  out += dashes;
  out += '\n';
  fmt::format_to(std::back_inserter(out), "Time: {}\n", t);
  out += dashes;
  out += '\n';
}

std::string batch_file_name(std::string_view prefix, std::string_view suffix, Time t) {
  if (suffix.empty()) return fmt::format("{}-{}", prefix, t.milliseconds());
  return fmt::format("{}-{}.{}", prefix, t.milliseconds(), suffix);
}

namespace {
[[noreturn]] void throw_io(std::string_view what, const std::filesystem::path& path, int err) {
  throw IoError(fmt::format("{} '{}': {}", what, path.string(), std::strerror(err)));
}
}  // namespace

void write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  // A leading '.' keeps a text_file_stream on the same directory from reading a partial file.
  const auto tmp = dir / fmt::format(".{}.rill-tmp", path.filename().string());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw_io("save_as_text_files: cannot create", tmp, errno);
  std::size_t done = 0;
  while (done < contents.size()) {
    const auto n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw_io("save_as_text_files: cannot write", tmp, err);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw_io("save_as_text_files: cannot close", tmp, err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw_io("save_as_text_files: cannot rename into", path, err);
  }
}

}  // namespace rill::detail
