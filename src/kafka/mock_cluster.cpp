#include <rill/kafka/mock_cluster.hpp>

#include <rill/core/errors.hpp>

#include "kafka/client_config.hpp"

#include <fmt/format.h>

#include <atomic>
#include <string>

namespace rill::kafka {
namespace {

// Counts the delivery reports of one produce() call; the opaque of each of its messages.
struct Deliveries {
  std::atomic<std::int64_t> failed{0};
  std::atomic<rd_kafka_resp_err_t> first_error{RD_KAFKA_RESP_ERR_NO_ERROR};
  std::atomic<std::int32_t> first_partition{-1};
};

void on_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* m, void* /*opaque*/) {
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  auto* d = static_cast<Deliveries*>(m->_private);
  if (d->failed.fetch_add(1) == 0) {
    d->first_partition.store(m->partition);
    d->first_error.store(m->err);
  }
}

}  // namespace

struct MockCluster::Impl {
  detail::UniqueHandle producer;
  rd_kafka_mock_cluster_t* cluster = nullptr;
  std::string bootstrap;
};

MockCluster::MockCluster(int brokers) : impl_{std::make_unique<Impl>()} {
  constexpr std::string_view what = "rill::kafka::MockCluster";
  if (brokers < 1)
    throw InvalidArgument(fmt::format("{}: brokers must be at least 1, not {}", what, brokers));
  // A producer whose configuration creates the cluster: it owns the cluster and produces into it.
  auto conf = detail::make_conf(what, "",
                                {{"test.mock.num.brokers", std::to_string(brokers)},
                                 {"linger.ms", "0"},
                                 {"enable.idempotence", "true"},
                                 {"log_level", "3"}},
                                {});
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &on_delivery);
  impl_->producer = detail::make_client(what, RD_KAFKA_PRODUCER, std::move(conf));
  impl_->cluster = rd_kafka_handle_mock_cluster(impl_->producer.get());
  if (impl_->cluster == nullptr)
    throw IoError(fmt::format("{}: librdkafka created no mock cluster", what));
  impl_->bootstrap = rd_kafka_mock_cluster_bootstraps(impl_->cluster);
}

MockCluster::~MockCluster() {
  if (impl_ && impl_->producer) rd_kafka_flush(impl_->producer.get(), 5000);
}

const std::string& MockCluster::bootstrap_servers() const noexcept {
  return impl_->bootstrap;
}

void MockCluster::create_topic(const std::string& topic, int partitions, int replication_factor) {
  if (auto err =
          rd_kafka_mock_topic_create(impl_->cluster, topic.c_str(), partitions, replication_factor);
      err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw IoError(
        fmt::format("rill::kafka::MockCluster: cannot create topic '{}' ({} partitions): {}", topic,
                    partitions, rd_kafka_err2str(err)));
  }
}

void MockCluster::produce(const std::string& topic, std::span<const ProducerRecord> records,
                          std::chrono::milliseconds timeout) {
  rd_kafka_t* rk = impl_->producer.get();
  Deliveries deliveries;
  for (const ProducerRecord& r : records) {
    rd_kafka_headers_t* headers = rd_kafka_headers_new(r.headers.size());
    for (const auto& [name, value] : r.headers)
      rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                          static_cast<ssize_t>(value.size()));
    // The RD_KAFKA_V_* macros cast their arguments unparenthesized: pass plain variables.
    const void* key = r.key ? r.key->data() : nullptr;
    const std::size_t key_size = r.key ? r.key->size() : 0;
    const std::int32_t partition = r.partition.value_or(RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err;
    for (;;) {
      err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data()), r.value.size()),
                              RD_KAFKA_V_KEY(key, key_size), RD_KAFKA_V_HEADERS(headers),
                              RD_KAFKA_V_OPAQUE(&deliveries), RD_KAFKA_V_END);
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
      rd_kafka_poll(rk, 10);  // the local queue is full: serve delivery reports, then retry
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_headers_destroy(headers);  // not taken over on failure
      rd_kafka_flush(rk, static_cast<int>(timeout.count()));
      throw IoError(fmt::format("rill::kafka::MockCluster: cannot produce to '{}': {}", topic,
                                rd_kafka_err2str(err)));
    }
  }
  if (rd_kafka_flush(rk, static_cast<int>(timeout.count())) != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw IoError(
        fmt::format("rill::kafka::MockCluster: records to '{}' not acknowledged within {} ms",
                    topic, timeout.count()));
  if (deliveries.failed.load() > 0)
    throw IoError(fmt::format(
        "rill::kafka::MockCluster: {} record(s) to '{}' failed, first on partition {}: {}",
        deliveries.failed.load(), topic, deliveries.first_partition.load(),
        rd_kafka_err2str(deliveries.first_error.load())));
}

void MockCluster::produce(const std::string& topic, const ProducerRecord& record,
                          std::chrono::milliseconds timeout) {
  produce(topic, std::span<const ProducerRecord>{&record, 1}, timeout);
}

void MockCluster::set_broker_down(int id) {
  rd_kafka_mock_broker_set_down(impl_->cluster, id);
}

void MockCluster::set_broker_up(int id) {
  rd_kafka_mock_broker_set_up(impl_->cluster, id);
}

rd_kafka_mock_cluster_t* MockCluster::native() const noexcept {
  return impl_->cluster;
}

}  // namespace rill::kafka
