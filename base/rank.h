// How this process was launched: alone, or as one rank of an MPI job (mpirun, srun), read from
// the launcher's environment variables; and whether it is the first rank, the one that speaks
// for all. The one copy `layerplan smoke` (cli/) and the smoke run (smoke/) both use.
// Header-only (base/): the standard library, nothing else.
#pragma once

#include <array>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace layerplan {

struct LauncherEnv {
  bool present = false;  // launched by an MPI launcher with more than one rank
  std::string source;    // the variable that told us, e.g. "OMPI_COMM_WORLD_SIZE"
  int size = 1;
  int rank = 0;
  int local_rank = -1;  // -1 when the launcher does not say
};

using EnvLookup = std::function<std::optional<std::string>(const char* name)>;

namespace base_rank_detail {

inline std::optional<int> env_number(const EnvLookup& env, const char* name) {
  auto v = env(name);
  if (!v || v->empty()) return std::nullopt;
  try {
    std::size_t used = 0;
    const int n = std::stoi(*v, &used);
    if (used != v->size()) return std::nullopt;
    return n;
  } catch (...) {
    return std::nullopt;
  }
}

struct LauncherVars {
  const char* size;
  const char* rank;
  const char* local_rank;
};

inline constexpr std::array<LauncherVars, 4> kLauncherVars{{
    {"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_RANK"},
    {"PMI_SIZE", "PMI_RANK", "MPI_LOCALRANKID"},
    {"MV2_COMM_WORLD_SIZE", "MV2_COMM_WORLD_RANK", "MV2_COMM_WORLD_LOCAL_RANK"},
    {"SLURM_STEP_NUM_TASKS", "SLURM_PROCID", "SLURM_LOCALID"},
}};

}  // namespace base_rank_detail

// Open MPI (OMPI_COMM_WORLD_*), MPICH/Hydra and Intel MPI (PMI_SIZE, PMI_RANK, MPI_LOCALRANKID),
// Slurm steps (SLURM_STEP_NUM_TASKS, SLURM_PROCID, SLURM_LOCALID), MVAPICH (MV2_COMM_WORLD_*).
// The first launcher whose size variable is set decides; a size of one is no MPI job.
[[nodiscard]] inline LauncherEnv detect_launcher(const EnvLookup& env) {
  using base_rank_detail::env_number;
  for (const auto& vars : base_rank_detail::kLauncherVars) {
    auto size = env_number(env, vars.size);
    if (!size) continue;
    LauncherEnv out;
    out.source = vars.size;
    out.size = *size;
    out.rank = env_number(env, vars.rank).value_or(0);
    out.local_rank = env_number(env, vars.local_rank).value_or(-1);
    if (out.local_rank < 0 && std::string_view(vars.size) == "PMI_SIZE") {
      out.local_rank = env_number(env, "PMI_LOCAL_RANK").value_or(-1);
    }
    out.present = out.size > 1;
    return out;
  }
  return {};
}

// Whether this process is the first rank (or runs alone): the launcher's rank when a launcher
// is detected, else PMIx's PMIX_RANK (set without a size variable by some PMIx launchers).
[[nodiscard]] inline bool is_first_rank(const EnvLookup& env) {
  LauncherEnv launcher = detect_launcher(env);
  if (!launcher.source.empty()) return launcher.rank == 0;
  return base_rank_detail::env_number(env, "PMIX_RANK").value_or(0) == 0;
}

// The process environment.
[[nodiscard]] inline EnvLookup process_env() {
  return [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

}  // namespace layerplan
