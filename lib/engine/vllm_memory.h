// vLLM's memory per rank: what each layer's modules allocate under a plan (weights, scales,
// KV cache per token, recurrent state per sequence), and how vLLM sizes its KV cache from what
// is left of the GPU. docs/memory.md gives every formula with the vLLM function it follows.
#pragma once

#include <vector>

#include "lib/diagnostics.h"
#include "lib/hf_config.h"
#include "lib/memory.h"
#include "lib/model.h"
#include "lib/resolver.h"

namespace layerplan {

[[nodiscard]] MemoryPlan vllm_memory(const HfConfig& config, const Model& model,
                                     const std::vector<LayerPlan>& plans, const AxisValues& axes,
                                     Diagnostics& diags);

// vllm/v1/worker/gpu_worker.py::determine_available_memory and
// vllm/v1/core/kv_cache_utils.py::get_kv_cache_config_from_groups / estimate_max_model_len.
[[nodiscard]] FitResult vllm_fit(const MemoryPlan& memory, const Model& model,
                                 const std::vector<LayerPlan>& plans, const AxisValues& axes,
                                 const FitRequest& request);

}  // namespace layerplan
