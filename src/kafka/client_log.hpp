#pragma once
// librdkafka's log lines and client errors through rill's logger (rill never prints to stderr
// itself). Private to the kafka component.

#include <librdkafka/rdkafka.h>

namespace rill::kafka::detail {

// Sends `conf`'s client's log lines to rill's logger (`rill`), at the matching spdlog level:
// syslog levels 0-3 error, 4 warn, 5-6 info, 7 debug. Called on librdkafka's threads.
// `quiet_config_warnings`: librdkafka's warnings about properties this kind of client ignores
// (CONFWARN: a producer property given to a consumer) go to debug instead, for a client built
// from properties meant for another kind.
void route_logs_to_rill(rd_kafka_conf_t* conf, bool quiet_config_warnings = false);

}  // namespace rill::kafka::detail
