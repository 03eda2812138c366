#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rill/core/time.hpp"
#include "rill/detail/malformed_lines.hpp"
#include "rill/formats/detail/csv_fields.hpp"
#include "rill/formats/detail/json_reader.hpp"

/// parse_json() and parse_csv(): a per-record step, fused with the narrow steps around it, that
/// turns a line into a record or routes it to the malformed lines.
namespace rill::detail {

/// What a line parser made of a line.
enum class LineVerdict {
  record,     ///< the record was parsed
  skipped,    ///< not data (a CSV header line): dropped, not counted
  malformed,  ///< the reason was set
};

/// One line of JSON (JSON Lines) into a T.
template <class T>
struct JsonLineParser {
  LineVerdict operator()(std::string_view line, T& out, std::string& reason) {
    return formats::detail::json_parse_into(line, out, reason) ? LineVerdict::record
                                                               : LineVerdict::malformed;
  }
};

/// One CSV record into a T; a line equal to rill::csv::header<T>() (a trailing `\r` aside) is
/// skipped. The record scratch is the partition task's own (the step is copied per task).
template <class T>
struct CsvLineParser {
  std::shared_ptr<const std::string> header;
  formats::detail::CsvRecord record{};

  LineVerdict operator()(std::string_view line, T& out, std::string& reason) {
    std::string_view bare = line;
    if (bare.ends_with("\r\n")) {
      bare.remove_suffix(2);
    } else if (bare.ends_with('\n') || bare.ends_with('\r')) {
      bare.remove_suffix(1);
    }
    if (bare == *header) return LineVerdict::skipped;
    return formats::detail::csv_parse_into(line, out, record, reason) ? LineVerdict::record
                                                                      : LineVerdict::malformed;
  }
};

/// The step: emits each parsed record; reports each malformed line (counted, logged, and kept
/// for malformed() in the slot of the partition being streamed). StepNode binds the batch
/// (bind_batch, batch thread) and the partition (bind_partition, on the task's copy).
template <class T, class Parser>
struct ParseStep {
  std::shared_ptr<MalformedLines> lines;
  Parser parser;
  std::vector<std::vector<std::string>>* batch = nullptr;
  std::vector<std::string>* slot = nullptr;
  std::string reason{};

  void bind_batch(Time t) { batch = lines->open(t); }
  void bind_partition(std::size_t p) { slot = batch != nullptr ? &(*batch)[p] : nullptr; }

  template <class X, class E>
  void operator()(const X& line, E& emit) {
    T value{};
    switch (parser(std::string_view(line), value, reason)) {
      case LineVerdict::record:
        emit(std::move(value));
        return;
      case LineVerdict::skipped:
        return;
      case LineVerdict::malformed:
        lines->report(line, reason, slot);
        return;
    }
  }
};

}  // namespace rill::detail
