// The numbers the layers of a model need, read once from config.json: attention (GQA, MLA,
// sliding windows, the indexer), MLP and MoE widths and experts, Mamba and linear attention.
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "lib/expand_internal.h"

namespace layerplan::expand_detail {

bool is_attention(Part p) {
  return p == Part::kAttention || p == Part::kFullAttention || p == Part::kSlidingAttention;
}

namespace {

// vllm/transformers_utils/model_arch_config_convertor.py::ModelArchConfigConvertorBase.
// is_deepseek_mla (read by vllm/config/model.py::ModelConfig.use_mla): vLLM builds MLA only for
// these model_types (and a kv_lora_rank); elsewhere a kv_lora_rank does not make MLA. A list of
// model_types, not a declaration key, on purpose: vLLM itself keys this by model_type, whatever
// class or declaration a model answers to (an --arch-file rename does not change it in vLLM).
constexpr std::array<std::string_view, 19> kVllmMlaModelTypes = {"axk1",
                                                                 "deepseek_v2",
                                                                 "deepseek_v3",
                                                                 "deepseek_v32",
                                                                 "deepseek_v4",
                                                                 "deepseek_mtp",
                                                                 "k3_dspark",
                                                                 "glm_moe_dsa",
                                                                 "glm4_moe_lite",
                                                                 "glm4_moe_lite_mtp",
                                                                 "kimi_k2",
                                                                 "kimi_linear",
                                                                 "longcat_flash",
                                                                 "longcat_flash_ngram",
                                                                 "pangu_ultra_moe",
                                                                 "pangu_ultra_moe_mtp",
                                                                 "bailing_hybrid",
                                                                 "bailing_hybrid_mtp",
                                                                 "bailing_hybrid_v3_mtp"};

bool vllm_builds_mla(std::string_view model_type) {
  return std::find(kVllmMlaModelTypes.begin(), kVllmMlaModelTypes.end(), model_type) !=
         kVllmMlaModelTypes.end();
}

// kv_lora_rank without an MLA model_type: vLLM's DeepSeek decoder
// (vllm/model_executor/models/deepseek_v2.py::DeepseekV2DecoderLayer.__init__) then builds
// DeepseekV2Attention, which expands the latent into one KV head per query head of width
// qk_nope_head_dim + qk_rope_head_dim; without those dims it is ordinary attention.
// Returns whether it set the attention's heads and widths (the DeepseekV2Attention case).
bool mla_not_enabled(ConfigReader& r, const std::string& who, Numbers& n) {
  const std::string& type = r.config().model_type;
  Diagnostic d = make_warning(
      "mla-not-enabled", n.kv_lora_rank.location,
      fmt::format("{} is set but model_type '{}' is not one vLLM builds MLA for; {} gets no "
                  "latent KV cache",
                  n.kv_lora_rank.key, type.empty() ? "(none)" : type, who));
  d.notes.push_back({{},
                     fmt::format("vLLM's MLA model types (ModelConfig.is_deepseek_mla): {}",
                                 fmt::join(kVllmMlaModelTypes, ", "))});
  r.diagnostics().report(std::move(d));
  n.kv_lora_rank = ConfigValue{};
  ConfigValue rope = r.integer("qk_rope_head_dim");
  ConfigValue nope = r.integer("qk_nope_head_dim");
  if (rope && nope && n.heads) {
    n.kv_heads = derived(n.heads.value,
                         "num_attention_heads (DeepseekV2Attention without MLA: "
                         "one KV head per query head)");
    n.kv_heads.location = n.heads.location;
    n.head_dim = derived(rope.value + nope.value, "qk_nope_head_dim + qk_rope_head_dim");
    n.v_head_dim = r.integer("v_head_dim");
    return true;
  }
  return false;
}

void read_attention(const ArchDecl& decl, ConfigReader& r, const std::string& who, Numbers& n,
                    const Uses& uses) {
  Diagnostics& diags = r.diagnostics();
  n.heads = r.integer("num_attention_heads", who);
  n.kv_lora_rank = r.integer("kv_lora_rank");
  n.kv_heads = r.integer("num_key_value_heads");
  if (!n.kv_heads && n.heads) {
    n.kv_heads = n.heads;
    n.kv_heads.key = "num_attention_heads (num_key_value_heads is absent: MHA)";
  }
  bool full_width =
      n.kv_lora_rank && !vllm_builds_mla(r.config().model_type) && mla_not_enabled(r, who, n);
  if (n.kv_lora_rank) {
    n.qk_rope = r.integer("qk_rope_head_dim", "MLA attention");
    n.qk_nope = r.integer("qk_nope_head_dim", "MLA attention");
    n.v_head_dim = r.integer("v_head_dim", "MLA attention");
    if (n.qk_rope && n.qk_nope) {
      n.head_dim =
          derived(n.qk_rope.value + n.qk_nope.value, "qk_nope_head_dim + qk_rope_head_dim");
    }
  } else if (!full_width) {
    n.head_dim = r.integer("head_dim");
    if (!n.head_dim && n.hidden && n.heads) {
      if (n.hidden.value % n.heads.value != 0) {
        diags.report(make_error(
            "config-invalid-field", n.heads.location,
            fmt::format("config.json has no head_dim and hidden_size ({}) is not divisible by "
                        "num_attention_heads ({})",
                        n.hidden.value, n.heads.value)));
      } else {
        n.head_dim = derived(n.hidden.value / n.heads.value, "hidden_size / num_attention_heads");
      }
    }
    if (n.kv_heads && n.heads && n.heads.value % n.kv_heads.value != 0) {
      diags.report(make_error("config-invalid-field", n.kv_heads.location,
                              fmt::format("{} ({}) does not divide num_attention_heads ({})",
                                          n.kv_heads.key, n.kv_heads.value, n.heads.value)));
    }
  }
  n.sliding_window =
      r.integer("sliding_window", uses.sliding ? "its sliding-attention layers" : "");
  ConfigValue max_positions = r.integer("max_position_embeddings");
  // A window as long as the context is full attention (Phi-3 writes one); Qwen's
  // use_sliding_window: false switches a written window off.
  n.global_sliding = n.sliding_window && r.boolean("use_sliding_window", true) &&
                     (!max_positions || n.sliding_window.value < max_positions.value);
  if (!decl.indexer_field.empty() && r.raw(decl.indexer_field) != nullptr) {
    n.indexer = true;
    n.index_topk = r.integer(decl.indexer_field, who);
    n.index_heads = r.integer("index_n_heads", "its indexer");
    n.index_head_dim = r.integer("index_head_dim", "its indexer");
  }
}

void read_ffn(ConfigReader& r, const std::string& who, Numbers& n, const Uses& uses) {
  Diagnostics& diags = r.diagnostics();
  if (uses.mlp_without_width) {
    const nlohmann::json* list = r.raw("intermediate_size");
    if (list != nullptr && list->is_array()) {
      n.intermediate_list = list;  // one width per MLP layer, in order (Nemotron-H)
      n.intermediate_key = r.key_of("intermediate_size");
    } else {
      n.intermediate = r.integer("intermediate_size", "its dense MLP layers");
    }
  }
  if (!uses.moe) return;
  n.experts = r.integer("num_experts", who);
  n.top_k = r.integer("num_experts_per_tok", "its MoE layers");
  n.moe_intermediate = r.integer("moe_intermediate_size");
  if (!n.moe_intermediate) n.moe_intermediate = r.integer("intermediate_size", "its MoE experts");
  if (n.top_k && n.experts && n.top_k.value > n.experts.value) {
    diags.report(make_error("config-invalid-field", n.top_k.location,
                            fmt::format("{} ({}) exceeds the number of experts ({})", n.top_k.key,
                                        n.top_k.value, n.experts.value)));
  }
  n.shared_experts = r.integer("n_shared_experts", "", 0);
  ConfigValue width = r.integer("shared_expert_intermediate_size", "", 0);
  std::int64_t count = n.shared_experts ? n.shared_experts.value : 1;
  if (width && width.value > 0 && count > 0) {
    if (!n.shared_experts) n.shared_experts = derived(1, width.key + " (one shared expert)");
    n.shared_intermediate =
        count == 1
            ? width
            : derived(count * width.value, fmt::format("{} * {}", n.shared_experts.key, width.key));
  } else if (!width && n.shared_experts && n.shared_experts.value > 0 && n.moe_intermediate) {
    n.shared_intermediate =
        derived(n.shared_experts.value * n.moe_intermediate.value,
                fmt::format("{} * {}", n.shared_experts.key, n.moe_intermediate.key));
  } else if (width && width.value == 0) {
    n.shared_experts = derived(0, width.key + " is 0: no shared expert");
  }
}

void read_mixers(const ArchDecl& decl, ConfigReader& r, const std::string& who, Numbers& n,
                 const Uses& uses) {
  if (uses.mamba && decl.mamba == MambaVersion::kMamba2) {
    n.mamba_heads = r.integer("mamba_num_heads", who);
    n.mamba_head_dim = r.integer("mamba_head_dim", who);
    n.mamba_groups = r.integer("mamba_n_groups", who);
    n.ssm_state = r.integer("ssm_state_size");
    if (n.mamba_heads && n.mamba_head_dim) {
      n.mamba_inner = derived(n.mamba_heads.value * n.mamba_head_dim.value,
                              fmt::format("{} * {}", n.mamba_heads.key, n.mamba_head_dim.key));
    }
  } else if (uses.mamba) {
    ConfigValue expand = r.integer("mamba_expand", who);
    n.ssm_state = r.integer("ssm_state_size");
    if (expand && n.hidden) {
      n.mamba_inner =
          derived(expand.value * n.hidden.value, fmt::format("{} * hidden_size", expand.key));
      n.mamba_inner.location = expand.location;
    }
  }
  if (uses.linear) {
    n.lin_k_heads = r.integer("linear_num_key_heads", who);
    n.lin_v_heads = r.integer("linear_num_value_heads", who);
    n.lin_k_dim = r.integer("linear_key_head_dim");
    n.lin_v_dim = r.integer("linear_value_head_dim");
  }
}

}  // namespace

void read_numbers(const ArchDecl& decl, ConfigReader& r, const std::string& who, const Uses& uses,
                  Numbers& n) {
  if (uses.attention) read_attention(decl, r, who, n, uses);
  read_ffn(r, who, n, uses);
  read_mixers(decl, r, who, n, uses);
  n.tied = r.boolean("tie_word_embeddings", false);
  for (const char* key : {"torch_dtype", "dtype"}) {
    const nlohmann::json* value = r.config().find(key);
    if (value != nullptr && value->is_string()) {
      n.dtype = value->get<std::string>();
      break;
    }
  }
}

}  // namespace layerplan::expand_detail
