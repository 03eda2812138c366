#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rill/core/format.hpp"
#include "rill/dstream/node.hpp"

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
class ForeachOutput final : public OutputOp {
 public:
  ForeachOutput(std::shared_ptr<Node<T>> parent, F f, bool idempotent)
      : OutputOp("foreach_batch", parent),
        node_(std::move(parent)),
        f_(std::move(f)),
        idempotent_(idempotent) {}
  void run(Time t, Exec& ex) override {
    auto batch = node_->get(t, ex);
    std::invoke(f_, *batch, t);
  }
  [[nodiscard]] Delivery delivery() const override {
    return idempotent_ ? Delivery::exactly_once : Delivery::at_least_once;
  }

 private:
  std::shared_ptr<Node<T>> node_;
  F f_;
  bool idempotent_;
};

/// print(n): Spark's layout, one block per batch, flushed.
template <class T>
class PrintOutput final : public OutputOp {
 public:
  PrintOutput(std::shared_ptr<Node<T>> parent, std::size_t n)
      : OutputOp("print", parent), node_(std::move(parent)), n_(n) {}
  void run(Time t, Exec& ex) override {
    auto batch = node_->get(t, ex);
    std::string out;
    append_print_header(out, t);
    std::size_t i = 0;
    for (const T& x : *batch) {
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
  std::shared_ptr<Node<T>> node_;
  std::size_t n_;
};

/// save_as_text_files(prefix, suffix): one file per batch, one record a line.
template <class T>
class TextFilesOutput final : public OutputOp {
 public:
  TextFilesOutput(std::shared_ptr<Node<T>> parent, std::string prefix, std::string suffix)
      : OutputOp("save_as_text_files", parent),
        node_(std::move(parent)),
        prefix_(std::move(prefix)),
        suffix_(std::move(suffix)) {}
  /// A file is committed by its rename; a batch run again after a restart finds it there and
  /// is not written twice (a half-written one was never renamed, and is replaced whole).
  [[nodiscard]] Delivery delivery() const override { return Delivery::exactly_once; }

  void run(Time t, Exec& ex) override {
    const std::string path = batch_file_name(prefix_, suffix_, t);
    if (ex.replaying() && std::filesystem::exists(path)) return;
    node_->prepare(t, ex);
    std::vector<std::string> texts(node_->num_partitions());
    ex.parallel_for(texts.size(), [&](std::size_t p) {
      LineSink sink(texts[p]);
      node_->stream(t, p, sink);
    });
    std::size_t total = 0;
    for (const auto& s : texts)
      total += s.size();
    std::string all;
    all.reserve(total);
    for (const auto& s : texts)
      all += s;
    write_file_atomically(path, all);
  }

 private:
  class LineSink final : public Sink<T> {
   public:
    explicit LineSink(std::string& out) : out_(out) {}
    void push(std::span<const T> items) override {
      for (const T& x : items) {
        append_value(out_, x);
        out_ += '\n';
      }
    }

   private:
    std::string& out_;
  };

  std::shared_ptr<Node<T>> node_;
  std::string prefix_;
  std::string suffix_;
};

}  // namespace rill::detail
