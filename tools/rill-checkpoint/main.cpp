// rill-checkpoint: inspects a checkpoint directory offline (docs/operations.md, "Inspecting
// checkpoints"). Usage: rill-checkpoint list|verify|describe [--json] [--strict] DIR
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>
#include <rill/checkpoint/checkpoint_reader.hpp>
#include <rill/core/errors.hpp>
#include <rill/core/logging.hpp>

#include "report.hpp"

namespace {

constexpr std::string_view kUsage =
    "usage: rill-checkpoint COMMAND [--json] [--strict] DIR\n"
    "\n"
    "Inspects the checkpoint directory DIR of a rill application, without changing it.\n"
    "\n"
    "commands:\n"
    "  list      checkpoints (batch times, snapshot/delta chains, sizes), batches sealed but not\n"
    "            checkpointed, source positions and watermarks\n"
    "  verify    reads every file and chain; says what a restart would restore, or why it\n"
    "            would fail, naming each damaged file\n"
    "  describe  the operators of the checkpoint a restart restores: kinds, key counts, type\n"
    "            fingerprints\n"
    "\n"
    "options:\n"
    "  --json    one JSON document instead of text\n"
    "  --strict  verify: exit 3 when files are damaged even though recovery would succeed\n"
    "\n"
    "exit codes: 0 ok; 1 verify: recovery would fail (describe: no checkpoint to describe);\n"
    "            2 bad usage or unreadable directory; 3 verify --strict: damaged files\n";

}  // namespace

int main(int argc, char** argv) {
  // rill's own warnings (a checkpoint passed over, a torn log end) are part of the reports.
  rill::get_logger()->set_level(spdlog::level::off);
  std::vector<std::string_view> args(argv + 1, argv + argc);
  std::string_view command;
  std::string_view dir;
  bool json = false;
  bool strict = false;
  for (const std::string_view arg : args) {
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return rill_checkpoint::kOk;
    }
    if (arg == "--json") {
      json = true;
    } else if (arg == "--strict") {
      strict = true;
    } else if (arg.starts_with("-")) {
      std::cerr << "rill-checkpoint: unknown option '" << arg << "'\n\n" << kUsage;
      return rill_checkpoint::kBadInput;
    } else if (command.empty()) {
      command = arg;
    } else if (dir.empty()) {
      dir = arg;
    } else {
      std::cerr << "rill-checkpoint: unexpected argument '" << arg << "'\n\n" << kUsage;
      return rill_checkpoint::kBadInput;
    }
  }
  if (command != "list" && command != "verify" && command != "describe") {
    if (command.empty()) {
      std::cerr << kUsage;
    } else {
      std::cerr << "rill-checkpoint: unknown command '" << command << "'\n\n" << kUsage;
    }
    return rill_checkpoint::kBadInput;
  }
  if (dir.empty()) {
    std::cerr << "rill-checkpoint: give the checkpoint directory\n\n" << kUsage;
    return rill_checkpoint::kBadInput;
  }
  try {
    const rill::CheckpointReader reader{std::string(dir)};
    if (command == "list") return rill_checkpoint::list(reader, json, std::cout);
    if (command == "verify") return rill_checkpoint::verify(reader, json, strict, std::cout);
    return rill_checkpoint::describe(reader, json, std::cout);
  } catch (const rill::CheckpointError& e) {
    std::cerr << "rill-checkpoint: " << e.what() << '\n';
    return rill_checkpoint::kBadInput;
  } catch (const std::exception& e) {
    std::cerr << "rill-checkpoint: " << e.what() << '\n';
    return rill_checkpoint::kBadInput;
  }
}
