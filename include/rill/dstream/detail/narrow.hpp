#pragma once

#include <functional>
#include <iterator>
#include <memory>
#include <ranges>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "rill/dstream/detail/node.hpp"

/// Narrow operators: each output partition depends on one input partition. They stream: a chain
/// of them runs as one pass per partition, a chunk at a time (see node.hpp).
namespace rill::detail {

/// Calls f with an owned record as an rvalue when f accepts one, else as an lvalue.
template <class F, class T>
decltype(auto) call_owned(F& f, T& x) {
  if constexpr (std::is_invocable_v<F&, T&&>) {
    return std::invoke(f, std::move(x));
  } else {
    return std::invoke(f, x);
  }
}

/// The end of a fused chain: collects the records the last step emits and hands them downstream
/// a chunk at a time (the one virtual call per chunk). The chunk is raw storage, so that a
/// record a map step returns is constructed in place (construct()), not moved in.
template <class Out>
class BufferedEmit {
 public:
  explicit BufferedEmit(ChunkSink<Out>& down)
      : down_(down), buf_(std::allocator<Out>{}.allocate(kChunk)) {}
  ~BufferedEmit() {
    std::destroy_n(buf_, size_);
    std::allocator<Out>{}.deallocate(buf_, kChunk);
  }
  BufferedEmit(const BufferedEmit&) = delete;
  BufferedEmit& operator=(const BufferedEmit&) = delete;

  template <class U>
  void operator()(U&& value) {
    ::new (static_cast<void*>(buf_ + size_)) Out(std::forward<U>(value));
    added();
  }
  /// Adds the record make() returns, constructed in place.
  template <class Make>
  void construct(Make&& make) {
    ::new (static_cast<void*>(buf_ + size_)) Out(std::forward<Make>(make)());
    added();
  }
  void flush() {
    if (size_ == 0) return;
    // Destroyed even when downstream throws.
    struct Clear {
      Out* buf;
      std::size_t& size;
      ~Clear() {
        std::destroy_n(buf, size);
        size = 0;
      }
    } clear{buf_, size_};
    down_.push_owned(std::span<Out>(buf_, size_));
  }

 private:
  void added() {
    if (++size_ == kChunk) flush();
  }
  ChunkSink<Out>& down_;
  Out* buf_;
  std::size_t size_ = 0;
};

/// `step` followed by `emit`, as the emit of the step before: a record emitted as an rvalue is
/// owned (the step may move from it), one emitted as an lvalue is passed on read-only. Inlined:
/// a chain of steps is one loop body.
template <class Step, class Emit>
struct Then {
  Step& step;
  Emit& emit;
  template <class U>
  void operator()(U&& value) {
    if constexpr (std::is_lvalue_reference_v<U>) {
      step(std::as_const(value), emit);
    } else {
      step(value, emit);
    }
  }
};

/// The first step of a fused chain: reads chunks from a Sink and runs `step` on every record.
/// `Step` is a callable object `step(record, emit)` where record is a `const In&` or an `In&` it
/// may move from. One class serves map, filter, flat_map and the *_values forms.
template <class In, class Step, class Emit>
class StepSink final : public ChunkSink<In> {
 public:
  StepSink(Step& step, Emit& emit) : step_(step), emit_(emit) {}
  void push(std::span<const In> items) override {
    for (const In& x : items)
      step_(x, emit_);
  }
  void push_owned(std::span<In> items) override {
    for (In& x : items)
      step_(x, emit_);
  }

 private:
  Step& step_;
  Emit& emit_;
};

/// A step that reads something fixed per batch (a static table's version): StepNode calls
/// `step.bind_batch(t)` on the batch thread before any partition of batch t streams through it,
/// and every partition task's copy of the step then sees what it bound.
template <class Step>
concept BindsBatch = requires(Step& step, Time t) {
  step.bind_batch(t);
};

/// A step that writes something per partition (parse_json's malformed lines): StepNode calls
/// `bind_partition(p)` on the partition task's own copy of the step before partition p streams.
template <class Step>
concept BindsPartition = requires(Step& step, std::size_t p) {
  step.bind_partition(p);
};

template <class In, class Out, class Step, class Parent>
class StepNode;

template <class N>
struct is_step_node : std::false_type {};
template <class In, class Out, class Step, class Parent>
struct is_step_node<StepNode<In, Out, Step, Parent>> : std::true_type {};

/// A narrow operator defined by a per-record step (map, filter, flat_map, map_values...).
/// The step object is copied for every partition task, as Spark ships a closure to each task.
/// `Parent` is the parent node's static type when the stream API knows it (a StepNode): a chain
/// of step nodes that all stream then runs as one loop per partition, each step calling the next
/// directly, with one buffer at the chain's end.
template <class In, class Out, class Step, class Parent = Node<In>>
class StepNode final : public Node<Out> {
 public:
  StepNode(std::string kind, std::shared_ptr<Parent> parent, Step step)
      : Node<Out>(std::move(kind), {parent}, parent->slide(), parent->num_partitions()),
        parent_(std::move(parent)),
        step_(std::move(step)) {}

