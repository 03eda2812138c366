// Must not compile: map_values needs a stream of std::pair<K, V>, and the diagnostic must name
// the concept rill::KeyValue (see CMakeLists.txt).
#include <rill/rill.hpp>

#include <chrono>

int main() {
  rill::StreamingContext ctx{std::chrono::seconds(1)};
  rill::DStream<int> numbers = ctx.queue_stream<int>({{1, 2, 3}});
  auto incremented = numbers.map_values([](int v) { return v + 1; });
  incremented.print();
}
