#include "smoke/launch.h"

#include "catch.h"

namespace layerplan::smoke {
namespace {

TEST_CASE("launch_hint says how many ranks to start", "[smoke]") {
  CHECK(launch_hint(8, "nccl") ==
        "mpirun -np 8 layerplan smoke --manifest FILE --backend nccl (or srun -n 8 ...)");
}

}  // namespace
}  // namespace layerplan::smoke
