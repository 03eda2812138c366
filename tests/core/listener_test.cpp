#include <gtest/gtest.h>
#include <rill/testing.hpp>
