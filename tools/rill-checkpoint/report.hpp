#pragma once

#include <ostream>

#include <rill/checkpoint/checkpoint_reader.hpp>

/// The rill-checkpoint commands' output (docs/operations.md, "Inspecting checkpoints"): each
/// writes its report of `reader`'s directory to `out`, as text or as one JSON document, and
/// returns the process's exit code.
namespace rill_checkpoint {

/// Exit codes.
inline constexpr int kOk = 0;
inline constexpr int kUnrecoverable = 1;  // verify: start() would refuse; describe: nothing to read
inline constexpr int kBadInput = 2;       // usage, or a directory that cannot be read
inline constexpr int kDamaged = 3;        // verify --strict: recoverable, but files are damaged

/// Checkpoints with their chains, sizes and status; pending batches; positions; watermarks.
int list(const rill::CheckpointReader& reader, bool json, std::ostream& out);
/// Every file read; what recovery would do; exit code per the constants above.
int verify(const rill::CheckpointReader& reader, bool json, bool strict, std::ostream& out);
/// The restored checkpoint's operators and inputs: kinds, key counts, type fingerprints.
int describe(const rill::CheckpointReader& reader, bool json, std::ostream& out);

}  // namespace rill_checkpoint
