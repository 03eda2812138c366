#pragma once
/// @file
/// rill's ZeroMQ connector (component `rill::zmq`, libzmq through cppzmq): link `rill::zmq`
/// after `find_package(rill CONFIG REQUIRED COMPONENTS zmq)`. docs/zmq.md describes it.

#include <rill/zmq/options.hpp>
#include <rill/zmq/stream.hpp>
