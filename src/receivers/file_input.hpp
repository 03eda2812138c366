#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "rill/receivers/inputs.hpp"
#include "rill/receivers/options.hpp"

namespace rill::detail {

/// text_file_stream: lines of the files newly visible in a directory (Spark's FileInputDStream
/// rules, with the context's clock). The files of batch t are listed and read when t is sealed.
class FileInputNode final : public SealedInputNode<std::string> {
 public:
  FileInputNode(std::filesystem::path dir, FileStreamOptions options, Duration interval,
                std::size_t partitions);

  void start_input(Runtime& rt, Time zero) override;
  std::int64_t seal(Time t, bool take_buffered) override;
  void release_input(Time t) override;

  /// Checkpoints: the names of the files a batch took, and the files seen (read or skipped).
  [[nodiscard]] std::optional<StateDescriptor> state_descriptor() const override {
    return describe_state<std::set<std::string>>();
  }
  [[nodiscard]] std::string seal_record(Time t) const override;
  std::int64_t replay_seal(Time t, std::string_view record) override;
  [[nodiscard]] std::string save_state(Time t) const override;
  void load_state(std::string_view bytes) override;

 private:
  /// Candidate files now in the directory, sorted by name.
  std::vector<std::filesystem::path> list();
  bool read_lines(const std::filesystem::path& file, std::vector<std::string>& lines);
  /// Appends the file's lines; on failure logs and counts it, and appends nothing.
  bool read_file(const std::filesystem::path& file, std::vector<std::string>& lines);

  std::filesystem::path dir_;
  FileStreamOptions options_;
  Runtime* rt_ = nullptr;
  bool dir_missing_logged_ = false;
  mutable std::mutex files_mutex_;
  std::set<std::string> seen_;                        // names listed so far
  std::map<Time, std::vector<std::string>> files_;    // batch -> files it read
  std::map<Time, std::vector<std::string>> seen_in_;  // batch -> names first seen
};

}  // namespace rill::detail
