#pragma once

/// rill: micro-batch stream processing in the style of Spark Streaming's DStreams.
/// Include this header for everything an application needs.

#include "rill/core/batch.hpp"
#include "rill/core/clock.hpp"
#include "rill/core/concepts.hpp"
#include "rill/core/config.hpp"
#include "rill/core/errors.hpp"
#include "rill/core/format.hpp"
#include "rill/core/listener.hpp"
#include "rill/core/logging.hpp"
#include "rill/core/time.hpp"
#include "rill/core/trigger.hpp"
#include "rill/core/words.hpp"
#include "rill/dstream.hpp"
#include "rill/dstream/aggregators.hpp"
#include "rill/dstream/state.hpp"
#include "rill/dstream/time_window.hpp"
#include "rill/dstream/window_spec.hpp"
#include "rill/sinks/sink.hpp"
#include "rill/sources/options.hpp"
#include "rill/sources/receiver.hpp"
#include "rill/sources/source.hpp"
#include "rill/static_table.hpp"
#include "rill/streaming_context.hpp"
#include "rill/version.hpp"
