// `layerplan smoke --memory`: allocates one rank's weights and KV-cache blocks on its GPU with
// the sizes the manifest's memory block gives, and reports predicted against allocated bytes and
// the largest KV cache that fits. The plan of allocations is pure (tested without a GPU); the
// allocation itself needs the NCCL backend's CUDA runtime (memory_probe_gpu.cc).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

namespace layerplan::smoke {

struct ProbeAllocation {
  std::string prefix;
  std::int64_t bytes = 0;
};

struct MemoryProbePlan {
  int rank = 0;
  int stage = 0;
  std::vector<ProbeAllocation> weights;  // one buffer per layer of the rank's stage
  std::vector<std::int64_t>
      kv_bytes_per_token;                   // per attention layer (and indexer), per cached token
  std::int64_t predicted_weight_bytes = 0;  // the manifest's memory.stages[stage].weight_bytes
  std::int64_t block_size = 16;
  std::int64_t kv_token_share = 1;        // DCP
  std::int64_t predicted_kv_tokens = -1;  // memory.fit.stages[stage].kv_tokens; -1 without a fit
};

// The allocations of global rank `rank` (its pipeline stage from the axes and vLLM's layout
// r = ((d*pp + p)*pcp + c)*tp + t). An error message when the manifest has no memory block, the
// rank is out of range, or a field is malformed.
[[nodiscard]] std::variant<MemoryProbePlan, std::string> memory_probe_plan(
    const nlohmann::ordered_json& manifest, int rank);

struct MemoryProbeResult {
  std::int64_t free_before = 0, total = 0;
  std::int64_t allocated_weight_bytes = 0;  // drop of free memory after the weight buffers
  std::int64_t kv_blocks = 0;               // largest block count whose per-layer tensors all fit
  std::int64_t kv_allocated_bytes = 0;
};

// Renders the comparison (nccl-tests style: a self-describing table, then a verdict line).
[[nodiscard]] std::string render_memory_probe(const MemoryProbePlan& plan,
                                              const MemoryProbeResult& result);

// Allocates the plan on CUDA device `device` (and frees it again), or says why it could not.
[[nodiscard]] std::variant<MemoryProbeResult, std::string> probe_memory(const MemoryProbePlan& plan,
                                                                        int device);

// Runs it on CUDA device `device`: exit 0 when the weights were allocated (the comparison is a
// report, not a gate), 4 on a CUDA error or when no GPU/runtime is found (the message says why).
[[nodiscard]] int run_memory_probe(const MemoryProbePlan& plan, int device, std::ostream& out,
                                   std::ostream& err);

}  // namespace layerplan::smoke
