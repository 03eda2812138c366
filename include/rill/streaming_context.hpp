#pragma once

#include <concepts>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "rill/core/config.hpp"
#include "rill/core/listener.hpp"
#include "rill/core/operator_graph.hpp"
#include "rill/core/progress_totals.hpp"
#include "rill/detail/graph.hpp"
#include "rill/dstream.hpp"
#include "rill/sources/detail/queue_source.hpp"
#include "rill/sources/detail/receiver_source.hpp"
#include "rill/sources/detail/source_node.hpp"
#include "rill/sources/options.hpp"
#include "rill/sources/receiver.hpp"
#include "rill/sources/source.hpp"
#include "rill/static_table.hpp"

namespace rill {

/// StreamingContext::memory_usage().
struct MemoryUsage {
  std::int64_t retained_bytes = 0;
  std::int64_t state_bytes = 0;
};

namespace detail {
class Engine;
}
class StreamingContext;
namespace testing {
class Harness;
void run_until(StreamingContext& ctx, ManualClock& clock, Time t);
}  // namespace testing

/// The entry point: creates sources, runs the graph on a timer, stops it.
/// Neither copyable nor movable. Build the graph, then start(); operators cannot be added after.
/// Lifecycle calls are thread-safe; stop() from a callback on a rill thread only requests it.
class StreamingContext {
 public:
  /// A context with this batch interval and everything else default.
  explicit StreamingContext(Duration batch_interval);
  /// A context with these settings; the batch interval must be set.
  explicit StreamingContext(Config config);
  StreamingContext(const StreamingContext&) = delete;
  StreamingContext& operator=(const StreamingContext&) = delete;
  StreamingContext(StreamingContext&&) = delete;
  StreamingContext& operator=(StreamingContext&&) = delete;
  /// Stops an active context immediately; never throws.
  ~StreamingContext();

  // ---- sources ----

  /// One queued vector per batch (or everything queued, at once); empty batches once dry.
  template <class T>
  DStream<T> queue_stream(std::deque<std::vector<T>> batches, bool one_at_a_time = true) {
    return add_source<T>(
        std::make_shared<detail::QueueSource<T>>(std::move(batches), one_at_a_time));
  }

  /// Lines from a TCP server, reconnecting with back-off.
  DStream<std::string> socket_text_stream(std::string host, std::uint16_t port,
                                          SocketOptions options = {});
  /// Lines of the files newly visible in `dir`.
  DStream<std::string> text_file_stream(std::filesystem::path dir, FileStreamOptions options = {});
  /// Rows with values 0, 1, 2, ... at a fixed rate.
  DStream<RateRow> rate_stream(RateOptions options = {});

  /// Records stored by a user receiver.
  template <class T>
  DStream<T> receiver_stream(std::shared_ptr<Receiver<T>> receiver) {
    if (!receiver) throw InvalidArgument("StreamingContext::receiver_stream: the receiver is null");
    // Blocks stored reach the write-ahead log before store() returns: a receiver that
    // acknowledges its source only then loses nothing.
    return add_source<T>(std::make_shared<detail::ReceiverSource<T>>(
        "receiver_stream", std::move(receiver),
        detail::QueueBounds{graph_->config().receiver_queue_capacity(),
                            graph_->config().receiver_queue_bytes()},
        SourceProperties{
            .delivery = Delivery::exactly_once, .replayable = true, .acknowledging = true}));
  }

  /// The stream of any source: rill's own sources are added this way too (Flink's addSource).
  /// Before start(); throws rill::InvalidArgument for a null source, rill::IllegalState after
  /// start(). Thread-safe like the other graph-building calls.
  template <class T>
  DStream<T> add_source(std::shared_ptr<Source<T>> source) {
    if (!source) throw InvalidArgument("StreamingContext::add_source: the source is null");
    graph_->check_open(fmt::format("StreamingContext::{}", source->kind()));
    auto node = std::make_shared<detail::SourceNode<T>>(std::move(source), graph_->interval(),
                                                        graph_->parallelism());
    graph_->add_input(node, *node);
    return DStream<T>(graph_, std::move(node));
  }

  // ---- static tables ----

  /// A table of data at rest that streams join with (DStream::join(table), left_outer_join),
  /// as Spark joins a stream with a static DataFrame; its contents follow the reloads.
  /// `loader() -> std::vector<std::pair<K, W>>` (a key may have several rows) runs at start(),
  /// on the thread calling it, and, when `refresh` is positive, again every `refresh` (ms) on the
  /// context's clock, at zero time + n * refresh (n >= 1), off the batch path: under the system
  /// clock on a thread of the context's own, which the batches never wait for; under a manual
  /// clock when the first batch at or after the reload's due time is sealed, just before it, so
  /// that a reload due at R is the version of batch R. The loader is never called twice at once.
  /// Each batch uses the newest version loaded when it was sealed, for all its partitions. Stopping
  /// the context waits for a reload in progress (no new one starts).
  /// Errors: a loader that throws at start() fails start() (a rill::Error as it is, any other
  /// exception as a rill::IoError naming the table, with the loader's exception nested) and
  /// nothing runs; a later failure is logged (rate-limited), counted in the table's entry of
  /// source_stats(), and the previous version stays. Throws rill::InvalidArgument for a negative
  /// refresh, rill::IllegalState after start(). Not checkpointed: after a restart, replayed
  /// batches use the version loaded by the new start().
  template <class K, class W, class F>
  requires std::invocable<F&> &&
      std::convertible_to<std::invoke_result_t<F&>, std::vector<std::pair<K, W>>>
          StaticTable<K, W> static_table(F loader, Duration refresh = Duration{0}) {
    if (refresh.count() < 0) {
      throw InvalidArgument(fmt::format(
          "StreamingContext::static_table: the refresh must not be negative, got {} ms (0: load "
          "once, at start())",
          refresh.count()));
    }
    graph_->check_open("StreamingContext::static_table");
    // Shared, so that a move-only loader fits in the std::function.
    auto shared = std::make_shared<F>(std::move(loader));
    auto core = std::make_shared<detail::StaticTableCore<K, W>>(
        [shared]() -> std::vector<std::pair<K, W>> { return std::invoke(*shared); }, refresh);
    graph_->add_table(core);
    return StaticTable<K, W>(graph_, std::move(core));
  }

