// A source and a sink of one's own: implement rill::Source<T> and rill::Sink<T>, add them with
// ctx.add_source(...) and stream.to(...), as rill's own sources and sinks are added.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <rill/testing.hpp>

using namespace std::chrono_literals;

// [source]
// Each batch: the square of its batch time in seconds (1, 4, 9 ... at 1000, 2000, 3000 ms), a
// pure function of the batch time, so it can be replayed after a crash by sealing it again.
class Squares final : public rill::Source<long> {
 public:
  std::string kind() const override { return "squares"; }
  rill::SourceProperties properties() const override {
    return {.delivery = rill::Delivery::exactly_once, .replayable = true};
  }
  rill::Sealed<long> seal(rill::Time t, bool /*take_buffered*/) override {
    const long seconds = t.milliseconds() / 1000;
    return {.records = {seconds * seconds}, .seal_record = {}};
  }
};
// [/source]

// [sink]
// Writes one line per batch; at least once: after a crash a batch may be written again.
template <class T>
class BatchSizes final : public rill::Sink<T> {
 public:
  std::string kind() const override { return "batch_sizes"; }
  rill::SinkProperties properties() const override {
    return {.delivery = rill::Delivery::at_least_once};
  }
  void write(const rill::BatchView<T>& batch) override {
    std::cout << batch.time() << ": " << batch.get()->size() << " records\n";
  }
};
// [/sink]

int main() {
  // [use]
  rill::testing::Harness h{1s};
  auto squares = h.context().add_source<long>(std::make_shared<Squares>());
  squares.print();
  squares.filter([](long x) { return x > 1; }).to(std::make_shared<BatchSizes<long>>());
  h.run_batches(2);
  // [/use]
}

// Expected output:
// > -------------------------------------------
// > Time: 1000 ms
// > -------------------------------------------
// > 1
// >
// > 1000 ms: 0 records
// > -------------------------------------------
// > Time: 2000 ms
// > -------------------------------------------
// > 4
// >
// > 2000 ms: 1 records
