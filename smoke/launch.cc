#include "smoke/launch.h"

namespace layerplan::smoke {

std::string launch_hint(int world_size, const std::string& backend) {
  return "mpirun -np " + std::to_string(world_size) +
         " layerplan smoke --manifest FILE --backend " + backend + " (or srun -n " +
         std::to_string(world_size) + " ...)";
}

}  // namespace layerplan::smoke
