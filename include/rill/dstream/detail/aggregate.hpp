#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "rill/dstream/detail/node.hpp"

/// Whole-batch aggregates (reduce, count) and driver-side transforms (transform, transform_with).
namespace rill::detail {

template <class T, class F>
class ReduceSink final : public ChunkSink<T> {
 public:
  explicit ReduceSink(F& f) : f_(f) {}
  void push(std::span<const T> items) override {
    for (const T& x : items) {
      if (acc_) {
        acc_ = std::invoke(f_, std::move(*acc_), x);
      } else {
        acc_.emplace(x);
      }
    }
  }
  std::optional<T>& result() { return acc_; }

 private:
  F& f_;
  std::optional<T> acc_;
};

/// reduce(f): one element, or none for an empty batch. Partitions reduce in parallel, then their
/// results combine in partition order.
template <class T, class F>
class ReduceNode final : public Node<T> {
 public:
  ReduceNode(std::shared_ptr<Node<T>> parent, F f)
      : Node<T>("reduce", {parent}, parent->slide(), 1),
        parent_(std::move(parent)),
        f_(std::move(f)) {}

 protected:
  std::shared_ptr<const Batch<T>> compute(Time t, Exec& ex) override {
    parent_->prepare(t, ex);
    std::vector<std::optional<T>> partials(parent_->num_partitions());
    ex.parallel_for(partials.size(), [&](std::size_t p) {
      F f = f_;
      ReduceSink<T, F> sink(f);
      parent_->stream(t, p, sink);
      partials[p] = std::move(sink.result());
    });
    std::optional<T> acc;
    for (auto& part : partials) {
      if (!part) continue;
      if (acc) {
        acc = std::invoke(f_, std::move(*acc), std::move(*part));
      } else {
        acc = std::move(part);
      }
    }
    typename Batch<T>::Partitions parts(1);
    if (acc) parts[0].push_back(std::move(*acc));
    return std::make_shared<const Batch<T>>(std::move(parts));
  }

 private:
  std::shared_ptr<Node<T>> parent_;
  F f_;
};

template <class T>
class CountSink final : public ChunkSink<T> {
 public:
  void push(std::span<const T> items) override { n_ += static_cast<std::int64_t>(items.size()); }
  [[nodiscard]] std::int64_t count() const noexcept { return n_; }

 private:
  std::int64_t n_ = 0;
};

/// count(): always one element, 0 for an empty batch.
template <class T>
class CountNode final : public Node<std::int64_t> {
 public:
  explicit CountNode(std::shared_ptr<Node<T>> parent)
      : Node<std::int64_t>("count", {parent}, parent->slide(), 1), parent_(std::move(parent)) {}

 protected:
  std::shared_ptr<const Batch<std::int64_t>> compute(Time t, Exec& ex) override {
    parent_->prepare(t, ex);
    std::vector<std::int64_t> counts(parent_->num_partitions(), 0);
    ex.parallel_for(counts.size(), [&](std::size_t p) {
      CountSink<T> sink;
      parent_->stream(t, p, sink);
      counts[p] = sink.count();
    });
    std::int64_t total = 0;
    for (auto c : counts)
      total += c;
    return std::make_shared<const Batch<std::int64_t>>(
        Batch<std::int64_t>::Partitions{std::vector<std::int64_t>{total}});
  }

 private:
  std::shared_ptr<Node<T>> parent_;
};

/// transform(f): f(batch, time) runs on the batch thread; its result is cut into the context's
/// parallelism in order.
template <class T, class U, class F>
class TransformNode final : public Node<U> {
 public:
  TransformNode(std::shared_ptr<Node<T>> parent, F f, std::size_t partitions)
      : Node<U>("transform", {parent}, parent->slide(), partitions),
        parent_(std::move(parent)),
        f_(std::move(f)) {}

 protected:
  std::shared_ptr<const Batch<U>> compute(Time t, Exec& ex) override {
    auto in = parent_->get(t, ex);
    std::vector<U> out = std::invoke(f_, *in, t);
    return std::make_shared<const Batch<U>>(
        Batch<U>::contiguous(std::move(out), this->num_partitions()));
  }

 private:
  std::shared_ptr<Node<T>> parent_;
  F f_;
};

/// transform_with(other, f): f(batch, other_batch, time) on the batch thread.
template <class T, class U, class V, class F>
class TransformWithNode final : public Node<V> {
 public:
  TransformWithNode(std::shared_ptr<Node<T>> a, std::shared_ptr<Node<U>> b, F f,
                    std::size_t partitions)
      : Node<V>("transform_with", {a, b}, a->slide(), partitions),
        a_(std::move(a)),
        b_(std::move(b)),
        f_(std::move(f)) {}

 protected:
  std::shared_ptr<const Batch<V>> compute(Time t, Exec& ex) override {
    auto x = a_->get(t, ex);
    auto y = b_->get(t, ex);
    std::vector<V> out = std::invoke(f_, *x, *y, t);
    return std::make_shared<const Batch<V>>(
        Batch<V>::contiguous(std::move(out), this->num_partitions()));
  }

 private:
  std::shared_ptr<Node<T>> a_;
  std::shared_ptr<Node<U>> b_;
  F f_;
};

}  // namespace rill::detail
