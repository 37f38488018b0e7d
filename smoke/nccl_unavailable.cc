// Stand-ins for the NCCL backend when the build found no cuda_runtime_api.h / nccl.h.
#include "smoke/gpu_backend.h"

namespace layerplan::smoke {
namespace {
constexpr const char* kWhy =
    "this layerplan was built without the NCCL backend (CUDA or NCCL headers not found, or "
    "LAYERPLAN_NCCL=OFF); rebuild with -DLAYERPLAN_NCCL=ON on a machine with CUDA and NCCL, or use "
    "--backend mpi";
}  // namespace

bool nccl_backend_built() { return false; }

std::variant<int, std::string> visible_gpus() { return std::string(kWhy); }

std::variant<std::unique_ptr<Transport>, Failure> make_nccl_transport(const std::vector<int>&,
                                                                      const std::vector<int>&, int,
                                                                      Coordinator&, double) {
  return Failure{4, kWhy, false};
}

}  // namespace layerplan::smoke
