#pragma once
/// @file
/// rill's operations server (component `rill::ops`, Boost.Beast): an embedded, read-only HTTP
/// server with Prometheus metrics, the progress records as JSON and a live status page. Link
/// `rill::ops` after `find_package(rill CONFIG REQUIRED COMPONENTS ops)`. docs/operations.md
/// describes it.

#include <rill/ops/metrics.hpp>
#include <rill/ops/server.hpp>
