// Built-in sources on a manual clock: a directory of files, the rate generator and a receiver.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <rill/testing.hpp>

#include "guide.hpp"

using namespace std::chrono_literals;

// [receiver]
// A receiver pushes what its own thread gets into rill; here three fixed lines.
class LinesReceiver final : public rill::Receiver<std::string> {
 public:
  void on_start() override {  // must return promptly: the work runs on a thread of our own
    thread_ = std::jthread([this] {
      try {
        store(std::vector<std::string>{"one", "two", "three"});  // one block
      } catch (const rill::Stopped&) {
        // the context stopped before the block was taken
      }
    });
  }
  void on_stop() override {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::jthread thread_;
};
// [/receiver]

int main() {
  guide::TempDir dir;
  {
    // [files]
    rill::testing::Harness h{1s};
    guide::move_in(dir.path(), "old.txt", "ignored\n");  // present at start(): not read
    guide::show(h.context().text_file_stream(dir.path()), "files");
    h.run_batches(1);
    guide::move_in(dir.path(), "new.txt", "hello\nworld\n");  // read in the next batch
    h.run_batches(2);
    // [/files]
  }
  {
    // [rate]
    // 2 rows a second: values 0, 1 in the batch at 1000 ms, 2, 3 at 2000 ms; a pure function of
    // the batch time, so a replay after a crash gives the same rows.
    rill::testing::Harness h{1s};
    auto rows = h.context().rate_stream(rill::RateOptions{.rows_per_second = 2});
    guide::show(rows.map([](const rill::RateRow& r) { return r.value; }), "rate");
    h.run_batches(2);
    // [/rate]
  }
  {
    // [receiver-use]
    rill::testing::Harness h{1s};
    guide::show(h.context().receiver_stream<std::string>(std::make_shared<LinesReceiver>()),
                "receiver");
    h.context().start();
    h.await_records_stored(3);  // the block is in rill's queue: the next batch takes it
    rill::testing::run_until(h.context(), h.clock(), rill::Time{1000});
    // [/receiver-use]
  }
  {
    // [static-table]
    // Prices at rest, looked up by each batch of orders (no shuffle). The loader runs at start()
    // and every 2 s of the context's clock; a batch uses the newest version loaded when it was
    // sealed: apple costs 0.5 in the first version, 1.0 in the second.
    rill::testing::Harness h{1s};
    auto version = std::make_shared<std::atomic<int>>(0);
    auto prices = h.context().static_table<std::string, double>(
        [version] {
          const double v = ++*version;
          return std::vector<std::pair<std::string, double>>{{"apple", 0.5 * v}, {"pear", 0.75}};
        },
        2s);
    auto orders = h.input<std::pair<std::string, int>>(
        {{{"apple", 4}, {"kiwi", 1}}, {{"apple", 1}}, {{"pear", 2}}});
    guide::show(orders.left_outer_join(prices), "priced");  // (item,(quantity,price))
    h.run_batches(3);
    // [/static-table]
  }
}

// Expected output:
// > files @2000 ms: hello
// > files @2000 ms: world
// > rate @1000 ms: 0
// > rate @1000 ms: 1
// > rate @2000 ms: 2
// > rate @2000 ms: 3
// > receiver @1000 ms: one
// > receiver @1000 ms: three
// > receiver @1000 ms: two
// > priced @1000 ms: (apple,(4,Some(0.5)))
// > priced @1000 ms: (kiwi,(1,None))
// > priced @2000 ms: (apple,(1,Some(1.0)))
// > priced @3000 ms: (pear,(2,Some(0.75)))
