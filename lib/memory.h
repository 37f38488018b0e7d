// Memory per rank of a compiled plan: the weights each layer holds on one rank, the KV cache it
// fills per cached token, the recurrent state it keeps per sequence, and what that leaves for the
// KV cache on a GPU of a given size. Plain values; the engine computes them
// (lib/engine/vllm_memory.h), the manifest and the CLI show them. docs/memory.md has the formulas.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/source.h"

namespace layerplan {

// How a checkpoint stores its linear weights (config.json `quantization_config`).
enum class QuantFormat {
  kNone,        // the model dtype
  kFp8Block,    // fp8 e4m3 with a float32 scale per block (weight_block_size, DeepSeek-V3)
  kFp8Channel,  // fp8 with a float32 scale per output row (fbgemm_fp8)
  kFp8Tensor,   // fp8 with one float32 scale per tensor
  kMxfp4,       // 4-bit e2m1 pairs packed in a byte, an e8m0 scale per 32 (gpt-oss experts)
  kNvfp4,       // 4-bit e2m1 packed, an fp8 scale per 16, float32 global scales (ModelOpt,
                // compressed-tensors)
  kUnknown,     // a scheme layerplan does not model: weights counted in the model dtype, with a
                // warning
};

struct QuantScheme {
  QuantFormat format = QuantFormat::kNone;
  std::string method;  // quant_method as config.json writes it; "" when it has none
  std::string name;    // what the manifest shows: "bf16", "fp8-block-128x128", "mxfp4", ...
  std::int64_t block_n = 0, block_k = 0;  // kFp8Block
  bool experts_only = false;              // only MoE experts are quantized (vLLM's Mxfp4Config)
  std::vector<std::string> ignore;        // module names or patterns left in the model dtype
  Location location;                      // of quantization_config in config.json
};

// One layer on one rank under its plan.
struct LayerMemory {
  std::int64_t params = 0;        // the layer's parameters in the checkpoint, all ranks together
  std::int64_t weight_bytes = 0;  // what one rank allocates: its shards, replicas, padding, scales
  bool shared = false;            // weights are another layer's (tied head, MTP embedding and head)
  // KV cache bytes one rank writes per token it caches (K and V, MLA's latent, the indexer's keys);
  // each rank caches one token in `kv_token_share` of the sequence (DCP).
  std::int64_t kv_bytes_per_token = 0;
  std::int64_t kv_token_share = 1;
  std::int64_t sliding_window = 0;       // > 0: the layer keeps only this many recent tokens
  std::int64_t state_bytes_per_seq = 0;  // Mamba / linear-attention state per sequence
};

// The heaviest rank of one pipeline stage.
struct StageMemory {
  int stage = 0;
  std::int64_t weight_bytes = 0;
  std::int64_t kv_bytes_per_token = 0;          // full-attention layers, per cached token
  std::int64_t sliding_kv_bytes_per_token = 0;  // sliding-window layers, per cached token
  std::int64_t state_bytes_per_seq = 0;
};

struct MemoryPlan {
  std::string dtype;  // model dtype
  std::int64_t dtype_bytes = 2;
  std::string kv_cache_dtype;  // "auto" follows the model dtype
  std::int64_t kv_dtype_bytes = 2;
  QuantScheme quant;
  std::int64_t kv_token_share = 1;           // DCP: each rank caches one token in this many
  std::int64_t max_position_embeddings = 0;  // 0: config.json does not say
  std::vector<LayerMemory> layers;           // one per plan, in plan order
  std::vector<StageMemory> stages;
  std::int64_t params_total = 0;  // sum of `params` (the checkpoint's parameter count)
  std::int64_t params_mtp = 0;    // of which MTP layers
};

// What the user asks: the GPU and vLLM's scheduler limits.
struct FitRequest {
  std::int64_t gpu_memory = 0;                // bytes per GPU
  double gpu_memory_utilization = 0.9;        // vLLM's default
  std::optional<std::int64_t> max_model_len;  // default: max_position_embeddings
  std::optional<std::int64_t> max_num_seqs;   // default: vLLM's for the GPU size
  std::optional<std::int64_t> max_num_batched_tokens;
  std::int64_t block_size = 16;
};

struct StageFit {
  int stage = 0;
  std::int64_t weight_bytes = 0;
  std::int64_t activation_bytes = 0;  // estimate (docs/memory.md)
  std::int64_t kv_cache_bytes = 0;    // what is left for the KV cache; < 0: the weights do not fit
  std::int64_t kv_tokens = 0;         // tokens of one sequence each replica can cache, this stage
};

struct FitResult {
  std::int64_t requested_bytes = 0;  // gpu_memory * utilization, rounded up
  std::int64_t max_num_seqs = 0;
  std::int64_t max_num_batched_tokens = 0;
  std::int64_t max_model_len = 0;
  bool weights_fit = false;
  bool exact = true;                       // false: hybrid KV cache (sliding, Mamba), an estimate
  std::int64_t kv_tokens_per_replica = 0;  // smallest over stages
  std::int64_t largest_max_model_len = 0;  // that one request fits; 0: none
  bool fits = false;                       // weights fit and one request of max_model_len fits
  std::vector<StageFit> stages;
};

// "141GiB", "80GB", "1.5TiB", "1073741824": bytes; nothing on a malformed or non-positive size.
[[nodiscard]] std::optional<std::int64_t> parse_byte_size(const std::string& text);
// 1234567890 -> "1.15 GiB"
[[nodiscard]] std::string format_bytes(std::int64_t bytes);

}  // namespace layerplan
