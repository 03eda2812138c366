// Helpers the guide's snippet programs share: show() prints a stream's batches in a stable order,
// TempDir makes a scratch directory, move_in() moves a file into a watched directory whole.
#pragma once

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include <rill/rill.hpp>

namespace guide {

// [show]
// Prints every record of every batch as `label @<batch time>: record`, sorted within the batch:
// keyed and event-time results come in no fixed order, so sorting makes the output repeatable.
template <class T>
void show(const rill::DStream<T>& stream, std::string label) {
  stream.foreach_batch([label](const rill::Batch<T>& batch, rill::Time t) {
    auto records = batch.collect();
    std::sort(records.begin(), records.end());
    for (const auto& r : records)
      std::cout << label << " @" << t << ": " << rill::format_record(r) << '\n';
  });
}
// [/show]

/// A fresh directory under /tmp, removed with everything in it when the object dies.
class TempDir {
 public:
  TempDir() {
    std::string name = (std::filesystem::temp_directory_path() / "rill-guide-XXXXXX").string();
    if (::mkdtemp(name.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = name;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

// [move-in]
// A file stream reads a file once, when it is first listed, so a file must appear whole: write it
// under a name starting with '.' (ignored), then rename it.
inline void move_in(const std::filesystem::path& dir, const std::string& name,
                    const std::string& text) {
  const auto hidden = dir / ("." + name);
  std::ofstream(hidden) << text;
  std::filesystem::rename(hidden, dir / name);
}
// [/move-in]

}  // namespace guide
