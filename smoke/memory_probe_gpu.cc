// The allocation half of `smoke --memory` (built with the NCCL backend's CUDA runtime).
#include <algorithm>
#include <ostream>

#include "smoke/cuda_api.h"
#include "smoke/memory_probe.h"

namespace layerplan::smoke {

std::variant<MemoryProbeResult, std::string> probe_memory(const MemoryProbePlan& plan, int device) {
  auto libs = load_gpu_libraries();
  if (auto* why = std::get_if<std::string>(&libs)) return *why;
  const CudaApi& cuda = std::get<GpuLibraries>(libs).cuda;
  auto fail = [&](const char* what, cudaError_t e) -> std::variant<MemoryProbeResult, std::string> {
    return std::string(what) + ": " + cuda.cudaGetErrorString(e);
  };
  if (cudaError_t e = cuda.cudaSetDevice(device); e != cudaSuccess) return fail("cudaSetDevice", e);
  std::size_t free_b = 0, total_b = 0;
  if (cudaError_t e = cuda.cudaMemGetInfo(&free_b, &total_b); e != cudaSuccess)
    return fail("cudaMemGetInfo", e);
  MemoryProbeResult r;
  r.free_before = static_cast<std::int64_t>(free_b);
  r.total = static_cast<std::int64_t>(total_b);
  std::vector<void*> weights;
  auto release = [&](std::vector<void*>& v) {
    for (void* p : v) (void)cuda.cudaFree(p);
    v.clear();
  };
  for (const auto& w : plan.weights) {
    void* p = nullptr;
    if (cudaError_t e = cuda.cudaMalloc(&p, static_cast<std::size_t>(w.bytes)); e != cudaSuccess) {
      std::string why = "the weights of " + w.prefix + " (" + std::to_string(w.bytes) +
                        " bytes) do not fit after " + std::to_string(weights.size()) +
                        " layers: " + cuda.cudaGetErrorString(e);
      release(weights);
      return why;
    }
    weights.push_back(p);
  }
  std::size_t free_after = 0;
  if (cudaError_t e = cuda.cudaMemGetInfo(&free_after, &total_b); e != cudaSuccess) {
    release(weights);
    return fail("cudaMemGetInfo", e);
  }
  r.allocated_weight_bytes =
      static_cast<std::int64_t>(free_b) - static_cast<std::int64_t>(free_after);
  // The largest block count whose per-layer KV tensors (vLLM allocates one per layer:
  // kv_cache_utils.py::get_kv_cache_config_from_groups) all fit: binary search.
  std::int64_t per_block = 0;
  for (auto b : plan.kv_bytes_per_token) per_block += b * plan.block_size;
  if (per_block > 0) {
    std::int64_t lo = 0, hi = static_cast<std::int64_t>(free_after) / per_block + 1;
    while (lo < hi) {
      std::int64_t mid = lo + (hi - lo + 1) / 2;
      std::vector<void*> kv;
      bool ok = true;
      for (auto b : plan.kv_bytes_per_token) {
        void* p = nullptr;
        if (cuda.cudaMalloc(&p, static_cast<std::size_t>(b * plan.block_size * mid)) !=
            cudaSuccess) {
          ok = false;
          break;
        }
        kv.push_back(p);
      }
      release(kv);
      if (ok)
        lo = mid;
      else
        hi = mid - 1;
    }
    r.kv_blocks = lo;
    r.kv_allocated_bytes = lo * per_block;
  }
  release(weights);
  return r;
}

int run_memory_probe(const MemoryProbePlan& plan, int device, std::ostream& out,
                     std::ostream& err) {
  auto r = probe_memory(plan, device);
  if (auto* why = std::get_if<std::string>(&r)) {
    err << "layerplan smoke --memory: error: " << *why << "\n";
    return 4;
  }
  out << render_memory_probe(plan, std::get<MemoryProbeResult>(r));
  return 0;
}

}  // namespace layerplan::smoke
