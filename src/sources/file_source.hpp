#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "rill/sources/options.hpp"
#include "rill/sources/source.hpp"

namespace rill::detail {

/// text_file_stream: lines of the files newly visible in a directory (Spark's FileInputDStream
/// rules, with the context's clock). The files of batch t are listed and read when t is sealed;
/// its seal record names them, and its position is the set of names seen (read or skipped).
class FileSource final : public Source<std::string> {
 public:
  FileSource(std::filesystem::path dir, FileStreamOptions options);

  [[nodiscard]] std::string kind() const override { return "text_file_stream"; }
  [[nodiscard]] SourceProperties properties() const override {
    return SourceProperties{.delivery = Delivery::exactly_once, .replayable = true};
  }
  void start(SourceContext& ctx) override;
  Sealed<std::string> seal(Time t, bool take_buffered) override;
  std::vector<std::string> replay(Time t, std::string_view record) override;
  void release(Time t) override;

  [[nodiscard]] std::optional<PositionType> position() const override {
    return position_type<std::set<std::string>>();
  }
  [[nodiscard]] std::string save_position(Time t) const override;
  void load_position(std::string_view bytes) override;
  [[nodiscard]] SourceCounts counts() const override {
    return SourceCounts{skipped_.load(), errors_.load()};
  }

 private:
  /// Candidate files now in the directory, sorted by name.
  std::vector<std::filesystem::path> list();
  static bool read_lines(const std::filesystem::path& file, std::vector<std::string>& lines);
  /// Appends the file's lines; on failure logs and counts it, and appends nothing.
  bool read_file(const std::filesystem::path& file, std::vector<std::string>& lines);

  std::filesystem::path dir_;
  FileStreamOptions options_;
  std::string name_;        // the stream's, once started
  Clock* clock_ = nullptr;  // the context's, once started
  bool checkpointing_ = false;
  bool dir_missing_logged_ = false;
  std::atomic<std::int64_t> skipped_{0};
  std::atomic<std::int64_t> errors_{0};
  mutable std::mutex files_mutex_;
  std::set<std::string> seen_;                        // names listed so far
  std::map<Time, std::vector<std::string>> seen_in_;  // batch -> names first seen
};

}  // namespace rill::detail
