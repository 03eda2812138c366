// The process the crash test kills: runs tests/checkpoint/pipeline.hpp from its checkpoint
// directory up to the last batch, then stops. Usage: crash_child CKPT_DIR OUT_DIR BATCHES.
// Or, with a reliable receiver reading offsets 0..LAST from a test server on 127.0.0.1:PORT,
// until it has stored them all: crash_child receiver CKPT_DIR OUT_DIR PORT LAST.
// RILL_CRASH_POINT=<step>:<n> makes rill kill it at the n-th passage through a write step.
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>

#include <rill/testing.hpp>

#include "checkpoint/pipeline.hpp"
#include "checkpoint/reliable_receiver.hpp"

namespace {
int run_receiver(const std::filesystem::path& ckpt, const std::filesystem::path& out,
                 std::uint16_t port, std::int64_t last) {
  using namespace std::chrono_literals;
  std::shared_ptr<rill_test::ReliableReceiver> receiver;
  auto ctx = rill::StreamingContext::get_or_create(ckpt, [&] {
    auto c = std::make_unique<rill::StreamingContext>(
        rill::Config{}.batch_interval(50ms).parallelism(2).delivery(rill::Delivery::exactly_once));
    receiver = std::make_shared<rill_test::ReliableReceiver>(port, last);
    c->receiver_stream<std::int64_t>(receiver).name("offsets").save_as_text_files(
        (out / "offsets").string());
    return c;
  });
  ctx->start();
  while (!receiver->done())
    std::this_thread::sleep_for(5ms);
  ctx->stop();  // graceful: what was stored runs before it returns
  ctx->await_termination();
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc == 6 && std::string_view(argv[1]) == "receiver") {
    rill::get_logger()->set_level(spdlog::level::warn);
    try {
      return run_receiver(argv[2], argv[3], static_cast<std::uint16_t>(std::atoi(argv[4])),
                          std::atoll(argv[5]));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "crash_child: %s\n", e.what());
      return 1;
    }
  }
  if (argc != 4) {
    std::fprintf(stderr, "usage: crash_child CKPT_DIR OUT_DIR BATCHES\n");
    return 2;
  }
  const std::filesystem::path ckpt = argv[1];
  const std::filesystem::path out = argv[2];
  const int batches = std::atoi(argv[3]);
  rill::get_logger()->set_level(spdlog::level::warn);
  try {
    auto clock = rill::ManualClock::create();
    auto ctx = rill::StreamingContext::get_or_create(
        ckpt, [&] { return rill_test::pipeline(out, clock, {}, batches); });
    rill::testing::run_until(*ctx, *clock, rill::Time{batches * 1000LL});
    ctx->stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "crash_child: %s\n", e.what());
    return 1;
  }
  return 0;
}
