#pragma once

#include <chrono>
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

/// A receiver's bounded queue (Config::receiver_queue_capacity, receiver_queue_bytes) as the
/// tick of a batch found it: the batch takes all of it.
struct QueueInfo {
  /// Records the queue held when the batch was sealed (all of them went into the batch).
  std::int64_t records = 0;
  /// Their bytes, as the queue counts them (sizeof(T), plus a string's or vector's elements).
  std::int64_t bytes = 0;
  /// The queue's bounds: Config::receiver_queue_capacity (records) and receiver_queue_bytes.
  std::int64_t capacity_records = 0;
  std::int64_t capacity_bytes = 0;
  /// Back-pressure reached the receiver: a store() waited for room since the previous batch was
  /// sealed (the queue was full).
  bool blocked = false;
};

/// One input stream's part of a batch.
struct SourceProgress {
  /// The stream's stable name (DStream::name(), else `<kind>#<n>`).
  std::string name;
  /// Records this stream sealed into the batch.
  std::int64_t num_records = 0;
  /// num_records per second of batch time: num_records * 1000 / the batch interval in ms
  /// (Spark Streaming's "input rate"), in records/s.
  double input_rate = 0;
  /// Receiver streams (socket_text_stream, receiver_stream): their queue; nullopt for sources
  /// without one (queue, file, rate streams).
  std::optional<QueueInfo> queue;
  /// The limit of the stream's intake when the batch was sealed, in records/s
  /// (Config::max_rate_per_source, or back-pressure's estimate capped by it; docs/operations.md,
  /// "Rate control"); nullopt when unlimited, and for sources that cannot be limited.
  std::optional<double> rate_limit;
};

/// The time one output operation took in a batch (only outputs defined at the batch's time run).
struct OutputProgress {
  /// The output's name: its sink's kind numbered per kind from 1 in registration order
  /// (`foreach_batch#1`, `print#1`).
  std::string name;
  /// Wall time of its run, in microseconds of the steady clock.
  std::chrono::microseconds duration{0};
};

/// The checkpoint written after a batch (with StreamingContext::checkpoint(dir) set).
struct CheckpointInfo {
  /// Bytes written for the checkpoint file (its state and positions, framed).
  std::int64_t bytes = 0;
  /// Wall time of writing it durably (serializing, writing, fsync, pruning), in microseconds.
  std::chrono::microseconds duration{0};
  /// A full snapshot (true) or a delta on the checkpoint before it (false).
  bool snapshot = false;
};

/// Progress of one batch (Spark's BatchInfo and StreamingQueryProgress in one record). The
/// delays are final in on_batch_completed. Also StreamingContext::last_progress() and
/// recent_progress(), and one line of Config::progress_log() through rill::to_json()
/// (docs/operations.md gives every field's JSON name). Costs nothing per record: every field is
/// counted or timed once per batch (or once per source, output or stateful operator of it).
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

  // ---- added by the progress record (docs/operations.md) ----

  /// Per input stream, in creation order: its records, input rate and receiver queue. Set in all
  /// three events.
  std::vector<SourceProgress> sources;
  /// num_records per second of batch time (num_records * 1000 / batch interval in ms), in
  /// records/s: what the sources delivered, as Spark Streaming's "input rate". Set in all three
  /// events.
  double input_rate = 0;
  /// num_records per second of processing (num_records / processing time, measured in
  /// microseconds of the steady clock), in records/s; 0 for an empty batch. Final in
  /// on_batch_completed.
  double processing_rate = 0;
  /// Wall time the tick took to seal the batch (every source's seal(), the seal record written
  /// durably, static tables pinned), in microseconds. Set in all three events.
  std::chrono::microseconds sealing_duration{0};
  /// The output operations that ran, in registration order, with their times. Final in
  /// on_batch_completed.
  std::vector<OutputProgress> outputs;
  /// The checkpoint written after the batch; nullopt without a checkpoint directory. Final in
  /// on_batch_completed.
  std::optional<CheckpointInfo> checkpoint;
  /// Back-pressure held input back for this batch: its tick was held (held_back > 0) or a
  /// receiver's store() waited for room in its queue (a source's QueueInfo::blocked). Set in all
  /// three events.
  bool back_pressure = false;
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
