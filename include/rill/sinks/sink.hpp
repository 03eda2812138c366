#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include "rill/core/batch.hpp"
#include "rill/core/config.hpp"
#include "rill/core/time.hpp"
#include "rill/dstream/detail/node.hpp"

namespace rill {

/// What a sink declares about itself, read by start()'s delivery check instead of recognising
/// outputs by name.
struct SinkProperties {
  /// What the sink promises when a restarted context runs a batch again: `exactly_once` when
  /// writing batch t twice leaves what writing it once does (a file per batch time committed by
  /// a rename, an idempotent foreach_batch, a transaction per batch); `at_least_once` otherwise.
  Delivery delivery = Delivery::at_least_once;
  /// A console for people (print): a batch shown again after a crash misleads nobody, so
  /// `Config::delivery(exactly_once)` logs a warning instead of refusing the context.
  bool console = false;
};

/// One batch as a sink writes it: its time, whether it is a replay, and its records, either
/// whole (get()) or streamed partition by partition without being materialized
/// (for_each_chunk()). Valid during Sink::write() only.
template <class T>
class BatchView {
 public:
  BatchView(detail::Node<T>& node, detail::Exec& exec) : node_(node), exec_(exec) {}

  /// The batch time (ms on the context's clock).
  [[nodiscard]] Time time() const noexcept { return exec_.batch().time; }
  /// True when a restarted context runs this batch again from its seal record: a sink that can
  /// tell the batch was written before (its file exists) may skip it.
  [[nodiscard]] bool replaying() const noexcept { return exec_.batch().replaying; }
  [[nodiscard]] std::size_t num_partitions() const noexcept { return node_.num_partitions(); }
  /// The whole batch: computed once, shared with the other consumers of the stream.
  [[nodiscard]] std::shared_ptr<const Batch<T>> get() const { return node_.get(time(), exec_); }
  /// Calls f(p, std::span<const T> chunk) for every chunk of every partition p: partitions in
  /// parallel on rill's worker pool (f must be safe to call from several threads for different
  /// p), chunks of one partition in order on one thread. A narrow chain before the sink runs
  /// fused into this pass: the batch is never materialized.
  template <class F>
  requires std::invocable<F&, std::size_t, std::span<const T>>
  void for_each_chunk(F f) const {
    node_.prepare(time(), exec_);
    exec_.parallel_for(num_partitions(), [&](std::size_t p) {
      Chunks<F> chunks(f, p);
      node_.stream(time(), p, chunks);
    });
  }

 private:
  template <class F>
  class Chunks final : public detail::ChunkSink<T> {
   public:
    Chunks(F& f, std::size_t p) : f_(f), p_(p) {}
    void push(std::span<const T> items) override { f_(p_, items); }

   private:
    F& f_;
    std::size_t p_;
  };

  detail::Node<T>& node_;
  detail::Exec& exec_;
};

/// An output: the contract every sink implements, rill's own (print, save_as_text_files,
/// foreach_batch) and a connector's or a user's alike (spdlog's base_sink; Spark's ForeachWriter
/// at batch granularity). Register one with `stream.to(std::make_shared<MySink>(...))`.
/// write() runs on rill's batch thread, once per batch time at which the stream is defined
/// (also for an empty batch), in time order, never twice at once; after a restart a batch may
/// be written again (BatchView::replaying()). A throw stops the context, and the batch is not
/// committed.
template <class T>
class Sink {
 public:
  virtual ~Sink() = default;
  /// The stem of the output's default name, `<kind>#<n>` (snake_case: `print`).
  [[nodiscard]] virtual std::string kind() const = 0;
  /// What the sink promises; constant.
  [[nodiscard]] virtual SinkProperties properties() const = 0;
  /// Writes one batch.
  virtual void write(const BatchView<T>& batch) = 0;
};

}  // namespace rill
