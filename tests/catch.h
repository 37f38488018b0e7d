// One include for the test suite that works with Catch2 v2 (single header, Debian 12)
// and Catch2 v3 (split headers, newer distributions).
#pragma once

#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_test_macros.hpp>
#define LAYERPLAN_CATCH3 1
#else
#include <catch2/catch.hpp>
#define LAYERPLAN_CATCH3 0
#endif
