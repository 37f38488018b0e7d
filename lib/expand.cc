// Layer expansion: config.json + architecture declaration -> ordered layer list.
#include <algorithm>

#include <fmt/format.h>

#include "lib/architectures.h"

namespace layerplan {
namespace {

ConfigValue derived(std::int64_t value, std::string formula) {
  return ConfigValue{value, std::move(formula), Location{}, true};
}

// Numbers shared by every layer of a model, read once.
struct Common {
  ConfigValue layers, hidden, heads, kv_heads, head_dim, v_head_dim, vocab;
  ConfigValue kv_lora_rank, qk_rope, qk_nope;
  ConfigValue intermediate;
  ConfigValue experts, top_k, moe_intermediate, shared_experts;
  ConfigValue first_dense, moe_freq, sliding_window, max_positions;
  Flavor flavor = Flavor::kGqa;
  int mtp_layers = 0;
  bool tied = false;
  std::string dtype = "bfloat16";
};

bool is_moe_layer(const ArchDecl& decl, const Common& c, int i) {
  switch (decl.ffn) {
    case FfnEncoding::kDense: return false;
    case FfnEncoding::kMoe: return true;
    case FfnEncoding::kDenseThenMoe:
      return c.experts.present && i >= c.first_dense.value && i % c.moe_freq.value == 0;
  }
  return false;
}

bool needs_dense(const ArchDecl& decl, const Common& c, int total) {
  for (int i = 0; i < total; ++i) {
    if (!is_moe_layer(decl, c, i)) return true;
  }
  return false;
}

bool needs_moe(const ArchDecl& decl, const Common& c, int total) {
  if (decl.ffn == FfnEncoding::kMoe) return true;
  if (decl.ffn == FfnEncoding::kDense) return false;
  for (int i = 0; i < total; ++i) {
    if (i >= c.first_dense.value && i % std::max<std::int64_t>(1, c.moe_freq.value) == 0) return true;
  }
  return false;
}

std::optional<Common> read_common(const ArchDecl& decl, ConfigReader& r) {
  Diagnostics& diags = r.diagnostics();
  int errors_before = diags.count(Severity::kError);
  std::string who = fmt::format("{} ({})", r.config().architecture.empty()
                                               ? r.config().model_type
                                               : r.config().architecture,
                                decl.family);
  Common c;
  c.layers = r.integer("num_hidden_layers", who, 1, kMaxLayers);
  c.hidden = r.integer("hidden_size", who);
  c.heads = r.integer("num_attention_heads", who);
  c.vocab = r.integer("vocab_size", who);
  c.kv_lora_rank = r.integer("kv_lora_rank");
  c.kv_heads = r.integer("num_key_value_heads");
  if (!c.kv_heads && c.heads) {
    c.kv_heads = c.heads;
    c.kv_heads.key = "num_attention_heads (num_key_value_heads is absent: MHA)";
  }
  if (c.kv_lora_rank) {
    c.qk_rope = r.integer("qk_rope_head_dim", "MLA attention");
    c.qk_nope = r.integer("qk_nope_head_dim", "MLA attention");
    c.v_head_dim = r.integer("v_head_dim", "MLA attention");
    if (c.qk_rope && c.qk_nope) {
      c.head_dim = derived(c.qk_rope.value + c.qk_nope.value, "qk_nope_head_dim + qk_rope_head_dim");
    }
    c.flavor = Flavor::kMla;
  } else {
    c.head_dim = r.integer("head_dim");
    if (!c.head_dim && c.hidden && c.heads) {
      if (c.hidden.value % c.heads.value != 0) {
        diags.report(make_error(
            "config-invalid-field", c.heads.location,
            fmt::format("config.json has no head_dim and hidden_size ({}) is not divisible by "
                        "num_attention_heads ({})",
                        c.hidden.value, c.heads.value)));
      } else {
        c.head_dim = derived(c.hidden.value / c.heads.value, "hidden_size / num_attention_heads");
      }
    }
    c.sliding_window = r.integer("sliding_window");
    c.max_positions = r.integer("max_position_embeddings");
    bool sliding = c.sliding_window &&
                   (!c.max_positions || c.sliding_window.value < c.max_positions.value);
    c.flavor = sliding ? Flavor::kSliding
               : (c.kv_heads && c.heads && c.kv_heads.value == c.heads.value) ? Flavor::kMha
                                                                            : Flavor::kGqa;
    if (!sliding) c.sliding_window = ConfigValue{};
  }
  if (c.kv_heads && c.heads && c.flavor != Flavor::kMla && c.heads.value % c.kv_heads.value != 0) {
    diags.report(make_error(
        "config-invalid-field", c.kv_heads.location,
        fmt::format("{} ({}) does not divide num_attention_heads ({})", c.kv_heads.key,
                    c.kv_heads.value, c.heads.value)));
  }
  if (decl.ffn != FfnEncoding::kDense) {
    c.experts = r.integer("num_experts", decl.ffn == FfnEncoding::kMoe ? who : "");
    c.first_dense = r.integer("first_k_dense_replace", "", 0, kMaxLayers);
    if (!c.first_dense) c.first_dense = derived(0, "first_k_dense_replace (absent: 0)");
    c.moe_freq = r.integer("moe_layer_freq", "", 1, kMaxLayers);
    if (!c.moe_freq) c.moe_freq = derived(1, "moe_layer_freq (absent: 1)");
  }
  if (!c.layers) return std::nullopt;
  if (!decl.mtp_count_field.empty()) {
    ConfigValue mtp = r.integer(decl.mtp_count_field, "", 0, 64);
    c.mtp_layers = mtp ? static_cast<int>(mtp.value) : 0;
  }
  int total = static_cast<int>(c.layers.value) + c.mtp_layers;
  if (needs_dense(decl, c, total)) c.intermediate = r.integer("intermediate_size", "its dense MLP layers");
  if (c.experts && needs_moe(decl, c, total)) {
    c.top_k = r.integer("num_experts_per_tok", "its MoE layers");
    c.moe_intermediate = r.integer("moe_intermediate_size");
    if (!c.moe_intermediate) c.moe_intermediate = r.integer("intermediate_size", "its MoE experts");
    c.shared_experts = r.integer("n_shared_experts", "", 0);
    if (c.top_k && c.top_k.value > c.experts.value) {
      diags.report(make_error("config-invalid-field", c.top_k.location,
                              fmt::format("{} ({}) exceeds the number of experts ({})",
                                          c.top_k.key, c.top_k.value, c.experts.value)));
    }
  }
  c.tied = r.boolean("tie_word_embeddings", false);
  for (const char* key : {"torch_dtype", "dtype"}) {
    const nlohmann::json* value = r.config().find(key);
    if (value != nullptr && value->is_string()) {
      c.dtype = value->get<std::string>();
      break;
    }
  }
  if (diags.count(Severity::kError) != errors_before) return std::nullopt;
  return c;
}

Layer attention_layer(const ArchDecl& decl, const Common& c, int i, bool mtp) {
  Layer l;
  l.prefix = expand_prefix(decl.attention_prefix, i);
  l.kind = LayerKind::kAttention;
  l.flavor = c.flavor;
  l.index = i;
  l.mtp = mtp;
  l.hidden_size = c.hidden;
  l.num_heads = c.heads;
  l.head_dim = c.head_dim;
  l.v_head_dim = c.v_head_dim ? c.v_head_dim : c.head_dim;
  l.sliding_window = c.sliding_window;
  if (c.flavor == Flavor::kMla) {
    l.num_kv_heads = derived(1, "kv_lora_rank (MLA caches one latent KV head)");
    l.num_kv_heads.location = c.kv_lora_rank.location;
    l.kv_lora_rank = c.kv_lora_rank;
    l.qk_rope_head_dim = c.qk_rope;
  } else {
    l.num_kv_heads = c.kv_heads;
  }
  return l;
}

Layer ffn_layer(const ArchDecl& decl, const Common& c, int i, bool mtp) {
  Layer l;
  l.index = i;
  l.mtp = mtp;
  l.hidden_size = c.hidden;
  if (is_moe_layer(decl, c, i)) {
    l.kind = LayerKind::kMoe;
    l.prefix = expand_prefix(decl.moe_prefix, i);
    l.num_experts = c.experts;
    l.top_k = c.top_k;
    l.moe_intermediate_size = c.moe_intermediate;
    l.num_shared_experts = c.shared_experts;
    if (c.shared_experts && c.shared_experts.value > 0 && c.moe_intermediate) {
      l.shared_intermediate_size =
          derived(c.shared_experts.value * c.moe_intermediate.value,
                  fmt::format("{} * {}", c.shared_experts.key, c.moe_intermediate.key));
    }
  } else {
    l.kind = LayerKind::kMlp;
    l.prefix = expand_prefix(decl.ffn_prefix, i);
    l.intermediate_size = c.intermediate;
  }
  return l;
}

Layer simple_layer(LayerKind kind, std::string prefix, const Common& c) {
  Layer l;
  l.kind = kind;
  l.prefix = std::move(prefix);
  l.hidden_size = c.hidden;
  l.vocab_size = c.vocab;
  l.tied = c.tied;
  return l;
}

}  // namespace

std::optional<Model> expand_model(const HfConfig& config, const ArchRegistry& registry,
                                  Diagnostics& diags) {
  const ArchDecl* decl = registry.find(config.architecture, config.model_type);
  if (decl == nullptr) {
    Diagnostic d = make_error(
        "arch-unknown", config.locate_pointer("/architectures"),
        fmt::format("architecture '{}' (model_type '{}') is not one layerplan knows",
                    config.architecture.empty() ? "(none)" : config.architecture,
                    config.model_type.empty() ? "(none)" : config.model_type));
    d.notes.push_back({{}, fmt::format("known architectures: {}",
                                       fmt::join(registry.known_architectures(), ", "))});
    d.notes.push_back({{}, "describe a new family in a YAML declaration and pass it with "
                           "--arch-file FILE (see docs/architectures.md)"});
    diags.report(std::move(d));
    return std::nullopt;
  }
  FieldAliases aliases = default_field_aliases();
  for (const auto& [field, keys] : decl->aliases) {
    std::vector<std::string> merged = keys;
    for (const auto& k : aliases[field]) {
      if (std::find(merged.begin(), merged.end(), k) == merged.end()) merged.push_back(k);
    }
    aliases[field] = merged;
  }
  ConfigReader reader(config, diags, aliases);
  auto common = read_common(*decl, reader);
  if (!common) return std::nullopt;
  const Common& c = *common;

  Model model;
  model.config_file = config.doc.file;
  model.architecture = config.architecture;
  model.model_type = config.model_type;
  model.family = decl->family;
  model.verified = decl->verified;
  model.dtype = c.dtype;
  model.num_hidden_layers = static_cast<int>(c.layers.value);
  model.num_mtp_layers = c.mtp_layers;
  model.hidden_size = c.hidden;
  model.vocab_size = c.vocab;

  auto& layers = model.layers;
  layers.reserve(static_cast<std::size_t>(2 * (model.num_hidden_layers + c.mtp_layers) + 3));
  layers.push_back(simple_layer(LayerKind::kEmbedding, decl->embedding_prefix, c));
  for (int i = 0; i < model.num_hidden_layers; ++i) {
    layers.push_back(attention_layer(*decl, c, i, false));
    layers.push_back(ffn_layer(*decl, c, i, false));
  }
  for (int k = 0; k < c.mtp_layers; ++k) {
    int n = model.num_hidden_layers + k;
    Layer head = simple_layer(LayerKind::kMtp, expand_prefix(decl->mtp_prefix, n), c);
    head.index = n;
    head.mtp = true;
    layers.push_back(std::move(head));
    layers.push_back(attention_layer(*decl, c, n, true));
    layers.push_back(ffn_layer(*decl, c, n, true));
  }
  layers.push_back(simple_layer(LayerKind::kLmHead, decl->lm_head_prefix, c));
  return model;
}

}  // namespace layerplan
