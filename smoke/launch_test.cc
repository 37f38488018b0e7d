#include "smoke/launch.h"

#include <map>

#include "catch.h"

namespace layerplan::smoke {
namespace {

EnvLookup env(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST_CASE("detect_launcher reads Open MPI, PMI and Slurm variables", "[smoke]") {
  CHECK_FALSE(detect_launcher(env({})).present);
  auto ompi = detect_launcher(env({{"OMPI_COMM_WORLD_SIZE", "4"},
                                   {"OMPI_COMM_WORLD_RANK", "2"},
                                   {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}}));
  CHECK(ompi.present);
  CHECK(ompi.size == 4);
  CHECK(ompi.rank == 2);
  CHECK(ompi.local_rank == 1);
  CHECK(ompi.source == "OMPI_COMM_WORLD_SIZE");
  auto pmi = detect_launcher(env({{"PMI_SIZE", "8"}, {"PMI_RANK", "7"}}));
  CHECK(pmi.present);
  CHECK(pmi.local_rank == -1);
  auto slurm = detect_launcher(
      env({{"SLURM_STEP_NUM_TASKS", "2"}, {"SLURM_PROCID", "1"}, {"SLURM_LOCALID", "0"}}));
  CHECK(slurm.present);
  CHECK(slurm.rank == 1);
  CHECK(slurm.local_rank == 0);
  // One rank is not an MPI job; a garbled size is ignored.
  CHECK_FALSE(detect_launcher(env({{"OMPI_COMM_WORLD_SIZE", "1"}})).present);
  CHECK_FALSE(detect_launcher(env({{"OMPI_COMM_WORLD_SIZE", "4x"}})).present);
  // An sbatch shell without srun sets SLURM_NTASKS but no step variables.
  CHECK_FALSE(detect_launcher(env({{"SLURM_NTASKS", "8"}, {"SLURM_PROCID", "0"}})).present);
}

TEST_CASE("launch_hint says how many ranks to start", "[smoke]") {
  CHECK(launch_hint(8, "nccl") ==
        "mpirun -np 8 layerplan smoke --manifest FILE --backend nccl (or srun -n 8 ...)");
}

}  // namespace
}  // namespace layerplan::smoke
