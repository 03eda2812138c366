#include "kafka/client_config.hpp"

#include <rill/core/errors.hpp>

#include <fmt/format.h>

#include <array>

namespace rill::kafka::detail {

void set_property(rd_kafka_conf_t* conf, std::string_view what, const std::string& name,
                  const std::string& value) {
  std::array<char, 512> reason{};
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), reason.data(), reason.size()) !=
      RD_KAFKA_CONF_OK) {
    throw InvalidArgument(fmt::format("{}: Kafka property '{}' = '{}' refused: {}", what, name,
                                      value, reason.data()));
  }
}

UniqueConf make_conf(std::string_view what, const std::string& bootstrap_servers,
                     const std::map<std::string, std::string>& defaults,
                     const std::map<std::string, std::string>& properties) {
  UniqueConf conf{rd_kafka_conf_new()};
  if (!bootstrap_servers.empty())
    set_property(conf.get(), what, "bootstrap.servers", bootstrap_servers);
  for (const auto& [name, value] : defaults)
    set_property(conf.get(), what, name, value);
  for (const auto& [name, value] : properties)
    set_property(conf.get(), what, name, value);
  return conf;
}

UniqueHandle make_client(std::string_view what, rd_kafka_type_t type, UniqueConf conf) {
  std::array<char, 512> reason{};
  // rd_kafka_new takes the configuration over only when it succeeds.
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), reason.data(), reason.size());
  if (rk == nullptr)
    throw InvalidArgument(
        fmt::format("{}: librdkafka refused the configuration: {}", what, reason.data()));
  static_cast<void>(conf.release());
  return UniqueHandle{rk};
}

}  // namespace rill::kafka::detail
