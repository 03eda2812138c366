#include "kafka/client_log.hpp"

#include <rill/core/logging.hpp>

#include <string_view>

namespace rill::kafka::detail {
namespace {

spdlog::level::level_enum level_of(int syslog_level) {
  if (syslog_level <= 3) return spdlog::level::err;
  if (syslog_level == 4) return spdlog::level::warn;
  if (syslog_level <= 6) return spdlog::level::info;
  return spdlog::level::debug;
}

void on_log(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  rill::detail::logger().log(level_of(level), "librdkafka {} {}: {}", rd_kafka_name(rk), facility,
                             message);
}

void on_log_quiet_config(const rd_kafka_t* rk, int level, const char* facility,
                         const char* message) {
  const auto to = std::string_view{facility} == "CONFWARN" ? spdlog::level::debug : level_of(level);
  rill::detail::logger().log(to, "librdkafka {} {}: {}", rd_kafka_name(rk), facility, message);
}

}  // namespace

void route_logs_to_rill(rd_kafka_conf_t* conf, bool quiet_config_warnings) {
  rd_kafka_conf_set_log_cb(conf, quiet_config_warnings ? &on_log_quiet_config : &on_log);
}

}  // namespace rill::kafka::detail
