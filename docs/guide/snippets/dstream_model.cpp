// Micro-batches and the DStream model: a stream is a sequence of batches, one per batch time,
// each cut into partitions; operators turn batches into batches, windows span several.
#include <rill/testing.hpp>

using namespace std::chrono_literals;

int main() {
  // [model]
  rill::testing::Harness h{1s};  // 1 s batches, 2 partitions, a manual clock at 0 ms
  auto numbers = h.input<int>({{1, 2, 3, 4, 5}, {6}, {}});  // the batches at 1000, 2000, 3000 ms
  numbers.glom().print();  // each partition of a batch as one vector
  numbers.filter([](int x) { return x % 2 == 0; }).count().print();           // one count a batch
  numbers.window(2s, 1s).reduce([](int a, int b) { return a + b; }).print();  // the last 2 s
  h.run_batches(3);
  // [/model]
}

// Expected output:
// > -------------------------------------------
// > Time: 1000 ms
// > -------------------------------------------
// > [1, 2]
// > [3, 4, 5]
// >
// > -------------------------------------------
// > Time: 1000 ms
// > -------------------------------------------
// > 2
// >
// > -------------------------------------------
// > Time: 1000 ms
// > -------------------------------------------
// > 15
// >
// > -------------------------------------------
// > Time: 2000 ms
// > -------------------------------------------
// > []
// > [6]
// >
// > -------------------------------------------
// > Time: 2000 ms
// > -------------------------------------------
// > 1
// >
// > -------------------------------------------
// > Time: 2000 ms
// > -------------------------------------------
// > 21
// >
// > -------------------------------------------
// > Time: 3000 ms
// > -------------------------------------------
// > []
// > []
// >
// > -------------------------------------------
// > Time: 3000 ms
// > -------------------------------------------
// > 0
// >
// > -------------------------------------------
// > Time: 3000 ms
// > -------------------------------------------
// > 6
// >
