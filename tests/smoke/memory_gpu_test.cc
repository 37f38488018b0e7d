// smoke --memory on a GPU: one rank of Llama-3.1-8B at tp 2, pp 2 (about 4 GiB of weights)
// is allocated, the drop of free memory is at least the prediction and at most the prediction plus
// the allocator's 2 MiB granularity per buffer, and a KV cache of at least one block fits.
// Exits 77 (CTest SKIP_RETURN_CODE) with the reason where no GPU or CUDA runtime is found.
#include <fstream>
#include <iostream>

#include "smoke/gpu_backend.h"
#include "smoke/memory_probe.h"

int main() {
  using namespace layerplan::smoke;
  if (!nccl_backend_built()) {
    std::cout << "SKIP: this build has no CUDA runtime (no CUDA/NCCL headers)\n";
    return 77;
  }
  const auto gpus = visible_gpus();
  if (const auto* why = std::get_if<std::string>(&gpus)) {
    std::cout << "SKIP: no GPU for smoke --memory: " << *why << "\n";
    return 77;
  }
  std::ifstream f(std::string(LAYERPLAN_SOURCE_DIR) + "/fixtures/golden/llama8b_tp2_pp2.json");
  auto manifest = nlohmann::ordered_json::parse(f);
  auto planned = memory_probe_plan(manifest, 0);
  if (const auto* why = std::get_if<std::string>(&planned)) {
    std::cout << "FAILED: " << *why << "\n";
    return 1;
  }
  const auto& plan = std::get<MemoryProbePlan>(planned);
  auto result = probe_memory(plan, 0);
  if (const auto* why = std::get_if<std::string>(&result)) {
    std::cout << "FAILED: " << *why << "\n";
    return 1;
  }
  const auto& r = std::get<MemoryProbeResult>(result);
  std::cout << render_memory_probe(plan, r);
  const std::int64_t slack =
      static_cast<std::int64_t>(plan.weights.size()) * (std::int64_t{2} << 20);
  bool ok = r.allocated_weight_bytes >= plan.predicted_weight_bytes &&
            r.allocated_weight_bytes <= plan.predicted_weight_bytes + slack && r.kv_blocks > 0;
  std::cout << (ok ? "OK"
                   : "FAILED: allocated bytes outside [predicted, predicted + 2 MiB per buffer]")
            << "\n";
  return ok ? 0 : 1;
}
