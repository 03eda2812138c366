#pragma once

/// rill's test harness: a context on a manual clock, driven batch by batch.

#include "rill/rill.hpp"
#include "rill/testing/harness.hpp"
