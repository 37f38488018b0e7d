// The manifest's memory block (docs/manifest.md, "Memory"): kept apart from lib/manifest.cc.
#pragma once

#include <nlohmann/json.hpp>

#include "lib/memory.h"

namespace layerplan {

[[nodiscard]] nlohmann::ordered_json layer_memory_json(const LayerMemory& memory);
// The top-level "memory" object: dtypes, quantization, parameter counts, per-stage totals of the
// heaviest rank, and the fit on a GPU when one was asked for.
[[nodiscard]] nlohmann::ordered_json memory_json(const MemoryPlan& memory, const FitResult* fit,
                                                 const FitRequest* request);
// Adds "memory" to every layer of a manifest (in plan order) and the top-level block after
// "pipeline".
void add_memory(nlohmann::ordered_json& manifest, const MemoryPlan& memory, const FitResult* fit,
                const FitRequest* request);

}  // namespace layerplan
