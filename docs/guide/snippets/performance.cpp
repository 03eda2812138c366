// Performance knobs: the partitions of each stage, set by the context's parallelism, by
// repartition(n) and by a keyed operator's trailing num_partitions.
#include <iostream>
#include <string>
#include <utility>

#include <rill/testing.hpp>

using namespace std::chrono_literals;

template <class T>
void partitions(const rill::DStream<T>& stream, std::string label) {
  stream.foreach_batch([label](const rill::Batch<T>& b, rill::Time) {
    std::cout << label << ": " << b.size() << " records in " << b.num_partitions()
              << " partitions\n";
  });
}

int main() {
  // [partitions]
  // 4 partitions per source batch and shuffle, run by 2 worker threads.
  rill::testing::Harness h{rill::Config{}.batch_interval(1s).parallelism(4).worker_threads(2)};
  auto in = h.input<int>({{1, 2, 3, 4, 5, 6, 7, 8}});
  partitions(in, "source");
  // map and filter are narrow: fused into one pass per partition, partitions kept.
  auto evens = in.map([](int x) { return x * 10; }).filter([](int x) { return x % 20 == 0; });
  partitions(evens, "map + filter");
  partitions(in.repartition(2), "repartition(2)");
  auto sums = in.map([](int x) {
                  return std::pair{x % 3, x};
                }).reduce_by_key([](int a, int b) { return a + b; }, 8);  // shuffle into 8
  partitions(sums, "reduce_by_key(f, 8)");
  h.run_batches(1);
  // [/partitions]
}

// Expected output:
// > source: 8 records in 4 partitions
// > map + filter: 4 records in 4 partitions
// > repartition(2): 8 records in 2 partitions
// > reduce_by_key(f, 8): 3 records in 8 partitions
