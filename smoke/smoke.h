// `layerplan smoke`: turns a compiled plan's rank groups into communicators on real GPUs (NCCL)
// or CPU ranks (MPI), proves every group's membership and order by collectives, and times the
// collectives each layer issues at its real message sizes.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/exit_codes.h"

namespace layerplan::smoke {

struct SmokeOptions {
  std::string backend = "nccl";  // "nccl" or "mpi"
  std::int64_t tokens = 256;     // message bytes = tokens * elements_per_token * dtype bytes
  std::string dtype;             // empty = manifest model.dtype; "bfloat16", "float16", "float32"
  double timeout_s = 60;         // watchdog, per collective batch
  std::optional<double> min_busbw_gbps;
  std::string json_path;  // empty = no JSON report; written atomically (tmp file + rename)
  int warmup = 5, iters = 20;
  // Beyond the CLI contract; the defaults keep the contract's behaviour.
  std::int64_t sweep_bytes = std::int64_t{64} << 20;  // standard all_reduce/all_gather size per set
  std::string manifest_label;  // shown in the report (e.g. the manifest's path)
  std::string inject_hang;     // testing only: rank 0 skips the first collective on this group set
  std::string inject_kill;     // testing only, SET:PROCESS: that process kills itself (SIGKILL)
                               // just before its first collective on the set
};

// Process exit codes of a smoke run: base/exit_codes.h (kExitOk, kExitUsage for usage, launch or
// a malformed manifest, kExitSmokeFailed, kExitSmokeError).

// Runs the smoke test of a compiled manifest. Prints the human report to `out` (from rank 0 only
// under MPI) and problems to `err`, and returns the exit code above. Group sets are visited in the
// manifest's key order.
[[nodiscard]] int run_smoke(const nlohmann::ordered_json& manifest, const SmokeOptions& options,
                            std::ostream& out, std::ostream& err);

// Same, for a manifest parsed into nlohmann::json, whose objects have lost their key order: group
// sets are then visited in vLLM's creation order (world, tp, dcp, attn_tp, pcp, pp, dp, ep, etp,
// tp_sub<k>, others by name). Parse with nlohmann::ordered_json to keep the manifest's order.
[[nodiscard]] int run_smoke(const nlohmann::json& manifest, const SmokeOptions& options,
                            std::ostream& out, std::ostream& err);

// One line naming what this build of the smoke run supports, e.g.
// "backends: nccl (dlopen libcudart, libnccl.so.2), mpi (Open MPI)".
[[nodiscard]] std::string smoke_features();

}  // namespace layerplan::smoke
