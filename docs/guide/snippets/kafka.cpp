// Kafka without a broker: rill's in-process MockCluster, a direct stream read from the earliest
// offsets under Trigger::available_now, so the program ends once the topic is read.
#include <cstdint>
#include <iostream>
#include <vector>

#include <rill/kafka.hpp>
#include <rill/rill.hpp>

using namespace std::chrono_literals;

int main() {
  // [kafka]
  rill::kafka::MockCluster cluster{1};  // one broker, threads of this process
  cluster.create_topic("payments", 2);
  const std::vector<rill::kafka::ProducerRecord> records{
      {.key = "card-1", .value = "12.50", .partition = 0, .headers = {}},
      {.key = "card-2", .value = "3.00", .partition = 1, .headers = {}},
      {.key = "card-1", .value = "7.25", .partition = 0, .headers = {}}};
  cluster.produce("payments", records);

  rill::StreamingContext ctx{rill::Config{}
                                 .batch_interval(1s)
                                 .clock(rill::ManualClock::create())
                                 .trigger(rill::Trigger::available_now())};
  auto payments = rill::kafka::direct_stream(
      ctx, rill::kafka::SourceOptions{.bootstrap_servers = cluster.bootstrap_servers(),
                                      .topics = {"payments"},
                                      .group_id = "",
                                      .starting_offsets = rill::kafka::StartingOffsets::earliest,
                                      .max_records_per_partition = 0,  // per batch; 0: no limit
                                      .fail_on_data_loss = true,
                                      .properties = {}});
  payments.foreach_batch([](const rill::Batch<rill::kafka::Record>& batch, rill::Time t) {
    for (std::size_t p = 0; p < batch.num_partitions(); ++p)
      for (const auto& r : batch.partition(p))
        std::cout << t << ": " << r.topic << "/" << r.partition << "@" << r.offset << " "
                  << r.key.value_or("") << " " << r.value << '\n';
  });
  ctx.start();
  ctx.await_termination();  // the offsets up to the end offsets read at start(), then stop
  // [/kafka]
}

// One batch: a rill partition per Kafka partition with records, in partition order, records in
// offset order.
// Expected output:
// > 1000 ms: payments/0@0 card-1 12.50
// > 1000 ms: payments/0@1 card-1 7.25
// > 1000 ms: payments/1@0 card-2 3.00
