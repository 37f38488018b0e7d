// Layer expansion: config.json + architecture declaration -> ordered layer list. The slot
// encodings live in expand_slots.cc and expand_blocks.cc; this file reads the numbers the
// layers need and assembles the layers, the MTP layers, the embedding and the LM head.
#include <algorithm>

#include <fmt/format.h>

#include "lib/expand_internal.h"

namespace layerplan {

using expand_detail::derived;
using expand_detail::Position;
using expand_detail::SlotContext;
using expand_detail::SlotEntry;

namespace {

bool is_attention(Part p) {
  return p == Part::kAttention || p == Part::kFullAttention || p == Part::kSlidingAttention;
}

// The parts a model uses, so that only the numbers those parts need are required.
struct Uses {
  bool attention = false, sliding = false, mamba = false, linear = false, mlp = false, moe = false;
  bool mlp_without_width = false;
  void add(const std::vector<SlotEntry>& entries) {
    for (const auto& e : entries) {
      attention |= is_attention(e.part);
      sliding |= e.part == Part::kSlidingAttention && !e.sliding_window;
      mamba |= e.part == Part::kMamba;
      linear |= e.part == Part::kLinearAttention;
      mlp |= e.part == Part::kMlp;
      moe |= e.part == Part::kMoe;
      mlp_without_width |= e.part == Part::kMlp && !e.intermediate;
    }
  }
};

// Numbers shared by the layers of a model, read once.
struct Numbers {
  ConfigValue hidden, vocab, heads, kv_heads, head_dim, v_head_dim, kv_lora_rank, qk_rope, qk_nope;
  ConfigValue sliding_window;
  bool global_sliding = false;
  ConfigValue intermediate;
  const nlohmann::json* intermediate_list = nullptr;
  std::string intermediate_key;
  ConfigValue experts, top_k, moe_intermediate, shared_experts, shared_intermediate;
  ConfigValue mamba_heads, mamba_head_dim, mamba_groups, mamba_inner, ssm_state;
  ConfigValue lin_k_heads, lin_v_heads, lin_k_dim, lin_v_dim;
  bool indexer = false;
  ConfigValue index_heads, index_head_dim, index_topk;
  bool tied = false;
  std::string dtype = "bfloat16";
};

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
  if (n.kv_lora_rank) {
    n.qk_rope = r.integer("qk_rope_head_dim", "MLA attention");
    n.qk_nope = r.integer("qk_nope_head_dim", "MLA attention");
    n.v_head_dim = r.integer("v_head_dim", "MLA attention");
    if (n.qk_rope && n.qk_nope) {
      n.head_dim = derived(n.qk_rope.value + n.qk_nope.value, "qk_nope_head_dim + qk_rope_head_dim");
    }
  } else {
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
      diags.report(make_error(
          "config-invalid-field", n.kv_heads.location,
          fmt::format("{} ({}) does not divide num_attention_heads ({})", n.kv_heads.key,
                      n.kv_heads.value, n.heads.value)));
    }
  }
  n.sliding_window = r.integer("sliding_window", uses.sliding ? "its sliding-attention layers" : "");
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
    n.shared_intermediate = count == 1 ? width
                                       : derived(count * width.value,
                                                 fmt::format("{} * {}", n.shared_experts.key, width.key));
  } else if (!width && n.shared_experts && n.shared_experts.value > 0 && n.moe_intermediate) {
    n.shared_intermediate = derived(n.shared_experts.value * n.moe_intermediate.value,
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
      n.mamba_inner = derived(expand.value * n.hidden.value, fmt::format("{} * hidden_size", expand.key));
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

// Builds the layers of one decoder (or MTP) layer from its two slot entries.
class Assembler {
 public:
  Assembler(const ArchDecl& decl, const Numbers& n, ConfigReader& r, Model& model)
      : decl_(decl), n_(n), r_(r), model_(model) {}

  void layer(const SlotEntry& mixer, const SlotEntry& ffn, const std::string& root, int index,
             int ordinal, bool mtp) {
    auto base = [&](LayerKind kind, const std::string& pattern) {
      Layer l;
      l.kind = kind;
      l.prefix = format_prefix(pattern, root, index, ordinal);
      l.index = index;
      l.mtp = mtp;
      l.hidden_size = n_.hidden;
      return l;
    };
    const Prefixes& p = decl_.prefixes;
    if (is_attention(mixer.part)) {
      Layer l = base(LayerKind::kAttention, p.attention);
      attention(mixer, l);
      model_.layers.push_back(std::move(l));
      if (n_.indexer) {
        Layer x = base(LayerKind::kIndexer, p.indexer);
        x.index_heads = n_.index_heads;
        x.index_head_dim = n_.index_head_dim;
        x.index_topk = n_.index_topk;
        model_.layers.push_back(std::move(x));
      }
    } else if (mixer.part == Part::kMamba) {
      Layer l = base(LayerKind::kMamba, p.mamba);
      l.mamba_heads = n_.mamba_heads;
      l.mamba_head_dim = n_.mamba_head_dim;
      l.mamba_groups = n_.mamba_groups;
      l.mamba_inner = n_.mamba_inner;
      l.ssm_state_size = n_.ssm_state;
      model_.layers.push_back(std::move(l));
    } else if (mixer.part == Part::kLinearAttention) {
      Layer l = base(LayerKind::kLinearAttention, p.linear_attention);
      l.linear_key_heads = n_.lin_k_heads;
      l.linear_value_heads = n_.lin_v_heads;
      l.linear_key_head_dim = n_.lin_k_dim;
      l.linear_value_head_dim = n_.lin_v_dim;
      model_.layers.push_back(std::move(l));
    }
    if (ffn.part == Part::kMlp) {
      Layer l = base(LayerKind::kMlp, p.mlp);
      l.intermediate_size = ffn.intermediate ? ffn.intermediate : mlp_width();
      model_.layers.push_back(std::move(l));
    } else if (ffn.part == Part::kMoe) {
      Layer l = base(LayerKind::kMoe, p.moe);
      l.num_experts = n_.experts;
      l.top_k = n_.top_k;
      l.moe_intermediate_size = n_.moe_intermediate;
      l.num_shared_experts = n_.shared_experts;
      l.shared_intermediate_size = n_.shared_intermediate;
      model_.layers.push_back(std::move(l));
    }
  }

 private:
  void attention(const SlotEntry& e, Layer& l) const {
    l.num_heads = n_.heads;
    l.head_dim = n_.head_dim;
    l.v_head_dim = n_.v_head_dim ? n_.v_head_dim : n_.head_dim;
    if (n_.kv_lora_rank) {
      l.flavor = Flavor::kMla;
      l.num_kv_heads = derived(1, "kv_lora_rank (MLA caches one latent KV head)");
      l.num_kv_heads.location = n_.kv_lora_rank.location;
      l.kv_lora_rank = n_.kv_lora_rank;
      l.qk_rope_head_dim = n_.qk_rope;
      return;
    }
    l.num_kv_heads = e.kv_heads ? e.kv_heads : n_.kv_heads;
    bool sliding = e.part == Part::kSlidingAttention || (e.part == Part::kAttention && n_.global_sliding);
    if (sliding) {
      l.flavor = Flavor::kSliding;
      l.sliding_window = e.sliding_window ? e.sliding_window : n_.sliding_window;
    } else {
      l.flavor = l.num_kv_heads && l.num_heads && l.num_kv_heads.value == l.num_heads.value
                     ? Flavor::kMha
                     : Flavor::kGqa;
    }
  }

  // The width of the next MLP layer: the scalar, or the next element of a per-MLP list.
  ConfigValue mlp_width() {
    if (n_.intermediate_list == nullptr) return n_.intermediate;
    std::size_t k = mlp_ordinal_++;
    std::string pointer = r_.config().pointer_of(n_.intermediate_key) + "/" + std::to_string(k);
    if (k >= n_.intermediate_list->size()) {
      r_.diagnostics().report(make_error(
          "config-invalid-field", r_.config().locate(n_.intermediate_key),
          fmt::format("{} lists {} widths, fewer than the model's MLP layers", n_.intermediate_key,
                      n_.intermediate_list->size())));
      return ConfigValue{};
    }
    return r_.integer_at(pointer, fmt::format("{}[{}]", n_.intermediate_key, k));
  }

  const ArchDecl& decl_;
  const Numbers& n_;
  ConfigReader& r_;
  Model& model_;
  std::size_t mlp_ordinal_ = 0;
};

struct Slots {
  std::vector<SlotEntry> mixer, ffn;
};

std::optional<Slots> resolve(const std::vector<LayerSource>& mixer_sources,
                             const std::vector<LayerSource>& ffn_sources,
                             const std::vector<Position>& at, int length, SlotContext& ctx) {
  const LayerSource* m = expand_detail::applicable_source(mixer_sources, "mixer", ctx);
  const LayerSource* f = expand_detail::applicable_source(ffn_sources, "feed-forward", ctx);
  if (m == nullptr || f == nullptr) return std::nullopt;
  auto mixer = expand_detail::resolve_slot(*m, "mixer", at, length, ctx);
  auto ffn = expand_detail::resolve_slot(*f, "feed-forward", at, length, ctx);
  if (!mixer || !ffn) return std::nullopt;
  return Slots{std::move(*mixer), std::move(*ffn)};
}

// MTP layers inherit the decoder's compact sources; per-layer lists describe the decoder only.
std::vector<LayerSource> compact_only(const std::vector<LayerSource>& sources) {
  std::vector<LayerSource> out;
  for (const auto& s : sources) {
    if (s.encoding != Encoding::kList && s.encoding != Encoding::kPattern &&
        s.encoding != Encoding::kBlockConfigs) {
      out.push_back(s);
    }
  }
  return out;
}

Diagnostic unknown_architecture(const HfConfig& config, const ArchRegistry& registry) {
  Diagnostic d = make_error(
      "arch-unknown", config.locate_pointer("/architectures"),
      fmt::format("architecture '{}' (model_type '{}') is not one layerplan knows",
                  config.architecture.empty() ? "(none)" : config.architecture,
                  config.model_type.empty() ? "(none)" : config.model_type));
  d.notes.push_back({{}, fmt::format("known architectures: {}",
                                     fmt::join(registry.known_architectures(), ", "))});
  d.notes.push_back({{}, "describe a new family in a YAML declaration and pass it with "
                         "--arch-file FILE (see docs/architectures.md)"});
  return d;
}

}  // namespace

std::optional<Model> expand_model(const HfConfig& config, const ArchRegistry& registry,
                                  Diagnostics& diags) {
  const ArchDecl* decl = registry.find(config.architecture, config.model_type);
  if (decl == nullptr) {
    diags.report(unknown_architecture(config, registry));
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
  ConfigReader r(config, diags, aliases);
  int errors_before = diags.count(Severity::kError);
  std::string who = fmt::format("{} ({})", config.architecture.empty() ? config.model_type
                                                                      : config.architecture,
                                decl->family);
  SlotContext ctx{*decl, r, who};
  Numbers n;
  ConfigValue layers = r.integer("num_hidden_layers", who, 1, kMaxLayers);
  n.hidden = r.integer("hidden_size", who);
  n.vocab = r.integer("vocab_size", who);
  if (!layers) return std::nullopt;
  int count = static_cast<int>(layers.value);

  std::vector<Position> decoder;
  for (int i = 0; i < count; ++i) decoder.push_back({i, i});
  auto slots = resolve(decl->mixer, decl->ffn, decoder, count, ctx);

  // MTP: `modules` modules of `sub` sub-layers each, indices continuing after the decoder.
  std::optional<Slots> mtp_slots;
  int modules = 0, sub = 1;
  if (decl->mtp) {
    const MtpDecl& m = *decl->mtp;
    ConfigValue c = m.count_field.empty() ? ConfigValue{} : r.integer(m.count_field, "", 0, 64);
    modules = c ? static_cast<int>(c.value) : m.count.value_or(0);
    std::vector<LayerSource> mixer = m.mixer.empty() ? compact_only(decl->mixer) : m.mixer;
    std::vector<LayerSource> ffn = m.ffn.empty() ? compact_only(decl->ffn) : m.ffn;
    if (modules > 0 && (mixer.empty() || ffn.empty())) {
      diags.report(make_error("arch-declaration", m.location,
                              fmt::format("{}: MTP layers need their own mixer and ffn sources "
                                          "(the decoder's are per-layer lists)",
                                          decl->source)));
    } else if (modules > 0) {
      for (const auto* sources : {&mixer, &ffn}) {
        const LayerSource* s = expand_detail::applicable_source(*sources, "MTP", ctx);
        if (s == nullptr) continue;
        if (auto len = expand_detail::source_length(*s, ctx)) sub = std::max(1, *len);
      }
      std::vector<Position> at;
      for (int j = 0; j < modules * sub; ++j) at.push_back({j % sub, count + j});
      mtp_slots = resolve(mixer, ffn, at, sub, ctx);
    }
  }
  if (!slots || (modules > 0 && !mtp_slots)) return std::nullopt;

  Uses uses;
  uses.add(slots->mixer);
  uses.add(slots->ffn);
  if (mtp_slots) {
    uses.add(mtp_slots->mixer);
    uses.add(mtp_slots->ffn);
  }
  if (uses.attention) read_attention(*decl, r, who, n, uses);
  read_ffn(r, who, n, uses);
  read_mixers(*decl, r, who, n, uses);
  n.tied = r.boolean("tie_word_embeddings", false);
  for (const char* key : {"torch_dtype", "dtype"}) {
    const nlohmann::json* value = config.find(key);
    if (value != nullptr && value->is_string()) {
      n.dtype = value->get<std::string>();
      break;
    }
  }
  if (diags.count(Severity::kError) != errors_before) return std::nullopt;

  Model model;
  model.config_file = config.doc.file;
  model.architecture = config.architecture;
  model.model_type = config.model_type;
  model.family = decl->family;
  model.verified = decl->verified;
  model.dtype = n.dtype;
  model.num_hidden_layers = count;
  model.num_mtp_layers = mtp_slots ? modules * sub : 0;
  model.hidden_size = n.hidden;
  model.vocab_size = n.vocab;

  auto simple = [&](LayerKind kind, const std::string& prefix) {
    Layer l;
    l.kind = kind;
    l.prefix = prefix;
    l.hidden_size = n.hidden;
    l.vocab_size = n.vocab;
    l.tied = n.tied;
    return l;
  };
  Assembler assemble(*decl, n, r, model);
  model.layers.push_back(simple(LayerKind::kEmbedding, decl->prefixes.embedding));
  for (int i = 0; i < count; ++i) {
    std::string root = format_prefix(decl->prefixes.layer, "", i, i);
    assemble.layer(slots->mixer[static_cast<std::size_t>(i)], slots->ffn[static_cast<std::size_t>(i)],
                   root, i, i, false);
  }
  for (int j = 0; j < model.num_mtp_layers; ++j) {
    int index = count + j;
    std::string root = format_prefix(decl->mtp->layer, "", index, j);
    if (j % sub == 0) {
      Layer head = simple(LayerKind::kMtp, format_prefix(decl->mtp->head, root, index, j));
      head.index = index;
      head.mtp = true;
      model.layers.push_back(std::move(head));
    }
    auto u = static_cast<std::size_t>(j);
    assemble.layer(mtp_slots->mixer[u], mtp_slots->ffn[u], root, index, j, true);
  }
  model.layers.push_back(simple(LayerKind::kLmHead, decl->prefixes.lm_head));
  if (diags.count(Severity::kError) != errors_before) return std::nullopt;
  return model;
}

}  // namespace layerplan
