#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "rill/detail/malformed_lines.hpp"
#include "rill/dstream.hpp"

namespace rill {

/// The result of parse_json<T>() and parse_csv<T>() on a DStream<std::string>: a DStream<T> of
/// the lines that parsed (every DStream operation works on it, and per-record steps after it
/// fuse into the same pass), plus malformed(), the lines that did not.
///
/// Thread-safety: as DStream (build the graph from one thread, before start());
/// malformed_count() from any thread.
template <class T, class N>
class ParsedDStream : public StepDStream<T, N> {
 public:
  ParsedDStream(StepDStream<T, N> parsed, std::shared_ptr<detail::MalformedLines> lines)
      : StepDStream<T, N>(std::move(parsed)),
        lines_(std::move(lines)),
        malformed_(std::make_shared<std::shared_ptr<detail::Node<std::string>>>()) {}

  /// Gives the stream a stable, unique name (the log lines about bad lines use it), keeping the
  /// type.
  ParsedDStream name(std::string name) const {
    StepDStream<T, N>::name(std::move(name));
    return *this;
  }
  using StepDStream<T, N>::name;

  /// The lines that did not parse, in the batch that read them, partitioned as the input was
  /// and in input order (Spark's `columnNameOfCorruptRecord` / Flink's side output for bad
  /// records). A CSV header line is not one. The same stream on every call. Before start()
  /// (rill::IllegalState after).
  DStream<std::string> malformed() const {
    if (!*malformed_) {
      this->graph()->check_open("ParsedDStream::malformed");
      lines_->keep();
      *malformed_ = std::make_shared<detail::MalformedNode<T>>(this->node(), lines_);
      this->graph()->add_node(*malformed_, "ParsedDStream::malformed");
    }
    return DStream<std::string>(this->graph(), *malformed_);
  }

  /// The lines that did not parse since the context started (a batch replayed after a restart
  /// counts again), whether or not malformed() is used. Any thread.
  [[nodiscard]] std::int64_t malformed_count() const noexcept { return lines_->count(); }

 private:
  std::shared_ptr<detail::MalformedLines> lines_;
  std::shared_ptr<std::shared_ptr<detail::Node<std::string>>> malformed_;
};

}  // namespace rill