  [[nodiscard]] bool fusable() const noexcept override { return true; }

  /// Runs partition p of batch t through this step (and the streaming step nodes above it) into
  /// `emit`, called per output record. After prepare(t), when this node streams.
  template <class Emit>
  void stream_into(Time t, std::size_t p, Emit& emit) {
    Step step = step_;
    if constexpr (BindsPartition<Step>) step.bind_partition(p);
    if constexpr (is_step_node<Parent>::value) {
      if (parent_->streams()) {
        Then<Step, Emit> next{step, emit};
        parent_->stream_into(t, p, next);
        return;
      }
    }
    StepSink<In, Step, Emit> sink(step, emit);
    parent_->stream(t, p, sink);
  }

 protected:
  void prepare_stream(Time t, Exec& ex) override {
    if constexpr (BindsBatch<Step>) step_.bind_batch(t);
    parent_->prepare(t, ex);
  }
  void stream_partition(Time t, std::size_t p, ChunkSink<Out>& down) override {
    BufferedEmit<Out> out(down);
    stream_into(t, p, out);
    out.flush();
  }

 private:
  std::shared_ptr<Parent> parent_;
  Step step_;
};

/// Whether `emit` can construct a record in place from a function returning it.
template <class E>
concept ConstructsInPlace = requires(E& emit) {
  emit.construct([] { return 0; });
};

/// Emits the record make() returns: constructed in place at a chain's end (BufferedEmit),
/// passed on as a value to the next step otherwise.
template <class E, class Make>
void emit_made(E& emit, Make&& make) {
  if constexpr (ConstructsInPlace<E>) {
    emit.construct(std::forward<Make>(make));
  } else {
    emit(make());
  }
}

template <class F>
struct MapStep {
  F f;
  template <class X, class E>
  void operator()(X& x, E& emit) {
    emit_made(emit, [&]() -> decltype(auto) { return call_owned(f, x); });
  }
  template <class X, class E>
  void operator()(const X& x, E& emit) {
    emit_made(emit, [&]() -> decltype(auto) { return std::invoke(f, x); });
  }
};

template <class F>
struct FilterStep {
  F f;
  template <class X, class E>
  void operator()(X& x, E& emit) {
    if (std::invoke(f, std::as_const(x))) emit(std::move(x));
  }
  template <class X, class E>
  void operator()(const X& x, E& emit) {
    if (std::invoke(f, x)) emit(x);
  }
};

template <class R, class E>
void emit_range(R&& range, E& emit) {
  using Range = std::remove_cvref_t<R>;
  if constexpr (std::ranges::view<Range> || std::is_lvalue_reference_v<R>) {
    for (auto&& v : range)
      emit(v);
  } else {
    for (auto&& v : range)
      emit(std::move(v));
  }
}

/// A flat_map function object that can emit its elements one by one: `f.each(x, emit)` calls
/// emit(element) for the elements f(x) returns, in order (Flink's flatMap with a Collector).
/// flat_map then builds no range per record. rill::split_words is one.
template <class F, class X>
concept EmitsEach = requires(F& f, const X& x, void (*emit)(int)) {
  f.each(x, emit);
};

template <class F>
struct FlatMapStep {
  F f;
  template <class X, class E>
  void operator()(X& x, E& emit) {
    if constexpr (EmitsEach<F, X>) {
      f.each(std::as_const(x), emit);
    } else {
      emit_range(call_owned(f, x), emit);
    }
  }
  template <class X, class E>
  void operator()(const X& x, E& emit) {
    if constexpr (EmitsEach<F, X>) {
      f.each(x, emit);
    } else {
      emit_range(std::invoke(f, x), emit);
    }
  }
};

template <class F>
struct MapValuesStep {
  F f;
  template <class P, class E>
  void operator()(P& kv, E& emit) {
    emit_made(emit, [&] {
      auto v = call_owned(f, kv.second);
      return std::pair{std::move(kv.first), std::move(v)};
    });
  }
  template <class P, class E>
  void operator()(const P& kv, E& emit) {
    emit_made(emit, [&] { return std::pair{kv.first, std::invoke(f, kv.second)}; });
  }
};

template <class F>
struct FlatMapValuesStep {
  F f;
  template <class P, class E>
  void operator()(const P& kv, E& emit) {
    using R = std::invoke_result_t<F&, const typename P::second_type&>;
    using W = std::ranges::range_value_t<std::remove_cvref_t<R>>;
    for (auto&& v : std::invoke(f, kv.second)) {
      emit(std::pair<typename P::first_type, W>{kv.first, W(v)});
    }
  }
};

/// Gathers a streamed partition into one contiguous span, copying only when it arrives in pieces.
template <class T>
class ContiguousSink final : public ChunkSink<T> {
 public:
  void push(std::span<const T> items) override {
    if (!copied_ && view_.empty()) {
      view_ = items;
      return;
    }
    materialize();
    own_.insert(own_.end(), items.begin(), items.end());
  }
  void push_owned(std::span<T> items) override {
    materialize();
    own_.insert(own_.end(), std::make_move_iterator(items.begin()),
                std::make_move_iterator(items.end()));
  }
  [[nodiscard]] std::span<const T> span() const {
    return copied_ ? std::span<const T>(own_) : view_;
  }

