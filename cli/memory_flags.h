// The flags that size the KV cache on a GPU (`compile`, `suggest`): --gpu-memory,
// --gpu-memory-utilization, --max-model-len, --max-num-seqs, --max-num-batched-tokens.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "lib/memory.h"

namespace layerplan::cli {

struct MemoryFlags {
  std::string gpu_memory;  // "141GiB"; empty: no fit
  double utilization = 0.9;
  std::int64_t max_model_len = 0;
  std::int64_t max_num_seqs = 0;
  std::int64_t max_num_batched_tokens = 0;
};

void add_memory_flags(CLI::App& app, MemoryFlags& flags);
// The fit request, or nothing when --gpu-memory is not given. Throws CLI::ValidationError on a
// malformed size or a flag that needs --gpu-memory without it.
[[nodiscard]] std::optional<FitRequest> fit_request(const MemoryFlags& flags);

// "stage 0: weights 14.96 GiB, KV 128.00 KiB per token ..." and, with a fit, what fits.
[[nodiscard]] std::string memory_summary(const MemoryPlan& memory, const FitResult* fit);

}  // namespace layerplan::cli
