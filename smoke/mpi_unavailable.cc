// Stand-ins when the build found no MPI (or LAYERPLAN_MPI=OFF).
#include "smoke/mpi_backend.h"

namespace layerplan::smoke {
namespace {
constexpr const char* kWhy =
    "this layerplan was built without MPI (MPI not found, or LAYERPLAN_MPI=OFF): the mpi backend "
    "and launching under mpirun/srun are not available; rebuild with MPI installed";
}  // namespace

bool mpi_built() { return false; }
std::string mpi_library_name() { return kWhy; }
std::variant<std::unique_ptr<Coordinator>, std::string> start_mpi() { return std::string(kWhy); }
int mpi_node_rank(Coordinator&) { return 0; }
std::variant<std::unique_ptr<Transport>, Failure> make_mpi_transport(Coordinator&, double) {
  return Failure{2, kWhy, false};
}

}  // namespace layerplan::smoke
