// How this process was launched: alone, or as one rank of an MPI job (mpirun, srun), read from
// the launcher's environment variables.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace layerplan::smoke {

struct LauncherEnv {
  bool present = false;  // launched by an MPI launcher with more than one rank
  std::string source;    // the variable that told us, e.g. "OMPI_COMM_WORLD_SIZE"
  int size = 1;
  int rank = 0;
  int local_rank = -1;  // -1 when the launcher does not say
};

using EnvLookup = std::function<std::optional<std::string>(const char* name)>;

// Open MPI (OMPI_COMM_WORLD_*), MPICH/Hydra and Intel MPI (PMI_SIZE, PMI_RANK, MPI_LOCALRANKID),
// Slurm steps (SLURM_STEP_NUM_TASKS, SLURM_PROCID, SLURM_LOCALID), MVAPICH (MV2_COMM_WORLD_*).
[[nodiscard]] LauncherEnv detect_launcher(const EnvLookup& env);

// The process environment.
[[nodiscard]] EnvLookup process_env();

// The command line that would launch `world_size` ranks, for messages.
[[nodiscard]] std::string launch_hint(int world_size, const std::string& backend);

}  // namespace layerplan::smoke
