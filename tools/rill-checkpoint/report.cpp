#include "report.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <boost/json.hpp>

namespace rill_checkpoint {

namespace json = boost::json;
using rill::CheckpointFile;
using rill::CheckpointReader;
using rill::Time;

namespace {

std::string filename(const std::filesystem::path& path) {
  return path.filename().string();
}

json::value ms(const std::optional<Time>& t) {
  return t ? json::value(t->milliseconds()) : json::value(nullptr);
}

std::string ms_text(const std::optional<Time>& t) {
  return t ? fmt::format("{} ms", t->milliseconds()) : std::string("none");
}

/// The checkpoint files grouped into chains: each snapshot starts one, each readable delta joins
/// the chain of its previous checkpoint; a delta whose base is not there starts a broken one.
struct FileChain {
  std::vector<const CheckpointFile*> files;
  bool broken = false;  // its first file is a delta whose base is missing or damaged
};

std::vector<FileChain> chains_of(const std::vector<CheckpointFile>& files) {
  std::vector<FileChain> chains;
  std::map<std::int64_t, std::size_t> chain_at;  // batch time -> its chain
  for (const CheckpointFile& file : files) {
    if (file.damage) continue;
    if (!file.snapshot) {
      if (auto it = chain_at.find(file.previous->milliseconds()); it != chain_at.end()) {
        chains[it->second].files.push_back(&file);
        chain_at[file.batch_time.milliseconds()] = it->second;
        continue;
      }
    }
    chains.push_back(FileChain{{&file}, !file.snapshot});
    chain_at[file.batch_time.milliseconds()] = chains.size() - 1;
  }
  return chains;
}

std::string status_text(const std::optional<std::string>& damage) {
  return damage ? "DAMAGED: " + *damage : std::string("ok");
}

void print_restore_line(const CheckpointReader& reader, std::ostream& out) {
  const auto latest = reader.latest();
  if (!latest) {
    fmt::print(out, "recovery restores: nothing (no checkpoint can be restored)\n");
    return;
  }
  std::string chain;
  for (const Time t : reader.chain())
    chain += fmt::format("{}{}", chain.empty() ? "" : " <- ", t.milliseconds());
  fmt::print(out, "recovery restores: batch {} ms (chain {}), zero {} ms, interval {} ms\n",
             latest->milliseconds(), chain, reader.zero().milliseconds(),
             reader.interval().count());
}

json::object operator_json(const rill::CheckpointedOperator& op) {
  json::object o;
  o["name"] = op.name;
  o["kind"] = op.kind;
  o["fingerprint"] = fmt::format("{:#018x}", op.fingerprint);
  o["input"] = op.input;
  o["keys"] = op.keys ? json::value(*op.keys) : json::value(nullptr);
  o["bytes"] = op.bytes;
  o["stored"] = op.delta ? "delta" : "whole";
  if (op.input) o["position"] = op.position ? json::value(*op.position) : json::value(nullptr);
  return o;
}

json::value watermarks_json(const std::optional<rill::CheckpointWatermarks>& w) {
  if (!w) return nullptr;
  json::object o;
  o["global"] = ms(w->global);
  o["in_force"] = ms(w->in_force);
  json::array inputs;
  for (const auto& in : w->inputs)
    inputs.push_back(
        json::object{{"input", in.input}, {"watermark", ms(in.watermark)}, {"idle", in.idle}});
  o["inputs"] = std::move(inputs);
  return o;
}

}  // namespace

int list(const CheckpointReader& reader, bool as_json, std::ostream& out) {
  const auto files = reader.checkpoints();
  const auto pending = reader.pending();
  const auto latest = reader.latest();
  std::vector<rill::CheckpointedOperator> inputs;
  std::optional<rill::CheckpointWatermarks> watermarks;
  if (latest) {
    for (auto& op : reader.operators()) {
      if (op.input) inputs.push_back(std::move(op));
    }
    watermarks = reader.watermarks();
  }
  const auto chains = chains_of(files);

  if (as_json) {
    json::object doc;
    doc["directory"] = reader.directory().string();
    doc["restores"] = ms(latest);
    if (latest) {
      json::array chain;
      for (const Time t : reader.chain())
        chain.push_back(t.milliseconds());
      doc["chain"] = std::move(chain);
      doc["zero"] = reader.zero().milliseconds();
      doc["interval"] = reader.interval().count();
    }
    json::array checkpoints;
    for (const CheckpointFile& f : files) {
      checkpoints.push_back(
          json::object{{"batch_time", f.batch_time.milliseconds()},
                       {"kind", f.snapshot ? "snapshot" : "delta"},
                       {"previous", ms(f.previous)},
                       {"file", filename(f.path)},
                       {"bytes", f.bytes},
                       {"damage", f.damage ? json::value(*f.damage) : json::value(nullptr)}});
    }
    doc["checkpoints"] = std::move(checkpoints);
    json::array chain_list;
    for (const FileChain& c : chains) {
      json::array times;
      for (const CheckpointFile* f : c.files)
        times.push_back(f->batch_time.milliseconds());
      chain_list.push_back(json::object{{"batches", std::move(times)}, {"broken", c.broken}});
    }
    doc["chains"] = std::move(chain_list);
    json::array pend;
    for (const auto& p : pending) {
      json::array names;
      for (const auto& name : p.inputs)
        names.push_back(json::string(name));
      pend.push_back(
          json::object{{"batch_time", p.batch_time.milliseconds()},
                       {"file", filename(p.path)},
                       {"bytes", p.bytes},
                       {"inputs", std::move(names)},
                       {"damage", p.damage ? json::value(*p.damage) : json::value(nullptr)}});
    }
    doc["pending"] = std::move(pend);
    json::array positions;
    for (const auto& op : inputs)
      positions.push_back(operator_json(op));
    doc["inputs"] = std::move(positions);
    doc["watermarks"] = watermarks_json(watermarks);
    out << json::serialize(doc) << '\n';
    return kOk;
  }

  fmt::print(out, "checkpoint directory: {}\n", reader.directory().string());
  print_restore_line(reader, out);
  fmt::print(out, "\ncheckpoints ({} files):\n", files.size());
  fmt::print(out, "  {:>10}  {:<8}  {:>10}  {:>8}  {:<24}  {}\n", "batch ms", "kind", "previous",
             "bytes", "file", "status");
  for (const CheckpointFile& f : files) {
    fmt::print(out, "  {:>10}  {:<8}  {:>10}  {:>8}  {:<24}  {}\n", f.batch_time.milliseconds(),
               f.snapshot ? "snapshot" : "delta",
               f.previous ? std::to_string(f.previous->milliseconds()) : std::string("-"), f.bytes,
               filename(f.path), status_text(f.damage));
  }
  fmt::print(out, "\nchains (snapshot <- deltas):\n");
  if (chains.empty()) fmt::print(out, "  none\n");
  for (const FileChain& c : chains) {
    std::string times;
    for (const CheckpointFile* f : c.files)
      times += fmt::format("{}{}", times.empty() ? "" : " <- ", f->batch_time.milliseconds());
    fmt::print(out, "  {}{}\n", times,
               c.broken ? fmt::format("  (BROKEN: base {} ms missing or damaged)",
                                      c.files.front()->previous->milliseconds())
                        : std::string());
  }
  fmt::print(out, "\npending batches (sealed, not checkpointed; run again at recovery): {}\n",
             pending.size());
  for (const auto& p : pending) {
    std::string names;
    for (const auto& name : p.inputs)
      names += fmt::format("{}{}", names.empty() ? "" : ", ", name);
    fmt::print(out, "  {:>10} ms  {:<24}  {:>6} bytes  {}\n", p.batch_time.milliseconds(),
               filename(p.path), p.bytes, p.damage ? status_text(p.damage) : "inputs: " + names);
  }
  if (latest) {
    fmt::print(out, "\nsource positions (after batch {} ms):\n", latest->milliseconds());
    if (inputs.empty()) fmt::print(out, "  none\n");
    for (const auto& op : inputs) {
      fmt::print(out, "  {:<24}  {:<20}  {}\n", op.name, op.kind,
                 op.position ? *op.position
                             : fmt::format("{} bytes{}", op.bytes, op.delta ? " (delta)" : ""));
    }
    fmt::print(out, "\nwatermarks (after batch {} ms):", latest->milliseconds());
    if (!watermarks) {
      fmt::print(out, " none (no event-time input)\n");
    } else {
      fmt::print(out, " global {}, in force during the batch {}\n", ms_text(watermarks->global),
                 ms_text(watermarks->in_force));
      for (const auto& in : watermarks->inputs) {
        fmt::print(out, "  {:<24}  {}{}\n", in.input, ms_text(in.watermark),
                   in.idle ? " (idle)" : "");
      }
    }
  }
  return kOk;
}

int verify(const CheckpointReader& reader, bool as_json, bool strict, std::ostream& out) {
  const rill::CheckpointVerification v = reader.verify();
  const int code = !v.recoverable                   ? kUnrecoverable
                   : (strict && !v.damaged.empty()) ? kDamaged
                                                    : kOk;
  if (as_json) {
    json::object doc;
    doc["directory"] = reader.directory().string();
    doc["recoverable"] = v.recoverable;
    doc["restores"] = ms(v.restores);
    json::array chain;
    for (const Time t : v.chain)
      chain.push_back(t.milliseconds());
    doc["chain"] = std::move(chain);
    json::array replayed;
    for (const Time t : v.replayed)
      replayed.push_back(t.milliseconds());
    doc["replayed"] = std::move(replayed);
    json::array damaged;
    for (const auto& d : v.damaged)
      damaged.push_back(json::object{{"file", d.path.string()}, {"reason", d.reason}});
    doc["damaged"] = std::move(damaged);
    json::array warnings;
    for (const auto& w : v.warnings)
      warnings.push_back(json::string(w));
    doc["warnings"] = std::move(warnings);
    doc["refusal"] = v.refusal ? json::value(*v.refusal) : json::value(nullptr);
    doc["files_read"] = v.files_read;
    doc["exit_code"] = code;
    out << json::serialize(doc) << '\n';
    return code;
  }
  fmt::print(out, "checkpoint directory: {}\n", reader.directory().string());
  fmt::print(out, "files read: {}\n", v.files_read);
  if (v.damaged.empty()) {
    fmt::print(out, "damaged files: none\n");
  } else {
    fmt::print(out, "damaged files: {}\n", v.damaged.size());
    for (const auto& d : v.damaged)
      fmt::print(out, "  DAMAGED {}: {}\n", d.path.string(), d.reason);
  }
  for (const auto& w : v.warnings)
    fmt::print(out, "  warning: {}\n", w);
  if (!v.recoverable) {
    fmt::print(out, "recovery: FAILS: {}\n", *v.refusal);
  } else if (!v.restores) {
    fmt::print(out, "recovery: OK: no checkpoint; a restart starts afresh\n");
  } else {
    std::string chain;
    for (const Time t : v.chain)
      chain += fmt::format("{}{}", chain.empty() ? "" : " <- ", t.milliseconds());
    fmt::print(out,
               "recovery: OK: restores batch {} ms (chain {}), then runs {} sealed batch(es) "
               "again\n",
               v.restores->milliseconds(), chain, v.replayed.size());
  }
  return code;
}

int describe(const CheckpointReader& reader, bool as_json, std::ostream& out) {
  const auto latest = reader.latest();
  if (!latest) {
    fmt::print(out, "{}: no checkpoint can be restored (run verify for the reasons)\n",
               reader.directory().string());
    return kUnrecoverable;
  }
  const auto ops = reader.operators();
  if (as_json) {
    json::object doc;
    doc["directory"] = reader.directory().string();
    doc["batch_time"] = latest->milliseconds();
    doc["zero"] = reader.zero().milliseconds();
    doc["interval"] = reader.interval().count();
    json::array list;
    for (const auto& op : ops)
      list.push_back(operator_json(op));
    doc["operators"] = std::move(list);
    out << json::serialize(doc) << '\n';
    return kOk;
  }
  fmt::print(out, "checkpoint of batch {} ms in {} (zero {} ms, interval {} ms)\n",
             latest->milliseconds(), reader.directory().string(), reader.zero().milliseconds(),
             reader.interval().count());
  fmt::print(out, "  {:<24}  {:<26}  {:>6}  {:<18}  {:>8}  {}\n", "name", "kind", "keys",
             "fingerprint", "bytes", "stored");
  for (const bool inputs : {true, false}) {
    for (const auto& op : ops) {
      if (op.input != inputs) continue;
      fmt::print(out, "  {:<24}  {:<26}  {:>6}  {:#018x}  {:>8}  {}\n", op.name,
                 op.input ? op.kind + " (input)" : op.kind,
                 op.keys ? std::to_string(*op.keys) : std::string("-"), op.fingerprint, op.bytes,
                 op.delta ? "delta" : "whole");
    }
  }
  return kOk;
}

}  // namespace rill_checkpoint
