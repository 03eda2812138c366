// The process the signal tests stop with SIGTERM (tests/core/signals_test.cpp): a receiver
// stores 0, 1, 2 ... as fast as its queue allows; every batch is written with
// save_as_text_files under OUT_DIR; rill::stop_on_signals stops the context. Prints `ready` once
// a batch with records completed. At exit it writes OUT_DIR/result.txt: the records stored, the
// batches submitted and completed, and the signals received.
// Usage: signal_child OUT_DIR fast|slow (slow: each batch's output takes 300 ms and 8 batches
// may wait, so that a graceful stop would take seconds).
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include <rill/rill.hpp>

namespace {
using namespace std::chrono_literals;

class Counter final : public rill::Receiver<std::int64_t> {
 public:
  void on_start() override {
    thread_ = std::thread([this] {
      try {
        for (std::int64_t i = 0;; ++i) {
          store(i);
          stored_ = i + 1;
        }
      } catch (const rill::Stopped&) {
      }
    });
  }
  void on_stop() override {
    if (thread_.joinable()) thread_.join();
  }
  [[nodiscard]] std::int64_t stored() const { return stored_.load(); }

 private:
  std::thread thread_;
  std::atomic<std::int64_t> stored_{0};
};

class Ready final : public rill::StreamingListener {
 public:
  void on_batch_submitted(const rill::BatchInfo& /*info*/) override { ++submitted; }
  void on_batch_completed(const rill::BatchInfo& info) override {
    ++completed;
    if (info.num_records > 0 && !said_) {
      said_ = true;
      std::fputs("ready\n", stdout);
      std::fflush(stdout);
    }
  }
  std::atomic<std::int64_t> submitted{0};
  std::atomic<std::int64_t> completed{0};

 private:
  bool said_ = false;  // the listener thread only
};
}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: signal_child OUT_DIR fast|slow\n");
    return 2;
  }
  const std::filesystem::path out = argv[1];
  const bool slow = std::string_view(argv[2]) == "slow";
  rill::get_logger()->set_level(spdlog::level::warn);
  try {
    rill::StreamingContext ctx{rill::Config{}
                                   .batch_interval(slow ? 20ms : 50ms)
                                   .parallelism(1)
                                   .worker_threads(1)
                                   .max_pending_batches(slow ? 8 : 2)
                                   .receiver_queue_capacity(5000)};
    auto counter = std::make_shared<Counter>();
    auto ready = std::make_shared<Ready>();
    ctx.add_listener(ready);
    auto numbers = ctx.receiver_stream<std::int64_t>(counter);
    if (slow) {
      numbers.foreach_batch(
          [](const rill::Batch<std::int64_t>&, rill::Time) { std::this_thread::sleep_for(300ms); });
    }
    numbers.map([](std::int64_t v) { return std::to_string(v); })
        .save_as_text_files((out / "numbers").string(), "txt");
    // Declared after the context: restores the handlers before the context goes.
    auto guard = rill::stop_on_signals(ctx, {SIGINT, SIGTERM},
                                       rill::StopOptions{.graceful = true, .timeout = 30s});
    ctx.start();
    ctx.await_termination();
    std::ofstream result(out / "result.txt");
    result << counter->stored() << ' ' << ready->submitted.load() << ' ' << ready->completed.load()
           << ' ' << guard.signals_received() << '\n';
    return result ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "signal_child: %s\n", e.what());
    return 1;
  }
}
