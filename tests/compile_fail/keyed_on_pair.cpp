// The control for the compile-fail programs: the same calls on streams of pairs compile, so the
// others fail only for the reason they were written for.
#include <rill/rill.hpp>

#include <chrono>
#include <utility>

int main() {
  rill::StreamingContext ctx{std::chrono::seconds(1)};
  auto pairs = ctx.queue_stream<std::pair<int, int>>({{{1, 10}, {1, 5}}});
  pairs.reduce_by_key([](int a, int b) { return a + b; }).print();
  pairs.join(pairs).print();
  pairs.map_values([](int v) { return v + 1; }).print();
}
