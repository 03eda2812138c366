#pragma once
// A strict reader of Prometheus' text exposition format 0.0.4, for the tests of /metrics: it
// parses the text back into families and samples and lists every rule the text breaks.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace rill_test {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct PromFamily {
  std::string name;
  std::string type;
  std::string help;
  std::vector<PromSample> samples;
};

struct Exposition {
  std::vector<PromFamily> families;
  std::vector<std::string> errors;

  [[nodiscard]] const PromFamily* family(const std::string& name) const {
    for (const auto& f : families)
      if (f.name == name) return &f;
    return nullptr;
  }
  /// The value of the sample `name{labels}`, if there is one.
  [[nodiscard]] std::optional<double> value(
      const std::string& name, const std::map<std::string, std::string>& labels = {}) const {
    for (const auto& f : families)
      for (const auto& s : f.samples)
        if (s.name == name && s.labels == labels) return s.value;
    return std::nullopt;
  }
};

namespace prom_detail {

inline bool is_metric_name(const std::string& s) {
  static const std::regex re("[a-zA-Z_:][a-zA-Z0-9_:]*");
  return std::regex_match(s, re);
}
inline bool is_label_name(const std::string& s) {
  static const std::regex re("[a-zA-Z_][a-zA-Z0-9_]*");
  return std::regex_match(s, re) && s.rfind("__", 0) != 0;
}
inline std::optional<double> parse_value(const std::string& s) {
  if (s == "+Inf") return HUGE_VAL;
  if (s == "-Inf") return -HUGE_VAL;
  if (s == "NaN") return std::nan("");
  static const std::regex re(R"([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)");
  if (!std::regex_match(s, re)) return std::nullopt;
  return std::stod(s);
}

}  // namespace prom_detail

