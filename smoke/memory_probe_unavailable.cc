// `smoke --memory` in a build without CUDA headers: says so (exit 4).
#include <ostream>

#include "smoke/memory_probe.h"

namespace layerplan::smoke {

std::variant<MemoryProbeResult, std::string> probe_memory(const MemoryProbePlan&, int) {
  return std::string(
      "this build has no CUDA runtime (cuda_runtime_api.h was not found when it was built)");
}

int run_memory_probe(const MemoryProbePlan&, int, std::ostream&, std::ostream& err) {
  err << "layerplan smoke --memory: error: this build has no CUDA runtime (cuda_runtime_api.h was "
         "not found when it was built)\n";
  return 4;
}

}  // namespace layerplan::smoke
