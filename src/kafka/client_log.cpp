#include "kafka/client_log.hpp"

#include <rill/core/logging.hpp>

namespace rill::kafka::detail {
namespace {

void on_log(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  spdlog::level::level_enum to = spdlog::level::debug;
  if (level <= 3) {
    to = spdlog::level::err;
  } else if (level == 4) {
    to = spdlog::level::warn;
  } else if (level <= 6) {
    to = spdlog::level::info;
  }
  rill::detail::logger().log(to, "librdkafka {} {}: {}", rd_kafka_name(rk), facility, message);
}

}  // namespace

void route_logs_to_rill(rd_kafka_conf_t* conf) {
  rd_kafka_conf_set_log_cb(conf, &on_log);
}

}  // namespace rill::kafka::detail
