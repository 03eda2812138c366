#include <rill/kafka/detail/batch_producer.hpp>

#include <rill/core/errors.hpp>
#include <rill/core/logging.hpp>

#include "kafka/client_config.hpp"
#include "kafka/client_log.hpp"
#include "kafka/committed_batch.hpp"

#include <fmt/format.h>

#include <sys/types.h>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace rill::kafka::detail {
namespace {

constexpr std::string_view kWhat = "rill::kafka::write";
// Time for every record of a batch to be acknowledged or failed (librdkafka's
// message.timeout.ms, alias delivery.timeout.ms), unless the properties say otherwise. Also
// bounds each wait on the brokers for the transactions and the restart's read of the topic.
constexpr std::string_view kDefaultDeliveryTimeoutMs = "60000";
// Added to the delivery timeout for the final wait of a batch: every record has its delivery
// report by then.
constexpr std::chrono::milliseconds kReportMargin{10000};

struct TopicDeleter {
  void operator()(rd_kafka_topic_t* t) const noexcept { rd_kafka_topic_destroy(t); }
};
struct ErrorDeleter {
  void operator()(rd_kafka_error_t* e) const noexcept { rd_kafka_error_destroy(e); }
};
using UniqueError = std::unique_ptr<rd_kafka_error_t, ErrorDeleter>;

std::string describe_partition(std::int32_t partition) {
  if (partition == RD_KAFKA_PARTITION_UA)
    return "an unassigned partition (the brokers gave no metadata for the topic)";
  return fmt::format("partition {}", partition);
}

}  // namespace

struct BatchProducer::Impl {
  std::string bootstrap;
  std::string topic_name;
  std::map<std::string, std::string> properties;
  bool transactional = false;
  std::chrono::milliseconds delivery_timeout{0};

  UniqueHandle producer;
  std::unique_ptr<rd_kafka_topic_t, TopicDeleter> topic;
  bool initialised = false;
  bool tail_read = false;
  std::optional<std::int64_t> last_committed;
  bool in_transaction = false;

  // The current batch: its time as the rill.batch header's value, and its failures (delivery
  // reports come on the threads serving rd_kafka_poll / rd_kafka_flush).
  Time batch{0};
  std::array<char, 24> header{};
  std::size_t header_size = 0;
  std::atomic<std::int64_t> failed{0};
  std::mutex mutex;  // guards the fields below
  rd_kafka_resp_err_t first_error = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::int32_t first_partition = RD_KAFKA_PARTITION_UA;
  std::string last_client_error;

  static void on_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* m, void* opaque) {
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    auto* self = static_cast<Impl*>(opaque);
    std::lock_guard lock(self->mutex);
    if (self->failed.fetch_add(1) == 0) {
      self->first_error = m->err;
      self->first_partition = m->partition;
    }
  }

  static void on_error(rd_kafka_t* /*rk*/, int err, const char* reason, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    rill::detail::logger().warn("{} to topic '{}': {}: {}", kWhat, self->topic_name,
                                rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), reason);
    std::lock_guard lock(self->mutex);
    self->last_client_error = reason;
  }

  [[nodiscard]] std::string client_error_note() {
    std::lock_guard lock(mutex);
    if (last_client_error.empty()) return {};
    return fmt::format(" (last client error: {})", last_client_error);
  }

  [[noreturn]] void fail_with(const std::string& message) {
    throw IoError(fmt::format("{}: batch {} ms to topic '{}': {}", kWhat, batch.milliseconds(),
                              topic_name, message));
  }

  // Throws IoError for a failed transactional call; aborts the transaction when Kafka asks to.
  void check(rd_kafka_error_t* raw, std::string_view call) {
    UniqueError error{raw};
    if (!error) return;
    rd_kafka_poll(producer.get(), 0);  // serves the client errors queued meanwhile
    const std::string reason =
        rd_kafka_error_code(error.get()) == RD_KAFKA_RESP_ERR__TIMED_OUT
            ? fmt::format(
                  "the brokers did not answer: timed out after {} ms (the sink's "
                  "message.timeout.ms)",
                  delivery_timeout.count())
            : std::string(rd_kafka_error_string(error.get()));
    if (in_transaction && rd_kafka_error_txn_requires_abort(error.get())) abort_transaction();
    fail_with(fmt::format("{} failed: {}{}{}", call, reason,
                          rd_kafka_error_is_fatal(error.get()) ? " (fatal for this producer)" : "",
                          client_error_note()));
  }

  void abort_transaction() noexcept {
    in_transaction = false;
    UniqueError error{
        rd_kafka_abort_transaction(producer.get(), static_cast<int>(delivery_timeout.count()))};
    if (error) {
      rill::detail::logger().error("{}: cannot abort the transaction of batch {} ms to '{}': {}",
                                   kWhat, batch.milliseconds(), topic_name,
                                   rd_kafka_error_string(error.get()));
    }
  }

  void initialise() {
    if (transactional) {
      check(rd_kafka_init_transactions(producer.get(), static_cast<int>(delivery_timeout.count())),
            "init_transactions");
    }
    initialised = true;
  }
};

