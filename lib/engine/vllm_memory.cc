// What every layer allocates on one rank, module by module, as vLLM's model code builds it
// (vLLM main f067737b; docs/memory.md lists the formulas and their sources). Per-rank shapes
// come from the same numbers as the manifest's per_rank (lib/engine/vllm_layers.cc).
#include "lib/engine/vllm_memory.h"

#include <fmt/format.h>

#include <algorithm>

#include "lib/architectures.h"
#include "lib/engine/vllm.h"
#include "lib/engine/vllm_layers.h"
#include "lib/engine/vllm_layout.h"
#include "lib/engine/vllm_quant.h"

namespace layerplan {
namespace {

// Config numbers the layer table does not carry, and the family facts of vLLM's model code.
struct Facts {
  std::int64_t dtype = 2;     // bytes of the model dtype
  std::int64_t kv_dtype = 2;  // bytes of a KV-cache element (kv_cache_dtype auto: the model dtype)
  std::int64_t ssm_dtype = 2;
  QuantScheme quant;
  QuantIgnoreIndex quant_ignores;  // quant.ignore, for the lookups of every linear module
  std::int64_t q_lora_rank = 0, qk_nope = 0;
  std::int64_t conv_kernel = 4, linear_conv_kernel = 4, mamba_dt_rank = 0;
  bool conv_bias = true;
  bool qkv_bias = false, o_bias = false, mlp_bias = false;
  bool qk_norm = false;             // q_norm / k_norm of head_dim (Qwen3, GLM-4.5 with use_qk_norm)
  bool qk_norm_full = false;        // q_norm / k_norm over all heads, sharded (MiniMax-M2)
  bool gated_q = false;             // q_proj also produces an output gate (Qwen3-Next)
  bool sinks = false;               // per-head attention sinks (gpt-oss)
  bool gated_mlp = true;            // gate and up projections (SwiGLU); false: relu2 (Nemotron-H)
  bool router_bias = false;         // router Linear with bias (gpt-oss)
  bool score_bias = false;          // e_score_correction_bias, float32 (noaux_tc routing)
  bool expert_bias = false;         // biases on the experts' projections (gpt-oss)
  bool shared_expert_gate = false;  // Qwen3-Next
  std::int64_t pp = 1, dcp = 1;
};

std::int64_t number(const HfConfig& c, const char* key, std::int64_t fallback) {
  const nlohmann::json* v = c.find(key);
  if (v == nullptr || !v->is_number_integer()) return fallback;
  // Bounded like every size the layer table reads (hf_config.h::kMaxDimension).
  std::int64_t n = v->get<std::int64_t>();
  return n >= 0 && n <= kMaxDimension ? n : fallback;
}

bool flag(const HfConfig& c, const char* key, bool fallback) {
  const nlohmann::json* v = c.find(key);
  return v != nullptr && v->is_boolean() ? v->get<bool>() : fallback;
}

std::string text(const HfConfig& c, const char* key) {
  const nlohmann::json* v = c.find(key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

Facts read_facts(const HfConfig& c, const Model& m, const AxisValues& a, Diagnostics& diags) {
  Facts f;
  f.dtype = dtype_bytes(m.dtype) > 0 ? dtype_bytes(m.dtype) : 2;
  f.kv_dtype = f.dtype;
  std::string ssm = text(c, "mamba_ssm_cache_dtype");
  f.ssm_dtype = dtype_bytes(ssm) > 0 ? dtype_bytes(ssm) : f.dtype;
  f.quant = read_quant_scheme(c, diags);
  f.quant_ignores = QuantIgnoreIndex(f.quant.ignore);
  if (f.quant.name.empty()) f.quant.name = m.dtype;
  f.q_lora_rank = number(c, "q_lora_rank", 0);
  f.qk_nope = number(c, "qk_nope_head_dim", 0);
  f.conv_kernel = number(c, "conv_kernel", number(c, "mamba_d_conv", 4));
  f.linear_conv_kernel = number(c, "linear_conv_kernel_dim", 4);
  f.conv_bias = flag(c, "use_conv_bias", flag(c, "mamba_conv_bias", true));
  std::int64_t hidden = m.hidden_size.value;
  f.mamba_dt_rank = number(c, "mamba_dt_rank", (hidden + 15) / 16);
  // The weights vLLM builds are family facts of the declaration (schemas/architectures/*.yaml,
  // key `weights`, each citing the vLLM class that builds them), never family names here.
  auto fact = [&c](const WeightFact& w) { return weight_fact_holds(w, c); };
  const WeightFacts& w = m.weights;
  // q, k and v carry attention_bias in every family layerplan knows; o_proj as declared.
  f.qkv_bias = flag(c, "attention_bias", false);
  f.o_bias = fact(w.o_bias);
  f.mlp_bias = flag(c, "mlp_bias", false);
  f.qk_norm = fact(w.qk_norm);
  f.qk_norm_full = fact(w.qk_norm_full);
  f.gated_q = fact(w.gated_q);
  f.sinks = fact(w.sinks);
  f.gated_mlp = fact(w.gated_mlp);
  f.router_bias = fact(w.router_bias);
  f.expert_bias = fact(w.expert_bias);
  f.score_bias = fact(w.score_bias);
  f.shared_expert_gate = fact(w.shared_expert_gate);
  f.pp = a.pp;
  f.dcp = a.dcp;
  return f;
}

// One rank's bytes of a linear weight [rows, cols] of module `module`.
struct Acc {
  const Facts& f;
  std::int64_t params = 0, bytes = 0;

  void linear(const std::string& module, std::int64_t full_rows, std::int64_t full_cols,
              std::int64_t rows, std::int64_t cols, bool expert = false, std::int64_t copies = 1,
              std::int64_t full_copies = 1) {
    params = sat_add(params, sat_mul(sat_mul(full_rows, full_cols), full_copies));
    QuantFormat q = f.quant.format;
    if (q == QuantFormat::kUnknown || (f.quant.experts_only && !expert) ||
        f.quant_ignores.ignores(module)) {
      q = QuantFormat::kNone;
    }
    bytes = sat_add(bytes, sat_mul(copies, matrix_bytes(f.quant, q, rows, cols, f.dtype)));
  }
  // A vector (bias, norm weight, per-head parameter) in `elem` bytes per element.
  void vec(std::int64_t full, std::int64_t local, std::int64_t elem = 0) {
    params = sat_add(params, full);
    bytes = sat_add(bytes, sat_mul(local, elem > 0 ? elem : f.dtype));
  }
  // Parameters and bytes counted directly (replicated, unquantized modules).
  void raw(std::int64_t p, std::int64_t b) {
    params = sat_add(params, p);
    bytes = sat_add(bytes, b);
  }
};

void attention(const Layer& l, const LayerPlan& p, const PerRankSizes& pr, Acc& acc,
               LayerMemory& out) {
  const Facts& f = acc.f;
  std::int64_t hidden = l.hidden_size.value, heads = l.num_heads.value;
  std::int64_t t = p.plan.tp_size.value;
  std::int64_t q_r = pr.q_heads.value_or(0);
  acc.vec(hidden, hidden);  // input_layernorm
  out.kv_token_share = p.plan.dcp_size.value;
  if (l.flavor == Flavor::kMla) {
    // deepseek_v2.py::DeepseekV2MLAAttention: the q/kv down projections are replicated
    // (fused_qkv_a_proj, or kv_a_proj_with_mqa and a column-parallel q_proj without q_lora_rank),
    // q_b_proj / kv_b_proj column-parallel, o_proj row-parallel.
    std::int64_t rope = l.qk_rope_head_dim.value, latent = l.kv_lora_rank.value;
    std::int64_t nope = f.qk_nope > 0 ? f.qk_nope : l.head_dim.value - rope;
    std::int64_t v = l.v_head_dim.present ? l.v_head_dim.value : nope;
    std::int64_t qk = nope + rope;
    const std::string& px = l.prefix;
    if (f.q_lora_rank > 0) {
      acc.linear(px + ".q_a_proj", f.q_lora_rank, hidden, f.q_lora_rank, hidden);
      acc.vec(f.q_lora_rank, f.q_lora_rank);  // q_a_layernorm
      acc.linear(px + ".q_b_proj", heads * qk, f.q_lora_rank, q_r * qk, f.q_lora_rank);
    } else {
      acc.linear(px + ".q_proj", heads * qk, hidden, q_r * qk, hidden);
    }
    acc.linear(px + ".kv_a_proj_with_mqa", latent + rope, hidden, latent + rope, hidden);
    acc.vec(latent, latent);  // kv_a_layernorm
    acc.linear(px + ".kv_b_proj", heads * (nope + v), latent, q_r * (nope + v), latent);
    acc.linear(px + ".o_proj", hidden, heads * v, hidden, q_r * v);
    // v1/kv_cache_interface.py::MLAAttentionSpec: one latent of kv_lora_rank + rope per token.
    out.kv_bytes_per_token = (latent + rope) * f.kv_dtype;
    (void)t;
    return;
  }
  std::int64_t kv = l.num_kv_heads.value, hd = l.head_dim.value;
  std::int64_t kv_r = pr.kv_heads.value_or(0);
  std::int64_t v_dim = l.v_head_dim.present ? l.v_head_dim.value : hd;
  const std::string& px = l.prefix;
  std::int64_t q_rows = (f.gated_q ? 2 : 1) * hd;
  // linear.py::QKVParallelLinear: KV heads replicated when tp > num_kv_heads.
  acc.linear(px + ".q_proj", heads * q_rows, hidden, q_r * q_rows, hidden);
  acc.linear(px + ".k_proj", kv * hd, hidden, kv_r * hd, hidden);
  acc.linear(px + ".v_proj", kv * v_dim, hidden, kv_r * v_dim, hidden);
  acc.linear(px + ".o_proj", hidden, heads * v_dim, hidden, q_r * v_dim);
  if (f.qkv_bias) acc.vec(heads * hd + kv * (hd + v_dim), q_r * hd + kv_r * (hd + v_dim));
  if (f.o_bias) acc.vec(hidden, hidden);
  if (f.qk_norm) acc.vec(2 * hd, 2 * hd);
  if (f.qk_norm_full) acc.vec(heads * hd + kv * hd, q_r * hd + kv_r * hd);
  if (f.sinks) acc.vec(heads, q_r);
  // v1/kv_cache_interface.py::AttentionSpec.real_page_size_bytes: K and V of every local KV head.
  out.kv_bytes_per_token = 2 * kv_r * hd * f.kv_dtype;
  if (l.flavor == Flavor::kSliding && l.sliding_window.present)
    out.sliding_window = l.sliding_window.value;
}

// A gated (gate, up, down) or relu2 (up, down) MLP of width `inter`, `inter_r` on this rank.
void mlp(const std::string& px, std::int64_t hidden, std::int64_t inter, std::int64_t inter_r,
         Acc& acc, bool expert = false, std::int64_t copies = 1, std::int64_t full_copies = 1) {
  const Facts& f = acc.f;
  if (f.gated_mlp) {
    acc.linear(px + ".gate_proj", inter, hidden, inter_r, hidden, expert, copies, full_copies);
  }
  acc.linear(px + ".up_proj", inter, hidden, inter_r, hidden, expert, copies, full_copies);
  acc.linear(px + ".down_proj", hidden, inter, hidden, inter_r, expert, copies, full_copies);
}

void moe(const Layer& l, const PerRankSizes& pr, Acc& acc) {
  const Facts& f = acc.f;
  std::int64_t hidden = l.hidden_size.value, experts = l.num_experts.value;
  acc.vec(hidden, hidden);  // post_attention_layernorm
  // The router: replicated, never quantized (deepseek_v2.py GateLinear, quant_config None).
  acc.raw(sat_mul(experts, hidden), sat_mul(sat_mul(experts, hidden), f.dtype));
  if (f.router_bias) acc.vec(experts, experts);
  if (f.score_bias) acc.vec(experts, experts, 4);  // e_score_correction_bias, float32
  std::int64_t inter = l.moe_intermediate_size.value;
  std::int64_t inter_r = pr.moe_intermediate_size.value_or(0);
  std::int64_t local = pr.experts_max.value_or(0);
  mlp(l.prefix + ".experts", hidden, inter, inter_r, acc, /*expert=*/true, local, experts);
  if (f.expert_bias) {
    std::int64_t up = (f.gated_mlp ? 2 : 1);
    acc.vec(sat_mul(experts, up * inter + hidden), sat_mul(local, up * inter_r + hidden));
  }
  if (l.shared_intermediate_size.present) {
    std::int64_t shared = l.shared_intermediate_size.value;
    mlp(l.prefix + ".shared_experts", hidden, shared, pr.shared_intermediate_size.value_or(0), acc);
    if (f.shared_expert_gate) {
      acc.raw(hidden, sat_mul(hidden, f.dtype));
    }
  }
}

void mamba(const Layer& l, const LayerPlan& p, const PerRankSizes& pr, Acc& acc, LayerMemory& out) {
  const Facts& f = acc.f;
  std::int64_t hidden = l.hidden_size.value, t = p.plan.tp_size.value;
  std::int64_t n = l.ssm_state_size.value, k = f.conv_kernel;
  std::int64_t inner = l.mamba_inner.value, inner_r = pr.inner_size.value_or(inner / t);
  acc.vec(hidden, hidden);  // the layer's norm
  const std::string& px = l.prefix;
  if (l.mamba_heads.present) {
    // mamba_mixer2.py::MambaMixer2: in_proj = [z, x, B, C, dt], conv1d over [x, B, C],
    // A, D, dt_bias per head in float32, a gated RMSNorm over the inner width.
    std::int64_t heads = l.mamba_heads.value, heads_r = pr.mamba_heads.value_or(0);
    std::int64_t g = l.mamba_groups.value, g_r = pr.n_groups.value_or(0);
    std::int64_t conv = inner + 2 * g * n, conv_r = inner_r + 2 * g_r * n;
    acc.linear(px + ".in_proj", inner + conv + heads, hidden, inner_r + conv_r + heads_r, hidden);
    acc.vec(sat_add(sat_mul(conv, k), f.conv_bias ? conv : 0),
            sat_add(sat_mul(conv_r, k), f.conv_bias ? conv_r : 0));
    acc.vec(3 * heads, 3 * heads_r, 4);
    acc.vec(inner, inner_r);
    acc.linear(px + ".out_proj", hidden, inner, hidden, inner_r);
    // mamba_utils.py::MambaStateShapeCalculator.mamba2_state_shape.
    out.state_bytes_per_seq =
        sat_add(sat_mul(sat_mul(k - 1, conv_r), f.dtype),
                sat_mul(sat_mul(sat_mul(heads_r, l.mamba_head_dim.value), n), f.ssm_dtype));
    return;
  }
  // mamba_mixer.py::MambaMixer (Mamba-1, Jamba): x_proj to [dt, B, C], dt_proj, A [inner, N], D.
  std::int64_t r = f.mamba_dt_rank;
  acc.linear(px + ".in_proj", 2 * inner, hidden, 2 * inner_r, hidden);
  acc.vec(sat_add(sat_mul(inner, k), f.conv_bias ? inner : 0),
          sat_add(sat_mul(inner_r, k), f.conv_bias ? inner_r : 0));
  acc.linear(px + ".x_proj", r + 2 * n, inner, r + 2 * n, inner_r);
  acc.linear(px + ".dt_proj", inner, r, inner_r, r);
  acc.vec(inner, inner_r);  // dt_proj bias
  acc.vec(sat_add(sat_mul(inner, n), inner), sat_add(sat_mul(inner_r, n), inner_r), 4);  // A, D
  acc.linear(px + ".out_proj", hidden, inner, hidden, inner_r);
  out.state_bytes_per_seq =
      sat_add(sat_mul(sat_mul(k - 1, inner_r), f.dtype), sat_mul(sat_mul(inner_r, n), f.ssm_dtype));
}

void linear_attention(const Layer& l, const PerRankSizes& pr, Acc& acc, LayerMemory& out) {
  // qwen3_next.py::Qwen3NextGatedDeltaNet: in_proj_qkvz, in_proj_ba, conv1d over [q, k, v]
  // without bias, dt_bias and A_log per value head, a gated RMSNorm of the value head dim.
  const Facts& f = acc.f;
  std::int64_t hidden = l.hidden_size.value;
  std::int64_t kh = l.linear_key_heads.value, vh = l.linear_value_heads.value;
  std::int64_t dk = l.linear_key_head_dim.value, dv = l.linear_value_head_dim.value;
  std::int64_t kh_r = pr.key_heads.value_or(0), vh_r = pr.value_heads.value_or(0);
  std::int64_t k = f.linear_conv_kernel;
  const std::string& px = l.prefix;
  acc.vec(hidden, hidden);
  acc.linear(px + ".in_proj_qkvz", 2 * kh * dk + 2 * vh * dv, hidden, 2 * kh_r * dk + 2 * vh_r * dv,
             hidden);
  acc.linear(px + ".in_proj_ba", 2 * vh, hidden, 2 * vh_r, hidden);
  std::int64_t conv = 2 * kh * dk + vh * dv, conv_r = 2 * kh_r * dk + vh_r * dv;
  acc.vec(sat_mul(conv, k), sat_mul(conv_r, k));
  acc.vec(2 * vh, 2 * vh_r, 4);
  acc.vec(dv, dv);
  acc.linear(px + ".out_proj", hidden, vh * dv, hidden, vh_r * dv);
  // mamba_utils.py::MambaStateShapeCalculator.gated_delta_net_state_shape.
  out.state_bytes_per_seq = sat_add(sat_mul(sat_mul(k - 1, conv_r), f.dtype),
                                    sat_mul(sat_mul(sat_mul(vh_r, dk), dv), f.ssm_dtype));
}

void indexer(const Layer& l, Acc& acc, LayerMemory& out) {
  // deepseek_v2.py::Indexer: wq_b (quantized), wk_weights_proj unquantized, a LayerNorm with
  // bias; replicated on every rank. Its key cache (DeepseekV32IndexerCache) stores index_head_dim
  // fp8 bytes and a float32 scale per 128 per token.
  const Facts& f = acc.f;
  std::int64_t hidden = l.hidden_size.value, heads = l.index_heads.value,
               hd = l.index_head_dim.value;
  acc.linear(l.prefix + ".wq_b", heads * hd, f.q_lora_rank, heads * hd, f.q_lora_rank);
  acc.raw(sat_mul(hd + heads, hidden), sat_mul(sat_mul(hd + heads, hidden), f.dtype));
  acc.vec(2 * hd, 2 * hd);
  out.kv_bytes_per_token = hd + hd / 128 * 4;
  out.kv_token_share = f.dcp;
}

LayerMemory layer_memory(const LayerPlan& p, const AxisValues& a, const Facts& f, const Model& m) {
  const Layer& l = *p.layer;
  PerRankSizes pr = layer_per_rank(p, a);
  LayerMemory out;
  Acc acc{f};
  std::int64_t hidden = l.hidden_size.value;
  switch (l.kind) {
    case LayerKind::kEmbedding:
    case LayerKind::kLmHead: {
      std::int64_t vocab = l.vocab_size.value;
      std::int64_t rows = pr.vocab_rows.value_or(vllm_padded_vocab(vocab));
      bool is_head = l.kind == LayerKind::kLmHead;
      // Tied: the head is the embedding. MTP: spec_decode/llm_base_proposer.py shares the target's
      // lm_head always (_maybe_share_lm_head) and its embedding when pp is 1
      // (_maybe_share_embeddings).
      out.shared = (is_head && l.tied) || (l.mtp && (is_head || f.pp == 1));
      acc.raw((is_head && l.tied) ? 0 : sat_mul(vocab, hidden),
              out.shared ? 0 : sat_mul(sat_mul(rows, hidden), f.dtype));
      if (is_head) acc.vec(hidden, hidden);  // the final norm (MTP: shared_head.norm)
      break;
    }
    case LayerKind::kAttention:
      attention(l, p, pr, acc, out);
      break;
    case LayerKind::kMlp:
      acc.vec(hidden, hidden);
      mlp(l.prefix, hidden, l.intermediate_size.value, pr.intermediate_size.value_or(0), acc);
      if (f.mlp_bias) {
        std::int64_t up = f.gated_mlp ? 2 : 1;
        acc.vec(up * l.intermediate_size.value + hidden,
                up * pr.intermediate_size.value_or(0) + hidden);
      }
      break;
    case LayerKind::kMoe:
      moe(l, pr, acc);
      break;
    case LayerKind::kMamba:
      mamba(l, p, pr, acc, out);
      break;
    case LayerKind::kLinearAttention:
      linear_attention(l, pr, acc, out);
      break;
    case LayerKind::kIndexer:
      indexer(l, acc, out);
      break;
    case LayerKind::kMtp:
      // deepseek_mtp.py::DeepSeekMultiTokenPredictorLayer: enorm, hnorm, eh_proj (nn.Linear,
      // unquantized, replicated).
      acc.vec(2 * hidden, 2 * hidden);
      acc.raw(sat_mul(2 * hidden, hidden), sat_mul(sat_mul(2 * hidden, hidden), f.dtype));
      break;
  }
  (void)m;
  out.params = acc.params;
  out.weight_bytes = acc.bytes;
  return out;
}

}  // namespace

MemoryPlan vllm_memory(const HfConfig& config, const Model& model,
                       const std::vector<LayerPlan>& plans, const AxisValues& axes,
                       Diagnostics& diags) {
  MemoryPlan mp;
  Facts f = read_facts(config, model, axes, diags);
  mp.dtype = model.dtype;
  mp.dtype_bytes = f.dtype;
  mp.kv_cache_dtype = "auto";
  mp.kv_dtype_bytes = f.kv_dtype;
  mp.quant = f.quant;
  mp.kv_token_share = axes.dcp;
  mp.max_position_embeddings = number(config, "max_position_embeddings", 0);
  auto stages = pipeline_stages(model.num_hidden_layers, axes.pp, axes.pp_partition);
  mp.stages.resize(stages.size());
  for (std::size_t s = 0; s < stages.size(); ++s) mp.stages[s].stage = stages[s].stage;
  for (const auto& p : plans) {
    LayerMemory lm = layer_memory(p, axes, f, model);
    const Layer& l = *p.layer;
    // As the manifest places layers (lib/manifest.cc): embedding first, MTP and head last.
    int stage = l.kind == LayerKind::kEmbedding && !l.mtp ? 0
                : l.index && !l.mtp                       ? stage_of(stages, *l.index)
                                                          : stages.back().stage;
    StageMemory& sm = mp.stages[static_cast<std::size_t>(stage)];
    sm.weight_bytes = sat_add(sm.weight_bytes, lm.weight_bytes);
    std::int64_t& kv =
        lm.sliding_window > 0 ? sm.sliding_kv_bytes_per_token : sm.kv_bytes_per_token;
    kv = sat_add(kv, lm.kv_bytes_per_token);
    sm.state_bytes_per_seq = sat_add(sm.state_bytes_per_seq, lm.state_bytes_per_seq);
    mp.params_total = sat_add(mp.params_total, lm.params);
    if (l.mtp) mp.params_mtp = sat_add(mp.params_mtp, lm.params);
    mp.layers.push_back(lm);
  }
  return mp;
}

}  // namespace layerplan
