// kafka_word_count BROKERS TOPIC: counts the words of a Kafka topic's records, per one-second
// batch, with rill::kafka::direct_stream. `kafka_word_count --mock` needs no Kafka: it starts an
// in-process mock cluster, writes a bundled text into a three-partition topic, counts it under
// Trigger::available_now and exits.
#include <rill/kafka.hpp>
#include <rill/rill.hpp>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "command_line.hpp"
#include "status_page.hpp"

using namespace std::chrono_literals;

namespace {

// The bundled text of --mock: one record per line.
constexpr const char* kText =
    "the quick brown fox jumps over the lazy dog\n"
    "the dog sleeps\n"
    "a fox is quick and a dog is lazy\n"
    "records of a topic become words of a stream\n";

std::vector<rill::kafka::ProducerRecord> bundled_records() {
  std::vector<rill::kafka::ProducerRecord> out;
  std::istringstream in{kText};
  std::string line;
  int i = 0;
  while (std::getline(in, line)) {
    out.push_back({.key = std::nullopt, .value = line, .partition = i++ % 3, .headers = {}});
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Counts the words of TOPIC's records (from its end, or with --from-beginning from its "
      "start) on the Kafka brokers BROKERS and prints each second's counts in Spark's layout. "
      "--mock runs on a bundled text in an in-process mock cluster instead, and exits.",
      "kafka_word_count"};
  std::string brokers;
  std::string topic;
  bool mock = false;
  bool from_beginning = false;
  app.add_option("BROKERS", brokers, "host:port[,host:port...] of the Kafka brokers");
  app.add_option("TOPIC", topic, "the topic to read");
  app.add_flag("--mock", mock, "use an in-process mock cluster fed with a bundled text");
  app.add_flag("--from-beginning", from_beginning, "read the topic from its earliest offsets");
  std::optional<std::uint16_t> status_port;
  rill_examples::add_status_port(app, status_port);
  if (const auto code = rill_examples::parse(app, argc, argv)) return *code;
  if (!mock && (brokers.empty() || topic.empty())) {
    std::fprintf(stderr, "kafka_word_count: BROKERS and TOPIC are required (or --mock)\n");
    return rill_examples::kUsageError;
  }

  try {
    std::unique_ptr<rill::kafka::MockCluster> cluster;
    rill::Config config = rill::Config{}.batch_interval(1s);
    if (mock) {
      cluster = std::make_unique<rill::kafka::MockCluster>(1);
      topic = "words";
      cluster->create_topic(topic, 3);
      const auto records = bundled_records();
      cluster->produce(topic, records);
      brokers = cluster->bootstrap_servers();
      from_beginning = true;
      config.trigger(rill::Trigger::available_now());  // count what is there, then stop
    }
    rill::StreamingContext ctx{config};
    auto counts =
        rill::kafka::direct_stream(
            ctx,
            rill::kafka::SourceOptions{
                .bootstrap_servers = brokers,
                .topics = {topic},
                .group_id = "",
                .starting_offsets = from_beginning ? rill::kafka::StartingOffsets::earliest
                                                   : rill::kafka::StartingOffsets::latest,
                .max_records_per_partition = 0,
                .fail_on_data_loss = true,
                .properties = {{"client.id", "kafka_word_count"}}})
            .map([](const rill::kafka::Record& r) { return r.value; })
            .flat_map(rill::split_words)
            .map([](const std::string& w) {
              return std::pair{w, 1L};
            })
            .reduce_by_key([](long a, long b) { return a + b; });
    counts.print(100);  // flushed after every batch
    [[maybe_unused]] const auto status = rill_examples::serve_status(ctx, status_port);
    ctx.start();
    ctx.await_termination();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kafka_word_count: %s\n", e.what());
    return 1;
  }
}