/// Parses `text`; Exposition::errors is empty when it follows the format (and the conventions
/// checked here: `rill_` names, counters ending in `_total`, histograms' buckets).
inline Exposition parse_exposition(const std::string& text) {
  using namespace prom_detail;
  Exposition out;
  auto error = [&](std::size_t line, const std::string& what) {
    out.errors.push_back("line " + std::to_string(line) + ": " + what);
  };
  if (text.empty() || text.back() != '\n') out.errors.push_back("the text must end with \\n");
  std::set<std::string> seen_families;
  std::set<std::string> seen_series;
  PromFamily* current = nullptr;
  std::string pending_help_name;
  std::string pending_help;
  std::istringstream in(text);
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    if (line.rfind("# HELP ", 0) == 0) {
      const auto rest = line.substr(7);
      const auto sp = rest.find(' ');
      pending_help_name = rest.substr(0, sp);
      pending_help = sp == std::string::npos ? "" : rest.substr(sp + 1);
      if (!is_metric_name(pending_help_name))
        error(number, "bad name in HELP: " + pending_help_name);
      for (std::size_t i = 0; i < pending_help.size(); ++i) {
        if (pending_help[i] == '\\') {
          if (i + 1 >= pending_help.size() ||
              (pending_help[i + 1] != '\\' && pending_help[i + 1] != 'n')) {
            error(number, "bad escape in HELP");
          }
          ++i;
        }
      }
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string name, type, extra;
      words >> name >> type;
      if (words >> extra) error(number, "extra words after TYPE");
      if (!is_metric_name(name)) error(number, "bad name in TYPE: " + name);
      static const std::set<std::string> types{"counter", "gauge", "histogram", "summary",
                                               "untyped"};
      if (!types.count(type)) error(number, "unknown type " + type);
      if (!seen_families.insert(name).second) error(number, "family declared twice: " + name);
      if (pending_help_name != name) error(number, "TYPE " + name + " without its HELP line first");
      if (name.rfind("rill_", 0) != 0) error(number, name + " does not start with rill_");
      if (type == "counter" && (name.size() < 6 || name.substr(name.size() - 6) != "_total")) {
        error(number, "counter " + name + " does not end in _total");
      }
      out.families.push_back(PromFamily{name, type, pending_help, {}});
      current = &out.families.back();
      pending_help_name.clear();
      continue;
    }
    if (line[0] == '#') continue;  // a comment
    // A sample: name[{labels}] value
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ')
      ++i;
    PromSample sample;
    sample.name = line.substr(0, i);
    if (!is_metric_name(sample.name)) error(number, "bad metric name " + sample.name);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::size_t eq = line.find('=', i);
        if (eq == std::string::npos) {
          error(number, "label without =");
          break;
        }
        const std::string label = line.substr(i, eq - i);
        if (!is_label_name(label)) error(number, "bad label name " + label);
        i = eq + 1;
        if (i >= line.size() || line[i] != '"') {
          error(number, "label value not quoted");
          break;
        }
        ++i;
        std::string value;
        bool closed = false;
        while (i < line.size()) {
          const char c = line[i++];
          if (c == '"') {
            closed = true;
            break;
          }
          if (c == '\\') {
            if (i >= line.size()) break;
            const char e = line[i++];
            if (e == '\\') {
              value += '\\';
            } else if (e == '"') {
              value += '"';
            } else if (e == 'n') {
              value += '\n';
            } else {
              error(number, std::string("bad escape \\") + e + " in a label value");
            }
          } else {
            value += c;
          }
        }
        if (!closed) error(number, "unterminated label value");
        if (sample.labels.count(label)) error(number, "label repeated: " + label);
        sample.labels[label] = value;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size() || line[i] != '}') {
        error(number, "labels not closed");
        continue;
      }
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') {
      error(number, "no space before the value");
      continue;
    }
    const std::string value_text = line.substr(i + 1);
    if (value_text.find(' ') != std::string::npos) error(number, "a timestamp or extra text");
    const auto value = parse_value(value_text);
    if (!value) {
      error(number, "bad value " + value_text);
      continue;
    }
    sample.value = *value;
    if (!current) {
      error(number, "sample before any TYPE line: " + sample.name);
      continue;
    }
    bool belongs = sample.name == current->name;
    if (current->type == "histogram") {
      belongs = sample.name == current->name + "_bucket" || sample.name == current->name + "_sum" ||
                sample.name == current->name + "_count";
      if (sample.name == current->name + "_bucket" && !sample.labels.count("le")) {
        error(number, "bucket without le");
      }
    }
    if (!belongs) error(number, sample.name + " is not of the family " + current->name);
    std::string key = sample.name;
    for (const auto& [k, v] : sample.labels)
      key += "|" + k + "=" + v;
    if (!seen_series.insert(key).second) error(number, "series repeated: " + key);
    current->samples.push_back(std::move(sample));
  }

  // Histograms: per label set (le aside), le ascending, counts non-decreasing, +Inf last and
  // equal to _count, _sum present.
  for (const auto& f : out.families) {
    if (f.type != "histogram") continue;
    std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> buckets;
    std::map<std::map<std::string, std::string>, double> counts;
    std::set<std::map<std::string, std::string>> sums;
    for (const auto& s : f.samples) {
      auto labels = s.labels;
      if (s.name == f.name + "_bucket") {
        const auto le = parse_value(labels["le"]);
        if (!le) out.errors.push_back(f.name + ": bad le " + labels["le"]);
        labels.erase("le");
        buckets[labels].emplace_back(le.value_or(0), s.value);
      } else if (s.name == f.name + "_count") {
        counts[labels] = s.value;
      } else {
        sums.insert(labels);
      }
    }
    if (buckets.empty()) out.errors.push_back(f.name + ": a histogram without buckets");
    for (const auto& [labels, list] : buckets) {
      for (std::size_t i = 1; i < list.size(); ++i) {
        if (!(list[i].first > list[i - 1].first))
          out.errors.push_back(f.name + ": le not ascending");
        if (list[i].second < list[i - 1].second) {
          out.errors.push_back(f.name + ": bucket counts go down");
        }
      }
      if (list.empty() || !std::isinf(list.back().first)) {
        out.errors.push_back(f.name + ": the last bucket is not le=\"+Inf\"");
      } else if (!counts.count(labels) || counts.at(labels) != list.back().second) {
        out.errors.push_back(f.name + ": _count missing or not the +Inf bucket's count");
      }
      if (!sums.count(labels)) out.errors.push_back(f.name + ": _sum missing");
    }
  }
  return out;
}

}  // namespace rill_test
