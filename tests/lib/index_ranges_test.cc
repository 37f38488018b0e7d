// lib/index_ranges.h: layer indices as short text ("0-3,5,8-20 step 2").
#include "lib/index_ranges.h"

#include <string>
#include <vector>

#include "catch.h"

namespace layerplan {
namespace {

TEST_CASE("index_ranges: single indices, consecutive runs and stepped runs") {
  CHECK(index_ranges({}).empty());
  CHECK(index_ranges({7}) == "7");
  CHECK(index_ranges({1, 2}) == "1-2");
  CHECK(index_ranges({1, 3}) == "1,3");  // two indices are not a stepped run
  CHECK(index_ranges({0, 4, 8, 12}) == "0-12 step 4");
  CHECK(index_ranges({1, 3, 5}) == "1-5 step 2");
  // The header's own example.
  CHECK(index_ranges({0, 1, 2, 3, 5, 8, 10, 12, 14, 16, 18, 20}) == "0-3,5,8-20 step 2");
}

TEST_CASE("index_ranges leaves the start of a consecutive run to that run") {
  // 0,2,4,6 would be a stepped run, but 6 starts the run 6-8.
  CHECK(index_ranges({0, 2, 4, 6, 7, 8}) == "0-4 step 2,6-8");
}

}  // namespace
}  // namespace layerplan
