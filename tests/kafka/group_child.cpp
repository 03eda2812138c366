// A member of a consumer group for the group tests (tests/kafka/group_test.cpp): a stateless,
// checkpointed pipeline against the mock cluster the test hosts, direct_stream with a group_id ->
// one line "<partition>:<offset>" per record -> the exactly-once text files of this process.
// Usage: kafka_group_child BOOTSTRAP TOPIC GROUP CKPT_DIR OUT_DIR STOP_FILE [EXIT_AFTER_CLAIMS].
// Once its context started it creates "started" next to STOP_FILE. With EXIT_AFTER_CLAIMS = n > 0
// it ends itself (_exit(9)) right after its n-th successful claim, before that batch's seal
// record is written: the window docs/kafka.md, "Consumer groups", closes (through the test-only
// hook rill::kafka::detail::after_claim_for_tests).
// A batch every 100 ms of wall-clock time (the group protocol runs on it) until STOP_FILE
// exists; then a graceful stop, which leaves the group. Restarted on CKPT_DIR after a kill, it
// runs again the batches it had sealed, then joins the group again.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include <unistd.h>
#include <rill/kafka.hpp>
#include <rill/rill.hpp>

#include "kafka/direct_source.hpp"

namespace {

int claims_until_exit = 0;

void exit_after_claims() {
  if (--claims_until_exit != 0) return;
  // Right after the claim's commit, inside seal(): the batch's seal record is not written.
  static constexpr char kLine[] = "kafka_group_child: exiting right after a claim (test hook)\n";
  static_cast<void>(::write(2, kLine, sizeof kLine - 1));
  ::_exit(9);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  if (argc != 7 && argc != 8) {
    std::fprintf(stderr,
                 "usage: kafka_group_child BOOTSTRAP TOPIC GROUP CKPT_DIR OUT_DIR STOP_FILE "
                 "[EXIT_AFTER_CLAIMS]\n");
    return 2;
  }
  if (argc == 8 && std::atoi(argv[7]) > 0) {
    claims_until_exit = std::atoi(argv[7]);
    rill::kafka::detail::after_claim_for_tests = &exit_after_claims;
  }
  rill::get_logger()->set_level(spdlog::level::info);
  // Both members log to the test's output: the process id tells them apart.
  rill::get_logger()->set_pattern("[%H:%M:%S.%e] [%P] [%l] %v");
  try {
    const std::string bootstrap = argv[1];
    const std::string topic = argv[2];
    const std::string group = argv[3];
    const std::filesystem::path out = argv[5];
    const std::filesystem::path stop_file = argv[6];
    std::map<std::string, std::string> properties{{"fetch.wait.max.ms", "20"},
                                                  {"session.timeout.ms", "4000"},
                                                  {"heartbeat.interval.ms", "300"},
                                                  {"reconnect.backoff.ms", "20"},
                                                  {"reconnect.backoff.max.ms", "200"}};
    // RILL_KAFKA_DEBUG=cgrp,... : librdkafka's debug contexts, logged (for diagnosing the mock).
    if (const char* debug = std::getenv("RILL_KAFKA_DEBUG")) {
      properties["debug"] = debug;
      rill::get_logger()->set_level(spdlog::level::debug);
    }
    if (const char* strategy = std::getenv("RILL_KAFKA_ASSIGNOR"))
      properties["partition.assignment.strategy"] = strategy;
    auto ctx = rill::StreamingContext::get_or_create(argv[4], [&] {
      auto c = std::make_unique<rill::StreamingContext>(
          rill::Config{}.batch_interval(100ms).parallelism(2).worker_threads(2).delivery(
              rill::Delivery::exactly_once));
      rill::kafka::direct_stream(
          *c, rill::kafka::SourceOptions{.bootstrap_servers = bootstrap,
                                         .topics = {topic},
                                         .group_id = group,
                                         .starting_offsets = rill::kafka::StartingOffsets::earliest,
                                         .max_records_per_partition = 5,
                                         .fail_on_data_loss = true,
                                         .properties = properties})
          .name("input")
          .map([](const rill::kafka::Record& r) {
            return std::to_string(r.partition) + ":" + std::to_string(r.offset);
          })
          // Work that takes most of a batch interval: a kill then often lands while a batch
          // runs, with batches sealed and not completed for the restart to replay.
          // "busy" exists next to STOP_FILE while it works: the kill test kills it then, which
          // leaves a sealed batch to replay (the claim-to-seal-record window has its own tests,
          // through EXIT_AFTER_CLAIMS).
          .transform([busy = stop_file.parent_path() / "busy"](const rill::Batch<std::string>& b,
                                                               rill::Time) {
            auto lines = b.collect();
            if (!lines.empty()) {
              std::ofstream(busy).put('\n');
              std::this_thread::sleep_for(60ms);
              std::filesystem::remove(busy);
            }
            return lines;
          })
          .save_as_text_files((out / "batch").string());
      return c;
    });
    ctx->start();
    // STOP_FILE's directory gets "started": the test knows the restart restored its checkpoint.
    std::ofstream(stop_file.parent_path() / "started").put('\n');
    while (!std::filesystem::exists(stop_file)) {
      // Returns early (rethrowing) when the context failed.
      if (ctx->await_termination_for(rill::Duration{20})) break;
    }
    ctx->stop();
    ctx->await_termination();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kafka_group_child: %s\n", e.what());
    return 1;
  }
  return 0;
}
