// The process the Kafka crash test kills: runs tests/kafka/crash_pipeline.hpp against the mock
// cluster the test hosts, from its checkpoint directory up to the last batch, then stops.
// Usage: kafka_crash_child BOOTSTRAP CKPT_DIR OUT_DIR RUNS_DIR OUTPUT_TOPIC.
// It appends to RUNS_DIR/<pid>.log "writing <t>" before the Kafka sink produces batch t's first
// record and "done <t>" once the sink's output of batch t returned, so that the test knows which
// transactions a kill left open. RILL_CRASH_POINT=<step>:<n> makes rill kill it at the n-th
// passage through a write step.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include <rill/testing.hpp>

#include "kafka/crash_pipeline.hpp"

namespace {

/// Appends lines to a file with one write(2) each: what was written survives a SIGKILL.
class RunLog {
 public:
  explicit RunLog(const std::string& path)
      : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) {
    if (fd_ < 0) throw std::runtime_error("cannot open " + path);
  }
  ~RunLog() { ::close(fd_); }
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;
  void append(const std::string& line) {
    if (::write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      throw std::runtime_error("cannot write the run log");
  }

 private:
  int fd_;
};

}  // namespace

int main(int argc, char** argv) {
  namespace crash = rill_test::kafka_crash;
  if (argc != 6) {
    std::fprintf(stderr,
                 "usage: kafka_crash_child BOOTSTRAP CKPT_DIR OUT_DIR RUNS_DIR OUTPUT_TOPIC\n");
    return 2;
  }
  rill::get_logger()->set_level(spdlog::level::err);
  try {
    const std::filesystem::path runs = argv[4];
    auto log = std::make_shared<RunLog>((runs / fmt::format("{}.log", ::getpid())).string());
    // The last batch logged as "writing", under a mutex: a record of batch t is handed to
    // librdkafka only once its line is written (to_record runs on several threads at once).
    struct Writing {
      std::mutex mutex;
      std::int64_t last = -1;
    };
    auto writing = std::make_shared<Writing>();
    auto clock = rill::ManualClock::create();
    auto ctx = rill::StreamingContext::get_or_create(argv[2], [&] {
      return crash::pipeline(
          argv[1], argv[3], argv[5], clock,
          [log, writing](std::int64_t t) {
            std::lock_guard lock(writing->mutex);
            if (writing->last == t) return;
            log->append(fmt::format("writing {}\n", t));
            writing->last = t;
          },
          [log](std::int64_t t) { log->append(fmt::format("done {}\n", t)); });
    });
    rill::testing::run_until(*ctx, *clock,
                             rill::Time{crash::kBatches * crash::kInterval.count() * 1000});
    ctx->stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kafka_crash_child: %s\n", e.what());
    return 1;
  }
  return 0;
}
