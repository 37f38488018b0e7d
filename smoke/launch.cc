#include "smoke/launch.h"

#include <array>
#include <cstdlib>

namespace layerplan::smoke {
namespace {

std::optional<int> number(const EnvLookup& env, const char* name) {
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

struct Source {
  const char* size;
  const char* rank;
  const char* local_rank;
};

constexpr std::array<Source, 4> kSources{{
    {"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_RANK"},
    {"PMI_SIZE", "PMI_RANK", "MPI_LOCALRANKID"},
    {"MV2_COMM_WORLD_SIZE", "MV2_COMM_WORLD_RANK", "MV2_COMM_WORLD_LOCAL_RANK"},
    {"SLURM_STEP_NUM_TASKS", "SLURM_PROCID", "SLURM_LOCALID"},
}};

}  // namespace

LauncherEnv detect_launcher(const EnvLookup& env) {
  for (const Source& s : kSources) {
    auto size = number(env, s.size);
    if (!size) continue;
    LauncherEnv out;
    out.source = s.size;
    out.size = *size;
    out.rank = number(env, s.rank).value_or(0);
    out.local_rank = number(env, s.local_rank).value_or(-1);
    if (out.local_rank < 0 && std::string(s.size) == "PMI_SIZE") {
      out.local_rank = number(env, "PMI_LOCAL_RANK").value_or(-1);
    }
    out.present = out.size > 1;
    return out;
  }
  return {};
}

EnvLookup process_env() {
  return [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::string launch_hint(int world_size, const std::string& backend) {
  return "mpirun -np " + std::to_string(world_size) +
         " layerplan smoke --manifest FILE --backend " + backend + " (or srun -n " +
         std::to_string(world_size) + " ...)";
}

}  // namespace layerplan::smoke