  // ---- lifecycle ----

  /// Starts receivers and the batch timer. Throws rill::IllegalState when started twice, after a
  /// stop, or with no output operation.
  void start();
  /// Graceful stop: stop receivers, finish every batch of data already received, then return.
  void stop();
  void stop(StopOptions options);
  /// Returns after the context stopped; rethrows the first error of user code.
  void await_termination();
  /// Like await_termination(), for at most d; true when the context has stopped.
  bool await_termination_for(Duration d);
  [[nodiscard]] ContextState state() const;

  /// Receives progress events (BatchInfo) on one rill thread, in batch order.
  void add_listener(std::shared_ptr<StreamingListener> listener);
  /// Checkpoints the context into `dir` after every batch (state, source positions) and records
  /// each batch's input before it runs, so that get_or_create() can restart where it was.
  /// Before start(). The directory is locked while the context runs.
  void checkpoint(std::filesystem::path dir);

  /// Calls `factory` to build the pipeline; when `dir` holds a checkpoint, the context restores
  /// from the newest valid one at start() and runs again the batches that were sealed but not
  /// checkpointed, then those missed while it was down. Throws rill::CheckpointError when the
  /// directory holds checkpoints but none is valid, unless `start_fresh_if_unreadable`, or
  /// (at start()) when the pipeline's stateful operators do not match the checkpoint's.
  static std::unique_ptr<StreamingContext> get_or_create(
      const std::filesystem::path& dir,
      const std::function<std::unique_ptr<StreamingContext>()>& factory,
      bool start_fresh_if_unreadable = false);

  /// Keeps every stream's batches for at least d (for slice() and late inspection).
  void remember(Duration d);

  /// The context's settings and clock.
  [[nodiscard]] const Config& config() const noexcept { return graph_->config(); }
  [[nodiscard]] Clock& clock() const noexcept { return *clock_; }
  /// The zero time: the first batch time minus one interval (valid after start()).
  [[nodiscard]] Time zero_time() const;
  /// What a checkpoint of this context holds: every live operator and input that keeps something
  /// across batches, with its stable name and type fingerprint. Only after start().
  [[nodiscard]] std::vector<StateDescriptor> state_descriptors() const;
  /// Memory the engine holds between batches (approximate element sizes): cached batches and
  /// window pre-aggregates (`retained_bytes`), and operator state (`state_bytes`).
  [[nodiscard]] MemoryUsage memory_usage() const;
  /// Counters of every input stream, in creation order, then of every static table
  /// (static_table()), in creation order.
  [[nodiscard]] std::vector<SourceStats> source_stats() const;
  /// The progress record (BatchInfo, as on_batch_completed gets it) of the newest completed
  /// batch; nullopt before one completed. Set before the batch's listeners are called, so it is
  /// there when run_batches() or a listener's on_batch_completed for that batch returns. Spark's
  /// StreamingQuery.lastProgress. Thread-safe; a copy (allocates).
  [[nodiscard]] std::optional<BatchInfo> last_progress() const;
  /// The progress records of the last 100 completed batches, oldest first (Spark's
  /// StreamingQuery.recentProgress, spark.sql.streaming.numRecentProgressUpdates = 100). Kept
  /// after the context stopped. Thread-safe; copies.
  [[nodiscard]] std::vector<BatchInfo> recent_progress() const;
  /// Totals over every batch completed since start(): batches, records, back-pressured batches,
  /// checkpoints, the scheduling, processing and total delays as histograms over fixed buckets
  /// (DelayHistogram), late rows per event-time operator. Counters for monitoring (Prometheus,
  /// rill::ops), which never go back, where recent_progress() keeps only 100 batches. Updated
  /// with last_progress(); kept after the context stopped. Thread-safe; a copy.
  [[nodiscard]] ProgressTotals progress_totals() const;
  /// The operators that run and the outputs, with their names and edges (a value, for status
  /// pages: rill::ops draws it). Only after start() (the graph is fixed then); throws
  /// rill::IllegalState before. Thread-safe.
  [[nodiscard]] OperatorGraph operator_graph() const;

 private:
  // The harness waits on the engine for batches and stored records.
  friend class testing::Harness;
  friend void testing::run_until(StreamingContext& ctx, ManualClock& clock, Time t);
  [[nodiscard]] detail::Engine& engine() const noexcept { return *engine_; }

  std::shared_ptr<Clock> clock_;
  std::shared_ptr<detail::Graph> graph_;
  std::unique_ptr<detail::Engine> engine_;
  Duration remember_{0};
  std::filesystem::path checkpoint_dir_;
  bool recover_ = false;
  bool start_fresh_ = false;
};

}  // namespace rill
