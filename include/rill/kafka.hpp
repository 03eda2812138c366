#pragma once
/// @file
/// rill's Kafka connector (component `rill::kafka`, librdkafka): link `rill::kafka` after
/// `find_package(rill CONFIG REQUIRED COMPONENTS kafka)`. docs/kafka.md describes it.

#include <rill/kafka/direct_stream.hpp>
#include <rill/kafka/mock_cluster.hpp>
#include <rill/kafka/record.hpp>
#include <rill/kafka/sink_options.hpp>
#include <rill/kafka/source_options.hpp>
#include <rill/kafka/write.hpp>
