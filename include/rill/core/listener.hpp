#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rill/core/time.hpp"

namespace rill {

/// Counters of one input stream (StreamingContext::source_stats()).
struct SourceStats {
  std::string name;
  /// Records sealed into batches.
  std::int64_t records = 0;
  /// Records skipped: over-long lines, unreadable or too old files, messages a ZeroMQ SUB
  /// stream dropped while its receiver queue was full.
  std::int64_t skipped = 0;
  /// Errors reported or met (connection failures, unreadable files, report_error calls).
  std::int64_t errors = 0;
};

/// Size of one stateful operator's state after a batch.
struct StateInfo {
  std::string name;
  /// Entries kept after the batch: keys; for event-time operators the (window, key) entries,
  /// sessions, remembered keys or buffered join rows, after the batch's eviction.
  std::int64_t keys = 0;
  /// Approximate bytes of what is kept (the entries themselves, not what they own on the heap).
  std::int64_t bytes = 0;
  /// Event-time operators: the input rows of this batch dropped as late (exactly the rows the
  /// operator's late_records() side output holds for the batch, where it has one); 0 otherwise.
  std::int64_t late_records = 0;
};

/// Progress of one batch. The delays are final in on_batch_completed.
struct BatchInfo {
  Time batch_time;
  /// Input records sealed into this batch (all sources).
  std::int64_t num_records = 0;
  /// From the batch's submission (its tick) to the start of its processing.
  Duration scheduling_delay{0};
  /// From the start to the end of its processing.
  Duration processing_delay{0};
  /// scheduling_delay + processing_delay.
  Duration total_delay{0};
  std::vector<StateInfo> state;
  /// Back-pressure: how late the batch was sealed, in ms of the context's clock (its sealing
  /// time minus batch_time), when its tick, or an earlier one it had to follow, was held because
  /// Config::max_pending_batches batches waited; 0 for a batch sealed without back-pressure.
  /// While it is above 0, receivers' store() blocked and files waited to be listed. Set in all
  /// three events. (Spark shows no such value: its back-pressure lowers the receivers' rate.)
  Duration held_back{0};
  /// wm(t): the event-time watermark in force in this batch (the global watermark as it stood
  /// at the end of the batch before; ms since the epoch), nullopt while there is none or when no
  /// output depends on a `with_watermark` stream. Set in on_batch_started and
  /// on_batch_completed (on_batch_submitted may come before the previous batch has ended).
  std::optional<Time> watermark;
};

/// Receives progress events. All of a context's listeners are called on one rill thread, in
/// batch order; a listener must not block for long.
class StreamingListener {
 public:
  virtual ~StreamingListener() = default;
  virtual void on_batch_submitted(const BatchInfo& /*info*/) {}
  virtual void on_batch_started(const BatchInfo& /*info*/) {}
  virtual void on_batch_completed(const BatchInfo& /*info*/) {}
};

}  // namespace rill
