#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rill/checkpoint/detail/checkpointed_state.hpp"
#include "rill/dstream/detail/node.hpp"
#include "rill/sources/detail/input_source.hpp"
#include "rill/sources/source.hpp"

namespace rill::detail {

/// The node of an input stream: runs a Source<T> for the engine. It keeps each batch's sealed
/// records until the batch is done, cuts them into partitions in order, counts them, and puts the
/// source's position into checkpoints: the part every source shares (spdlog's base_sink).
template <class T>
class SourceNode final : public Node<T>, public InputSource, public CheckpointedState {
 public:
  /// `partitions` is the context's parallelism, used when the source asks for none.
  SourceNode(std::shared_ptr<Source<T>> source, Duration interval, std::size_t partitions)
      : Node<T>(source->kind(), {}, interval,
                source->num_partitions() == 0 ? partitions : source->num_partitions()),
        source_(std::move(source)) {}

  [[nodiscard]] Source<T>& source() const noexcept { return *source_; }

  // InputSource
  [[nodiscard]] const std::string& source_name() const override { return this->name(); }
  [[nodiscard]] SourceProperties source_properties() const override {
    return source_->properties();
  }
  void start_input(Runtime& rt, Time zero) override {
    SourceContext ctx(this->name(), zero, rt);
    source_->start(ctx);
  }
  std::int64_t seal(Time t, std::string& seal_record) override {
    Sealed<T> sealed = source_->seal(t, /*take_buffered=*/true);
    seal_record = std::move(sealed.seal_record);
    return keep(t, std::move(sealed.records));
  }
  std::int64_t replay_seal(Time t, std::string_view seal_record) override {
    return keep(t, source_->replay(t, seal_record));
  }
  void stop_input() override { source_->stop(); }
  [[nodiscard]] bool has_buffered_input() const override { return source_->has_buffered_input(); }
  [[nodiscard]] bool has_available_input() const override { return source_->has_available_input(); }
  void release_input(Time t) override {
    {
      std::lock_guard lock(sealed_mutex_);
      if (auto it = find_sealed(t); it != sealed_.end()) sealed_.erase(it);
    }
    source_->release(t);
  }
  void checkpoint_written(Time t, Time oldest_retained) override {
    source_->checkpoint_written(t, oldest_retained);
  }
  [[nodiscard]] std::optional<QueueInfo> queue_info() const override {
    return source_->queue_info();
  }
  void update_rate(double records_per_second) override { source_->update_rate(records_per_second); }
  [[nodiscard]] std::optional<double> rate_limit() const override { return source_->rate_limit(); }
  [[nodiscard]] SourceStats source_stats() const override {
    const SourceCounts counts = source_->counts();
    return SourceStats{this->name(), records_.load(), counts.skipped, counts.errors};
  }

  // CheckpointedState: the source's position, whole or its changes.
  [[nodiscard]] std::optional<StateDescriptor> state_descriptor() const override {
    const auto position = source_->position();
    if (!position) return std::nullopt;
    return StateDescriptor{this->name(), this->kind(), position->fingerprint,
                           position->serializable};
  }
  [[nodiscard]] std::string save_state(Time t) const override { return source_->save_position(t); }
  void load_state(std::string_view bytes) override { source_->load_position(bytes); }
  void track_changes() override { source_->track_position_changes(); }
  [[nodiscard]] std::optional<std::string> save_delta(Time t) const override {
    return source_->save_position_delta(t);
  }
  void load_delta(std::string_view bytes) override { source_->load_position_delta(bytes); }
  [[nodiscard]] bool is_input() const noexcept override { return true; }
  void state_saved(Time t) override { source_->position_saved(t); }

 protected:
  std::shared_ptr<const Batch<T>> compute(Time t, Exec& /*ex*/) override {
    Kept kept;
    {
      std::lock_guard lock(sealed_mutex_);
      if (auto it = find_sealed(t); it != sealed_.end()) kept = std::move(it->second);
    }
    if (kept.sizes.empty()) {
      return std::make_shared<const Batch<T>>(
          Batch<T>::contiguous(std::move(kept.records), this->num_partitions()));
    }
    return std::make_shared<const Batch<T>>(
        Batch<T>::sized(std::move(kept.records), kept.sizes, this->num_partitions()));
  }

 private:
  /// A sealed batch's records and how the source cuts them (Source::partition_sizes()).
  struct Kept {
    std::vector<T> records;
    std::vector<std::size_t> sizes;
  };

  std::int64_t keep(Time t, std::vector<T> records) {
    const auto n = static_cast<std::int64_t>(records.size());
    records_ += n;
    Kept kept{std::move(records), source_->partition_sizes(t)};
    std::lock_guard lock(sealed_mutex_);
    if (auto it = find_sealed(t); it != sealed_.end()) {
      it->second = std::move(kept);
    } else {
      sealed_.emplace_back(t, std::move(kept));
    }
    return n;
  }

  /// Batch t's entry in sealed_, or end(). Under sealed_mutex_.
  typename std::vector<std::pair<Time, Kept>>::iterator find_sealed(Time t) {
    return std::find_if(sealed_.begin(), sealed_.end(),
                        [t](const std::pair<Time, Kept>& e) { return e.first == t; });
  }

  std::shared_ptr<Source<T>> source_;
  std::atomic<std::int64_t> records_{0};
  mutable std::mutex sealed_mutex_;
  // The sealed batches not released yet, in sealing order: the pending batches and the one
  // running, a handful (Config::max_pending_batches + 1). A vector, not a map: after the first
  // batches a seal and a release allocate nothing.
  std::vector<std::pair<Time, Kept>> sealed_;
};

}  // namespace rill::detail
