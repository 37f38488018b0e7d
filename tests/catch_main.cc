// Test runner entry point for Catch2 v2; Catch2 v3 links its own main.
#if !__has_include(<catch2/catch_test_macros.hpp>)
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#endif
