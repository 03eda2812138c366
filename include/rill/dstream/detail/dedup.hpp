#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "rill/core/time.hpp"
#include "rill/dstream/detail/keyed_state.hpp"
#include "rill/dstream/detail/node.hpp"
#include "rill/dstream/detail/shuffle.hpp"
#include "rill/dstream/detail/stateful.hpp"
#include "rill/dstream/detail/watermark_tracker.hpp"

/// Event-time deduplication: drop_duplicates and drop_duplicates_within_watermark
/// (Spark's StreamingDeduplicateExec and StreamingDeduplicateWithinWatermarkExec).
namespace rill::detail {

/// A callable giving a record's deduplication key (a member pointer works): a value type that
/// boost::hash and operator== take.
template <class F, class T>
concept DedupKeyOf =
    std::invocable<const F&, const T&> && !std::is_void_v<std::invoke_result_t<const F&, const T&>>;

template <class F, class T>
using dedup_key_t = std::remove_cvref_t<std::invoke_result_t<const F&, const T&>>;

/// Sends each record of one source partition, with its key, to its key's output partition,
/// keeping arrival order (route_by_key for records that are not pairs: the key is computed once).
template <class T, class Key, class KeyOf>
class KeyRouteSink final : public ChunkSink<T> {
 public:
  KeyRouteSink(std::vector<std::vector<std::pair<Key, T>>>& out, const KeyOf& key_of)
      : out_(out), key_of_(key_of) {}
  void push(std::span<const T> items) override {
    for (const T& x : items) {
      Key k = std::invoke(key_of_, x);
      target(k).emplace_back(std::move(k), x);
    }
  }
  void push_owned(std::span<T> items) override {
    for (T& x : items) {
      Key k = std::invoke(key_of_, std::as_const(x));
      target(k).emplace_back(std::move(k), std::move(x));
    }
  }

 private:
  std::vector<std::pair<Key, T>>& target(const Key& k) {
    return out_.size() == 1 ? out_[0] : out_[partition_of(k, out_.size())];
  }
  std::vector<std::vector<std::pair<Key, T>>>& out_;
  const KeyOf& key_of_;
};

/// drop_duplicates(key_of) and drop_duplicates_within_watermark(key_of) on an event-time stream.
///
/// Batch t, in Spark >= 3.4's order (BaseStreamingDeduplicateExec.doExecute):
/// 1. rows with `time <= wm(t - interval)` are dropped as late (only on a stream with a
///    watermark);
/// 2. the rest go to their key's partition in arrival order; a row passes when its key is not
///    remembered, and its key is then remembered until `forget_at`: its event time
///    (drop_duplicates) or its event time + the watermark delay (within watermark);
/// 3. keys with `forget_at <= wm(t)` are forgotten (only on a stream with a watermark), so a row
///    that passed in batch t may be forgotten in t already.
/// The store holds Key -> forget_at (ms since the epoch); a delta holds the keys remembered or
/// forgotten since the last checkpoint.
template <class T, class Key, class KeyOf, class TimeOf>
class DropDuplicatesNode final
    : public KeyedStatefulNode<StatefulNode<T>, KeyedStateStore<Key, Time>> {
  using Base = KeyedStatefulNode<StatefulNode<T>, KeyedStateStore<Key, Time>>;

 public:
  /// `keep_for`: how long after its row's event time a key is remembered beyond the watermark
  /// (0 for drop_duplicates, the delay within the watermark); `evicts`: the stream has a
  /// watermark (else nothing is late and keys are remembered forever).
  DropDuplicatesNode(const char* kind, std::shared_ptr<Node<T>> parent, KeyOf key_of,
                     TimeOf time_of, Duration keep_for, bool evicts,
                     std::shared_ptr<WatermarkTracker> tracker, std::size_t partitions)
      : Base(kind, {parent}, parent->slide(), partitions),
        parent_(std::move(parent)),
        key_of_(std::move(key_of)),
        time_of_(std::move(time_of)),
        keep_for_(keep_for),
        evicts_(evicts),
        tracker_(std::move(tracker)) {}

  [[nodiscard]] std::optional<StateDescriptor> state_descriptor() const override {
    return this->template describe_state<Key, Time>();
  }
  [[nodiscard]] std::optional<StateInfo> state_info() const override {
    auto info = this->store_.info(this->name());
    info.late_records = late_records_;
    return info;
  }

 protected:
  std::shared_ptr<const Batch<T>> compute(Time t, Exec& ex) override {
    const std::size_t n = this->num_partitions();
    const std::optional<Time> late = evicts_ ? tracker_->late_bound() : std::nullopt;
    const std::optional<Time> wm = evicts_ ? tracker_->in_force() : std::nullopt;

    auto routed = route_rows<std::pair<Key, T>>(
        *parent_, t, ex, n, [this](std::size_t, std::vector<std::vector<std::pair<Key, T>>>& b) {
          return KeyRouteSink<T, Key, KeyOf>(b, key_of_);
        });

    typename Batch<T>::Partitions parts(n);
    std::vector<std::int64_t> late_counts(n, 0);
    ex.parallel_for(n, [&](std::size_t q) {
      auto& table = this->store_.table(q);
      auto& out = parts[q];
      std::int64_t dropped = 0;
      for (auto& from_partition : routed) {
        for (auto& [key, x] : from_partition[q]) {
          const Time time = std::invoke(time_of_, std::as_const(x));
          if (late && time <= *late) {
            ++dropped;
            continue;
          }
          auto [it, remembered] = table.try_emplace(std::move(key), time + keep_for_);
          if (remembered) {
            this->store_.mark(q, it->first);
            out.push_back(std::move(x));
          }
        }
      }
      late_counts[q] = dropped;
      if (!wm) return;
      const Time bound = *wm;
      boost::unordered::erase_if(table, [&](const auto& entry) {
        if (entry.second > bound) return false;
        this->store_.mark(q, entry.first);
        return true;
      });
    });
    late_records_ = 0;
    for (std::int64_t c : late_counts)
      late_records_ += c;
    return std::make_shared<const Batch<T>>(std::move(parts));
  }

 private:
  std::shared_ptr<Node<T>> parent_;
  KeyOf key_of_;
  TimeOf time_of_;
  Duration keep_for_;
  bool evicts_;
  std::shared_ptr<WatermarkTracker> tracker_;
  std::int64_t late_records_ = 0;  // of the last batch (batch thread)
};

}  // namespace rill::detail