BatchProducer::BatchProducer(const SinkOptions& options) : impl_{std::make_unique<Impl>()} {
  if (options.bootstrap_servers.empty())
    throw InvalidArgument(fmt::format("{}: SinkOptions::bootstrap_servers is empty", kWhat));
  if (options.topic.empty())
    throw InvalidArgument(fmt::format("{}: SinkOptions::topic is empty", kWhat));
  for (const char* name : {"bootstrap.servers", "transactional.id"}) {
    if (options.properties.contains(name))
      throw InvalidArgument(fmt::format(
          "{}: set '{}' with the SinkOptions field, not in SinkOptions::properties", kWhat, name));
  }
  if (const auto it = options.properties.find("enable.idempotence");
      it != options.properties.end() && it->second != "true") {
    throw InvalidArgument(fmt::format(
        "{}: the sink's producer is idempotent: remove 'enable.idempotence' = '{}' from "
        "SinkOptions::properties",
        kWhat, it->second));
  }
  Impl& s = *impl_;
  s.bootstrap = options.bootstrap_servers;
  s.topic_name = options.topic;
  s.properties = options.properties;
  s.transactional = !options.transactional_id.empty();

  std::map<std::string, std::string> defaults{
      {"enable.idempotence", "true"},
      {"message.timeout.ms", std::string(kDefaultDeliveryTimeoutMs)}};
  if (s.transactional) defaults.emplace("transactional.id", options.transactional_id);
  UniqueConf conf = make_conf(kWhat, options.bootstrap_servers, defaults, options.properties);
  std::array<char, 32> timeout{};
  std::size_t size = timeout.size();
  if (rd_kafka_conf_get(conf.get(), "message.timeout.ms", timeout.data(), &size) !=
      RD_KAFKA_CONF_OK)
    throw InvalidArgument(fmt::format("{}: cannot read message.timeout.ms back", kWhat));
  // size counts the terminating NUL.
  std::int64_t ms = 0;
  const char* digits_end = timeout.data() + (size > 0 ? size - 1 : 0);
  if (std::from_chars(timeout.data(), digits_end, ms).ec != std::errc{} || ms <= 0)
    throw InvalidArgument(fmt::format("{}: message.timeout.ms '{}' is not a positive number of ms",
                                      kWhat, timeout.data()));
  s.delivery_timeout = std::chrono::milliseconds{ms};

  rd_kafka_conf_set_opaque(conf.get(), &s);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &Impl::on_delivery);
  rd_kafka_conf_set_error_cb(conf.get(), &Impl::on_error);
  route_logs_to_rill(conf.get());
  s.producer = make_client(kWhat, RD_KAFKA_PRODUCER, std::move(conf));
  s.topic.reset(rd_kafka_topic_new(s.producer.get(), s.topic_name.c_str(), nullptr));
  if (!s.topic)
    throw InvalidArgument(fmt::format("{}: librdkafka refused topic '{}': {}", kWhat, s.topic_name,
                                      rd_kafka_err2str(rd_kafka_last_error())));
}

BatchProducer::~BatchProducer() {
  if (!impl_) return;
  if (impl_->in_transaction) impl_->abort_transaction();
  impl_->topic.reset();
  impl_->producer.reset();
}

bool BatchProducer::transactional() const noexcept {
  return impl_->transactional;
}

