// Will it fit: what vLLM leaves for the KV cache on each rank and how many tokens that holds.
// - vllm/v1/worker/utils.py::request_memory: requested = ceil(total * gpu_memory_utilization);
// - vllm/v1/worker/gpu_worker.py::determine_available_memory: KV cache = requested - weights -
//   the profile run's peak activations (and non-torch memory, CUDA graphs: not modelled);
// - vllm/v1/core/kv_cache_utils.py::get_kv_cache_config_from_groups: blocks = available // the
//   page size of all layers together; ::estimate_max_model_len: binary search of the longest
//   request that fits, with kv_cache_interface.py's max_memory_usage_bytes per spec;
// - vllm/engine/arg_utils.py::EngineArgs.get_batch_defaults: max_num_seqs and
//   max_num_batched_tokens by GPU size (OpenAI server).
// The activation estimate is layerplan's own (docs/memory.md): vLLM measures it.
#include <algorithm>
#include <cmath>

#include "lib/engine/vllm.h"
#include "lib/engine/vllm_layers.h"
#include "lib/engine/vllm_layout.h"
#include "lib/engine/vllm_memory.h"
#include "lib/engine/vllm_quant.h"

namespace layerplan {
namespace {

constexpr std::int64_t kGiB = std::int64_t{1} << 30;

std::int64_t cdiv(std::int64_t a, std::int64_t b) { return b <= 0 || a <= 0 ? 0 : (a - 1) / b + 1; }

// The largest transient tensors of one layer for `tokens` tokens in the profile run, in elements.
std::int64_t layer_activation(const LayerPlan& p, const AxisValues& a, std::int64_t tokens) {
  const Layer& l = *p.layer;
  auto pr = layer_per_rank(p, a);
  switch (l.kind) {
    case LayerKind::kAttention: {
      std::int64_t hd = l.flavor == Flavor::kMla ? l.kv_lora_rank.value + l.qk_rope_head_dim.value
                                                 : l.head_dim.value;
      return sat_mul(tokens, sat_add(sat_mul(pr.q_heads.value_or(0), hd * 2),
                                     sat_mul(2 * pr.kv_heads.value_or(0), hd)));
    }
    case LayerKind::kMlp:
      return sat_mul(tokens, 3 * pr.intermediate_size.value_or(0));
    case LayerKind::kMoe: {
      // fused_moe's intermediate caches: [T, top_k, 2N], [T * top_k, N], [T, top_k, hidden];
      // without EP over DP, every rank sees the tokens of all DP ranks.
      std::int64_t t = sat_mul(sat_mul(tokens, a.dp), l.top_k.value);
      return sat_mul(t, 3 * pr.moe_intermediate_size.value_or(0) + l.hidden_size.value);
    }
    case LayerKind::kMamba:
      return sat_mul(tokens, 2 * (pr.inner_size.value_or(0) + l.hidden_size.value));
    case LayerKind::kLinearAttention:
      return sat_mul(tokens, 2 * (pr.key_heads.value_or(0) * l.linear_key_head_dim.value +
                                  pr.value_heads.value_or(0) * l.linear_value_head_dim.value));
    default:
      return 0;
  }
}

// kv_cache_interface.py::max_memory_usage_bytes of one request of `len` tokens: the
// sliding-window layers and the recurrent state.
std::int64_t bounded_bytes(const StageMemory& s, std::int64_t len, std::int64_t window,
                           std::int64_t batched, std::int64_t block) {
  std::int64_t sliding = 0;
  if (s.sliding_kv_bytes_per_token > 0) {
    // SlidingWindowSpec.max_admission_blocks_per_request.
    std::int64_t tokens = std::min(sat_add(window - 1, batched), len);
    sliding = sat_mul(sat_mul(cdiv(tokens, block) + 1, block), s.sliding_kv_bytes_per_token);
  }
  return sat_add(sliding, s.state_bytes_per_seq);
}

// ... and the full-attention layers (FullAttentionSpec: the length divided over DCP).
std::int64_t request_bytes(const StageMemory& s, const MemoryPlan& m, std::int64_t len,
                           std::int64_t window, std::int64_t batched, std::int64_t block) {
  std::int64_t full =
      sat_mul(sat_mul(cdiv(cdiv(len, m.kv_token_share), block), block), s.kv_bytes_per_token);
  return sat_add(full, bounded_bytes(s, len, window, batched, block));
}

}  // namespace

FitResult vllm_fit(const MemoryPlan& memory, const Model& model,
                   const std::vector<LayerPlan>& plans, const AxisValues& axes,
                   const FitRequest& request) {
  FitResult r;
  bool big = request.gpu_memory >= 70 * kGiB;
  r.max_num_seqs = request.max_num_seqs.value_or(big ? 1024 : 256);
  r.max_num_batched_tokens =
      request.max_num_batched_tokens.value_or(request.gpu_memory >= 160 * kGiB ? 16384
                                              : big                            ? 8192
                                                                               : 2048);
  r.max_model_len = request.max_model_len.value_or(memory.max_position_embeddings);
  // math.ceil of a Python float product, as request_memory computes it.
  r.requested_bytes = static_cast<std::int64_t>(
      std::ceil(static_cast<double>(request.gpu_memory) * request.gpu_memory_utilization));
  std::int64_t block = request.block_size;
  std::int64_t window = 0;
  for (const auto& l : memory.layers) window = std::max(window, l.sliding_window);

  auto stages = pipeline_stages(model.num_hidden_layers, axes.pp);
  std::vector<std::int64_t> peak(memory.stages.size(), 0);
  std::int64_t tokens = r.max_num_batched_tokens;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    const Layer& l = *plans[i].layer;
    int stage = l.kind == LayerKind::kEmbedding && !l.mtp ? 0
                : l.index && !l.mtp                       ? stage_of(stages, *l.index)
                                                          : stages.back().stage;
    std::int64_t e = sat_mul(layer_activation(plans[i], axes, tokens), memory.dtype_bytes);
    if (l.kind == LayerKind::kLmHead && !l.mtp) {
      // The dummy sampler run: float32 logits and probabilities of max_num_seqs rows.
      e = std::max(e, sat_mul(r.max_num_seqs, sat_mul(vllm_padded_vocab(l.vocab_size.value), 8)));
    }
    auto& pk = peak[static_cast<std::size_t>(stage)];
    pk = std::max(pk, e);
  }
  r.weights_fit = true;
  r.fits = true;
  r.kv_tokens_per_replica = -1;
  r.largest_max_model_len = -1;
  for (std::size_t s = 0; s < memory.stages.size(); ++s) {
    const StageMemory& sm = memory.stages[s];
    StageFit f;
    f.stage = sm.stage;
    f.weight_bytes = sm.weight_bytes;
    // The residual stream and the hidden states around the largest layer.
    f.activation_bytes =
        sat_add(peak[s], sat_mul(sat_mul(2 * tokens, model.hidden_size.value), memory.dtype_bytes));
    f.kv_cache_bytes = r.requested_bytes - f.weight_bytes - f.activation_bytes;
    if (f.weight_bytes > r.requested_bytes) r.weights_fit = false;
    if (sm.sliding_kv_bytes_per_token > 0 || sm.state_bytes_per_seq > 0) r.exact = false;
    std::int64_t avail = std::max<std::int64_t>(f.kv_cache_bytes, 0);
    if (sm.kv_bytes_per_token > 0) {
      // Hybrid models: reserve the sliding-window and state memory of max_num_seqs requests, then
      // fill the rest with full-attention tokens (an estimate of vLLM's hybrid allocator).
      std::int64_t reserved =
          sat_mul(r.max_num_seqs, bounded_bytes(sm, r.max_model_len, window, tokens, block));
      std::int64_t rest = std::max<std::int64_t>(avail - reserved, 0);
      std::int64_t blocks = rest / sat_mul(block, sm.kv_bytes_per_token);
      f.kv_tokens = sat_mul(sat_mul(blocks, block), memory.kv_token_share);
    } else if (sm.sliding_kv_bytes_per_token > 0 || sm.state_bytes_per_seq > 0) {
      f.kv_tokens = r.max_model_len;  // no full attention: the length is not bounded by the cache
    }
    if (sm.kv_bytes_per_token > 0 || sm.sliding_kv_bytes_per_token > 0 ||
        sm.state_bytes_per_seq > 0) {
      r.kv_tokens_per_replica = r.kv_tokens_per_replica < 0
                                    ? f.kv_tokens
                                    : std::min(r.kv_tokens_per_replica, f.kv_tokens);
      // estimate_max_model_len: binary search, here up to the model's own limit.
      std::int64_t hi = std::max(memory.max_position_embeddings, r.max_model_len);
      std::int64_t lo = 0;
      while (lo < hi) {
        std::int64_t mid = lo + (hi - lo + 1) / 2;
        if (request_bytes(sm, memory, mid, window, tokens, block) <= avail)
          lo = mid;
        else
          hi = mid - 1;
      }
      r.largest_max_model_len =
          r.largest_max_model_len < 0 ? lo : std::min(r.largest_max_model_len, lo);
      if (f.kv_cache_bytes <= 0 ||
          request_bytes(sm, memory, r.max_model_len, window, tokens, block) > avail) {
        r.fits = false;
      }
    } else if (f.kv_cache_bytes < 0) {
      r.fits = false;
    }
    r.stages.push_back(f);
  }
  if (r.kv_tokens_per_replica < 0) r.kv_tokens_per_replica = 0;
  if (r.largest_max_model_len < 0) r.largest_max_model_len = 0;
  if (!r.weights_fit) r.fits = false;
  return r;
}

}  // namespace layerplan
