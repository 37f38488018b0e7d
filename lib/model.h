// The expanded model: the ordered list of layers a config.json describes, each with the numbers
// its checks need and where in config.json each number came from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/source.h"

namespace layerplan {

enum class LayerKind {
  kEmbedding,
  kAttention,
  kMlp,
  kMoe,
  kMamba,
  kLinearAttention,
  kIndexer,
  kMtp,
  kLmHead,
};

enum class Flavor { kNone, kGqa, kMha, kMla, kSliding };

[[nodiscard]] std::string_view kind_name(LayerKind kind);
[[nodiscard]] std::optional<LayerKind> parse_kind(std::string_view name);
[[nodiscard]] const std::vector<std::string>& kind_names();
[[nodiscard]] std::string_view flavor_name(Flavor flavor);
[[nodiscard]] std::optional<Flavor> parse_flavor(std::string_view name);
[[nodiscard]] const std::vector<std::string>& flavor_names();

// A number read from config.json (or derived from numbers that were), with its origin.
struct ConfigValue {
  std::int64_t value = 0;
  std::string key;    // config key it came from, or a formula ("hidden_size / num_attention_heads")
  Location location;  // where in config.json; empty when derived
  bool present = false;

  [[nodiscard]] explicit operator bool() const { return present; }
};

struct Layer {
  std::string prefix;
  LayerKind kind = LayerKind::kMlp;
  Flavor flavor = Flavor::kNone;
  std::optional<int> index;  // decoder layer index; MTP layers continue after the last one
  bool mtp = false;

  ConfigValue hidden_size;
  // attention
  ConfigValue num_heads, num_kv_heads, head_dim, v_head_dim, kv_lora_rank, qk_rope_head_dim;
  ConfigValue sliding_window;
  // mlp
  ConfigValue intermediate_size;
  // moe
  ConfigValue num_experts, top_k, moe_intermediate_size, num_shared_experts,
      shared_intermediate_size;
  // embedding / lm_head
  ConfigValue vocab_size;
  bool tied = false;
  // mamba: Mamba-2 has heads and B/C groups; Mamba-1 (Jamba) only an inner width
  ConfigValue mamba_heads, mamba_head_dim, mamba_groups, mamba_inner, ssm_state_size;
  // linear attention (Gated DeltaNet)
  ConfigValue linear_key_heads, linear_value_heads, linear_key_head_dim, linear_value_head_dim;
  // indexer (DeepSeek-V3.2 sparse attention)
  ConfigValue index_heads, index_head_dim, index_topk;
};

// The layer's prefix with its decoder index replaced by `placeholder`:
// "model.layers.17.mlp" -> "model.layers.{i}.mlp". Prefixes without an index are returned as is.
[[nodiscard]] std::string prefix_shape(const Layer& layer, std::string_view placeholder = "{i}");

// One weight fact of a family's vLLM model code (declaration map `weights`,
// docs/architectures.md): fixed, or decided by a config.json field.
struct WeightFact {
  bool value = false;  // the fact; with `field`, its value when config.json lacks the field
  std::string field;   // the config.json key that decides it; empty: `value` holds always
  std::string equals;  // with `field`: true iff the field is this string; empty: a boolean field
  bool operator==(const WeightFact&) const = default;
};

// Which weights vLLM builds for a family (lib/engine/vllm_memory.cc reads them). The defaults
// are those of a family that declares nothing: llama.py's.
struct WeightFacts {
  WeightFact o_bias{false, "attention_bias", ""};  // o_proj bias (llama.py bias_o_proj)
  WeightFact qk_norm;                              // q_norm / k_norm of head_dim
  WeightFact qk_norm_full;             // q_norm / k_norm over all heads, sharded (MiniMax-M2)
  WeightFact gated_q;                  // q_proj also produces an output gate (Qwen3-Next)
  WeightFact sinks;                    // per-head attention sinks (gpt-oss)
  WeightFact gated_mlp{true, "", ""};  // gate and up projections (SwiGLU); false: one up (relu2)
  WeightFact router_bias;              // the router Linear has a bias (gpt-oss)
  WeightFact expert_bias;              // biases on the experts' projections (gpt-oss)
  WeightFact score_bias;               // e_score_correction_bias, float32 (noaux_tc routing)
  WeightFact shared_expert_gate;       // a sigmoid gate on the shared expert (Qwen3-Next)
  bool operator==(const WeightFacts&) const = default;
};

struct Model {
  SourcePtr config_file;
  std::string architecture;
  std::string model_type;
  std::string family;
  bool verified = false;                 // on the whitelist: verified_by is not empty
  std::vector<std::string> verified_by;  // the vLLM PRs whose migration covers the architecture
  // Family facts (declaration keys of the same names, docs/architectures.md):
  bool tp_limited_by_experts = false;  // vLLM raises when tp > the number of routed experts
  bool mlp_divides_world = false;      // the MLP width must divide tp * pp * pcp * dp (gpt-oss)
  WeightFacts weights;                 // which weights vLLM builds (declaration map `weights`)
  std::string dtype;                   // "bfloat16" when config.json does not say
  int num_hidden_layers = 0;
  int num_mtp_layers = 0;
  ConfigValue hidden_size;
  ConfigValue vocab_size;
  std::vector<Layer> layers;
};

}  // namespace layerplan