 private:
  void materialize() {
    if (copied_) return;
    own_.assign(view_.begin(), view_.end());
    copied_ = true;
  }
  std::span<const T> view_;
  std::vector<T> own_;
  bool copied_ = false;
};

/// map_partitions and glom: a function of a whole partition.
template <class In, class Out, class F>
class PartitionNode final : public Node<Out> {
 public:
  PartitionNode(std::string kind, std::shared_ptr<Node<In>> parent, F f)
      : Node<Out>(std::move(kind), {parent}, parent->slide(), parent->num_partitions()),
        parent_(std::move(parent)),
        f_(std::move(f)) {}

  [[nodiscard]] bool fusable() const noexcept override { return true; }

 protected:
  void prepare_stream(Time t, Exec& ex) override { parent_->prepare(t, ex); }
  void stream_partition(Time t, std::size_t p, ChunkSink<Out>& down) override {
    ContiguousSink<In> whole;
    parent_->stream(t, p, whole);
    F f = f_;
    auto out = std::invoke(f, whole.span());
    if (!out.empty()) down.push_owned(std::span<Out>(out));
  }

 private:
  std::shared_ptr<Node<In>> parent_;
  F f_;
};

/// union_with: the partitions of the first stream, then those of the second.
template <class T>
class UnionNode final : public Node<T> {
 public:
  UnionNode(std::shared_ptr<Node<T>> a, std::shared_ptr<Node<T>> b)
      : Node<T>("union", {a, b}, a->slide(), a->num_partitions() + b->num_partitions()),
        a_(std::move(a)),
        b_(std::move(b)) {}

  [[nodiscard]] bool fusable() const noexcept override { return true; }

 protected:
  void prepare_stream(Time t, Exec& ex) override {
    a_->prepare(t, ex);
    b_->prepare(t, ex);
  }
  void stream_partition(Time t, std::size_t p, ChunkSink<T>& down) override {
    const std::size_t na = a_->num_partitions();
    if (p < na) {
      a_->stream(t, p, down);
    } else {
      b_->stream(t, p - na, down);
    }
  }

 private:
  std::shared_ptr<Node<T>> a_;
  std::shared_ptr<Node<T>> b_;
};

/// Materializes every partition of `node` at t into vectors, in parallel.
template <class T>
typename Batch<T>::Partitions gather_partitions(Node<T>& node, Time t, Exec& ex) {
  node.prepare(t, ex);
  typename Batch<T>::Partitions parts(node.num_partitions());
  ex.parallel_for(parts.size(), [&](std::size_t p) {
    CollectSink<T> sink(parts[p]);
    node.stream(t, p, sink);
  });
  return parts;
}

/// repartition(n): the records in order, cut into n contiguous slices (deterministic, unlike
/// Spark's random round-robin start).
template <class T>
class RepartitionNode final : public Node<T> {
 public:
  RepartitionNode(std::shared_ptr<Node<T>> parent, std::size_t n)
      : Node<T>("repartition", {parent}, parent->slide(), n), parent_(std::move(parent)) {}

 protected:
  std::shared_ptr<const Batch<T>> compute(Time t, Exec& ex) override {
    auto parts = gather_partitions(*parent_, t, ex);
    std::vector<T> all;
    std::size_t total = 0;
    for (const auto& p : parts)
      total += p.size();
    all.reserve(total);
    for (auto& p : parts) {
      all.insert(all.end(), std::make_move_iterator(p.begin()), std::make_move_iterator(p.end()));
    }
    return std::make_shared<const Batch<T>>(
        Batch<T>::contiguous(std::move(all), this->num_partitions()));
  }

 private:
  std::shared_ptr<Node<T>> parent_;
};

}  // namespace rill::detail
