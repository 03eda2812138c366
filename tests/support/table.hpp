#pragma once

/// Table-driven operator tests in the spirit of Spark's TestSuiteBase.testOperation: input
/// batches, an operation, the expected output batches, and the parallelism to run them with.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <rill/testing.hpp>

namespace rill_test {

template <class T>
using Batches = std::vector<std::vector<T>>;

/// A harness config: 1 s batches, `parallelism` partitions, at most two worker threads (the
/// test machines are small; the partition count, not the thread count, shapes the output).
inline rill::Config config(std::size_t parallelism = 2, std::size_t threads = 2) {
  return rill::Config{}
      .batch_interval(std::chrono::seconds(1))
      .parallelism(parallelism)
      .worker_threads(threads);
}

/// Runs `op` over a queue stream of `input` and returns the output batches, one entry per batch.
/// `num_batches` 0 means as many batches as inputs.
template <class Out, class In>
Batches<Out> run_operation(const Batches<In>& input,
                           const std::function<rill::DStream<Out>(rill::DStream<In>)>& op,
                           std::size_t parallelism = 2, std::size_t num_batches = 0) {
  rill::testing::Harness h{config(parallelism)};
  auto out = h.collect(op(h.input<In>(input)));
  h.run_batches(num_batches == 0 ? input.size() : num_batches);
  return out.batches();
}

/// As run_operation, for an operation of two input streams.
template <class Out, class In1, class In2>
Batches<Out> run_operation2(
    const Batches<In1>& input1, const Batches<In2>& input2,
    const std::function<rill::DStream<Out>(rill::DStream<In1>, rill::DStream<In2>)>& op,
    std::size_t parallelism = 2, std::size_t num_batches = 0) {
  rill::testing::Harness h{config(parallelism)};
  auto a = h.input<In1>(input1);
  auto b = h.input<In2>(input2);
  auto out = h.collect(op(a, b));
  h.run_batches(num_batches == 0 ? std::max(input1.size(), input2.size()) : num_batches);
  return out.batches();
}

/// Each batch sorted: a keyed batch has no order across partitions.
template <class T>
Batches<T> sorted(Batches<T> batches) {
  for (auto& b : batches)
    std::sort(b.begin(), b.end());
  return batches;
}

/// One row of an operation table.
template <class In, class Out>
struct Case {
  std::string name;
  Batches<In> input;
  std::function<rill::DStream<Out>(rill::DStream<In>)> op;
  Batches<Out> expected;
  std::size_t parallelism = 2;
  /// Compare each batch sorted (for keyed outputs, whose order across partitions is unspecified).
  bool sort = false;
};

/// Runs every case; a failure names its case.
template <class In, class Out>
void test_operations(const std::vector<Case<In, Out>>& cases) {
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name + " (parallelism " + std::to_string(c.parallelism) + ")");
    auto got = run_operation<Out, In>(c.input, c.op, c.parallelism, c.expected.size());
    if (c.sort) {
      EXPECT_EQ(sorted(got), sorted(c.expected));
    } else {
      EXPECT_EQ(got, c.expected);
    }
  }
}

/// One row of a two-input operation table.
template <class In1, class In2, class Out>
struct Case2 {
  std::string name;
  Batches<In1> input1;
  Batches<In2> input2;
  std::function<rill::DStream<Out>(rill::DStream<In1>, rill::DStream<In2>)> op;
  Batches<Out> expected;
  std::size_t parallelism = 2;
  bool sort = false;
};

template <class In1, class In2, class Out>
void test_operations(const std::vector<Case2<In1, In2, Out>>& cases) {
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name + " (parallelism " + std::to_string(c.parallelism) + ")");
    auto got =
        run_operation2<Out, In1, In2>(c.input1, c.input2, c.op, c.parallelism, c.expected.size());
    if (c.sort) {
      EXPECT_EQ(sorted(got), sorted(c.expected));
    } else {
      EXPECT_EQ(got, c.expected);
    }
  }
}

}  // namespace rill_test
