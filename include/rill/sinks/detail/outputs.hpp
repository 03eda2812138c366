#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rill/core/format.hpp"
#include "rill/sinks/sink.hpp"

/// Output operations: the only things that make a stream compute.
namespace rill::detail {

/// Writes `text` to stdout at once and flushes (print()).
void write_stdout_block(std::string_view text);
/// The header print() writes for batch t: dashes, `Time: <t>`, dashes.
void append_print_header(std::string& out, Time t);
/// Writes `contents` to `path` under a temporary name in the same directory, then renames it
/// (rill::IoError on failure).
void write_file_atomically(const std::filesystem::path& path, std::string_view contents);
/// `prefix-<ms>` plus `.suffix` when the suffix is not empty (Spark's rddToFileName).
std::string batch_file_name(std::string_view prefix, std::string_view suffix, Time t);

/// foreach_batch(f): f(batch, time) on the batch thread. At least once after a crash, unless
/// the user promises f is idempotent per batch time.
template <class T, class F>
class ForeachSink final : public Sink<T> {
 public:
  ForeachSink(F f, bool idempotent) : f_(std::move(f)), idempotent_(idempotent) {}
  [[nodiscard]] std::string kind() const override { return "foreach_batch"; }
  [[nodiscard]] SinkProperties properties() const override {
    return SinkProperties{.delivery =
                              idempotent_ ? Delivery::exactly_once : Delivery::at_least_once};
  }
  void write(const BatchView<T>& batch) override { std::invoke(f_, *batch.get(), batch.time()); }

 private:
  F f_;
  bool idempotent_;
};

/// print(n): Spark's layout, one block per batch, flushed. A console: may show a batch again
/// after a crash.
template <class T>
class PrintSink final : public Sink<T> {
 public:
  explicit PrintSink(std::size_t n) : n_(n) {}
  [[nodiscard]] std::string kind() const override { return "print"; }
  [[nodiscard]] SinkProperties properties() const override {
    return SinkProperties{.delivery = Delivery::at_least_once, .console = true};
  }
  void write(const BatchView<T>& batch) override {
    auto records = batch.get();
    std::string out;
    append_print_header(out, batch.time());
    std::size_t i = 0;
    for (const T& x : *records) {
      if (i == n_) {
        out += "...\n";
        break;
      }
      append_value(out, x);
      out += '\n';
      ++i;
    }
    out += '\n';
    write_stdout_block(out);
  }

 private:
  std::size_t n_;
};

/// How save_as_text_files writes a record: as print() does (core/format.hpp).
struct DisplayLine {
  template <class T>
  void operator()(std::string& out, const T& x) const {
    append_value(out, x);
  }
};

/// save_as_text_files(prefix, suffix): one file per batch, one record a line. A file is
/// committed by its rename; a batch run again after a restart finds it there and is not written
/// twice (a half-written one was never renamed, and is replaced whole): exactly once.
/// `Line` writes one record without its `\n` (`line(out, record)`: DisplayLine, or the record
/// formats' JSON and CSV lines for save_as_json_files and save_as_csv_files); `first_line`, when
/// not empty, opens every file (a CSV header).
template <class T, class Line = DisplayLine>
class TextFilesSink final : public Sink<T> {
 public:
  TextFilesSink(std::string prefix, std::string suffix, std::string kind = "save_as_text_files",
                std::string first_line = {})
      : prefix_(std::move(prefix)),
        suffix_(std::move(suffix)),
        kind_(std::move(kind)),
        first_line_(std::move(first_line)) {}
  [[nodiscard]] std::string kind() const override { return kind_; }
  [[nodiscard]] SinkProperties properties() const override {
    return SinkProperties{.delivery = Delivery::exactly_once};
  }

  void write(const BatchView<T>& batch) override {
    const std::string path = batch_file_name(prefix_, suffix_, batch.time());
    if (batch.replaying() && std::filesystem::exists(path)) return;
    std::vector<std::string> texts(batch.num_partitions());
    batch.for_each_chunk([&](std::size_t p, std::span<const T> items) {
      std::string& out = texts[p];
      const Line line{};
      for (const T& x : items) {
        line(out, x);
        out += '\n';
      }
    });
    std::size_t total = first_line_.empty() ? 0 : first_line_.size() + 1;
    for (const auto& s : texts)
      total += s.size();
    std::string all;
    all.reserve(total);
    if (!first_line_.empty()) {
      all += first_line_;
      all += '\n';
    }
    for (const auto& s : texts)
      all += s;
    write_file_atomically(path, all);
  }

 private:
  std::string prefix_;
  std::string suffix_;
  std::string kind_;
  std::string first_line_;
};

}  // namespace rill::detail
