// Must not compile: join needs the left stream to be a stream of std::pair<K, V>, and the
// diagnostic must name the concept rill::KeyValue (see CMakeLists.txt).
#include <rill/rill.hpp>

#include <chrono>
#include <utility>

int main() {
  rill::StreamingContext ctx{std::chrono::seconds(1)};
  rill::DStream<int> numbers = ctx.queue_stream<int>({{1, 2, 3}});
  auto pairs = ctx.queue_stream<std::pair<int, int>>({{{1, 10}}});
  auto joined = numbers.join(pairs);
  joined.print();
}