bool BatchProducer::begin(Time t, bool replaying) {
  Impl& s = *impl_;
  s.batch = t;
  if (!s.initialised) s.initialise();
  if (s.transactional && replaying) {
    if (!s.tail_read) {
      // After init_transactions: the previous producer's open transaction is aborted, so the
      // topic's committed end is final.
      s.last_committed =
          last_committed_batch(kWhat, s.bootstrap, s.topic_name, s.properties, s.delivery_timeout);
      s.tail_read = true;
      if (s.last_committed) {
        rill::detail::logger().info(
            "{}: topic '{}' holds batches up to {} ms committed: replayed batches up to it are "
            "skipped",
            kWhat, s.topic_name, *s.last_committed);
      }
    }
    if (s.last_committed && t.milliseconds() <= *s.last_committed) {
      rill::detail::logger().info("{}: batch {} ms is committed in topic '{}': not written again",
                                  kWhat, t.milliseconds(), s.topic_name);
      return false;
    }
  }
  const auto written =
      std::to_chars(s.header.data(), s.header.data() + s.header.size(), t.milliseconds());
  s.header_size = static_cast<std::size_t>(written.ptr - s.header.data());
  s.failed.store(0);
  {
    // Client errors are served by this batch's polls only, so those queued since the last
    // batch are seen again.
    std::lock_guard lock(s.mutex);
    s.first_error = RD_KAFKA_RESP_ERR_NO_ERROR;
    s.first_partition = RD_KAFKA_PARTITION_UA;
    s.last_client_error.clear();
  }
  if (s.transactional) {
    s.check(rd_kafka_begin_transaction(s.producer.get()), "begin_transaction");
    s.in_transaction = true;
  }
  return true;
}

void BatchProducer::send(const ProducerRecord& record) {
  Impl& s = *impl_;
  rd_kafka_headers_t* headers = rd_kafka_headers_new(record.headers.size() + 1);
  for (const auto& [name, value] : record.headers)
    rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                        static_cast<ssize_t>(value.size()));
  rd_kafka_header_add(headers, kBatchHeader.data(), static_cast<ssize_t>(kBatchHeader.size()),
                      s.header.data(), static_cast<ssize_t>(s.header_size));
  // The RD_KAFKA_V_* macros cast their arguments unparenthesized: pass plain variables.
  rd_kafka_t* rk = s.producer.get();
  rd_kafka_topic_t* rkt = s.topic.get();
  const std::int32_t partition = record.partition.value_or(RD_KAFKA_PARTITION_UA);
  void* value = const_cast<char*>(record.value.data());
  const std::size_t value_size = record.value.size();
  const void* key = record.key ? record.key->data() : nullptr;
  const std::size_t key_size = record.key ? record.key->size() : 0;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (;;) {
    err = rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(partition),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_VALUE(value, value_size), RD_KAFKA_V_KEY(key, key_size),
                            RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
    rd_kafka_poll(rk, 10);  // librdkafka's queue is full: serve delivery reports, then retry
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_headers_destroy(headers);  // taken over only on success
    s.fail_with(fmt::format("cannot produce a record to {}: {}", describe_partition(partition),
                            rd_kafka_err2str(err)));
  }
}

void BatchProducer::commit() {
  Impl& s = *impl_;
  const auto wait = s.delivery_timeout + kReportMargin;
  if (rd_kafka_flush(s.producer.get(), static_cast<int>(wait.count())) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (s.in_transaction) s.abort_transaction();
    s.fail_with(fmt::format("records not acknowledged within {} ms{}", wait.count(),
                            s.client_error_note()));
  }
  if (const std::int64_t failed = s.failed.load(); failed > 0) {
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    std::int32_t partition = RD_KAFKA_PARTITION_UA;
    {
      std::lock_guard lock(s.mutex);
      err = s.first_error;
      partition = s.first_partition;
    }
    if (s.in_transaction) s.abort_transaction();
    const std::string note =
        err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT ? s.client_error_note() : std::string{};
    s.fail_with(fmt::format("{} record(s) failed, the first on {}: {} ({}){}", failed,
                            describe_partition(partition), rd_kafka_err2str(err),
                            rd_kafka_err2name(err), note));
  }
  if (s.in_transaction) {
    s.check(
        rd_kafka_commit_transaction(s.producer.get(), static_cast<int>(s.delivery_timeout.count())),
        "commit_transaction");
    s.in_transaction = false;
  }
}

void BatchProducer::abandon() noexcept {
  Impl& s = *impl_;
  if (s.in_transaction) {
    s.abort_transaction();  // purges what is queued
    return;
  }
  rd_kafka_purge(s.producer.get(), RD_KAFKA_PURGE_F_QUEUE);
  rd_kafka_poll(s.producer.get(), 0);
}

}  // namespace rill::kafka::detail
