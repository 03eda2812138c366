// Operating: a listener on every batch, the progress record as JSON, the progress log, and a
// graceful stop on SIGTERM.
#include <csignal>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include <rill/testing.hpp>

#include "guide.hpp"

using namespace std::chrono_literals;

// [listener]
// Called on one rill thread, in batch order, after each batch's outputs ran.
class Progress final : public rill::StreamingListener {
 public:
  void on_batch_completed(const rill::BatchInfo& info) override {
    std::cout << info.batch_time << ": " << info.num_records << " records\n";
  }
};
// [/listener]

int main() {
  guide::TempDir dir;
  // [operate]
  const auto log = dir.path() / "progress.jsonl";
  rill::testing::Harness h{rill::Config{}.batch_interval(1s).progress_log(log)};
  h.input<int>({{1, 2, 3}, {4}})
      .count()
      .foreach_batch([](const rill::Batch<std::int64_t>&, rill::Time) {});
  h.context().add_listener(std::make_shared<Progress>());
  auto on_signals = rill::stop_on_signals(h.context());  // SIGINT, SIGTERM: a graceful stop
  h.run_batches(2);

  const std::string json = rill::to_json(*h.context().last_progress());
  std::cout << json.substr(0, json.find(",\"input_rate")) << "...}\n";
  std::ifstream in(log);
  int lines = 0;
  for (std::string line; std::getline(in, line);)
    ++lines;
  std::cout << "progress log: " << lines << " lines\n";

  std::raise(SIGTERM);              // as `kill <pid>` would
  h.context().await_termination();  // returns once the signal stopped the context
  std::cout << "stopped after " << on_signals.signals_received() << " signal\n";
  // [/operate]
}

// Expected output:
// > 1000 ms: 3 records
// > 2000 ms: 1 records
// > {"batch_time_ms":2000,"num_records":1...}
// > progress log: 2 lines
// > stopped after 1 signal
