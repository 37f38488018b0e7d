// Layer expansion: config.json + architecture declaration -> ordered layer list. The slot
// encodings live in expand_slots.cc and expand_blocks.cc, the numbers the layers need are read
// in expand_numbers.cc; this file assembles the layers, the MTP layers, the embedding and the
// LM head.
#include <fmt/format.h>

#include <algorithm>

#include "lib/expand_internal.h"

namespace layerplan {

using expand_detail::derived;
using expand_detail::is_attention;
using expand_detail::Numbers;
using expand_detail::Position;
using expand_detail::SlotContext;
using expand_detail::SlotEntry;
using expand_detail::Uses;

namespace {

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
    bool sliding =
        e.part == Part::kSlidingAttention || (e.part == Part::kAttention && n_.global_sliding);
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
      r_.diagnostics().report(
          make_error("config-invalid-field", r_.config().locate(n_.intermediate_key),
                     fmt::format("{} lists {} widths, fewer than the model's MLP layers",
                                 n_.intermediate_key, n_.intermediate_list->size())));
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

// vllm/model_executor/models/jamba.py::JambaMambaDecoderLayer.__init__ (and the attention
// layer's): MoE only where config.layers_num_experts[i] > 1, else a dense MLP. A declaration's
// moe_min_experts says so as data: below it, the layers the ffn sources make MoE are MLPs.
void apply_moe_min_experts(const ArchDecl& decl, ConfigReader& r, std::vector<SlotEntry>& ffn) {
  if (decl.moe_min_experts <= 0) return;
  ConfigValue experts = r.integer("num_experts", "", 0);
  if (experts && experts.value >= decl.moe_min_experts) return;
  for (auto& e : ffn) {
    if (e.part == Part::kMoe) e.part = Part::kMlp;
  }
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

// What a JSON file that names neither architectures nor model_type is, by its keys: the files
// that sit beside config.json in a model repository.
std::string what_it_is(const nlohmann::json& root) {
  auto has = [&](std::initializer_list<const char*> keys) {
    return std::any_of(keys.begin(), keys.end(), [&](const char* k) { return root.contains(k); });
  };
  if (has({"peft_type", "lora_alpha"})) {
    auto base = root.find("base_model_name_or_path");
    return fmt::format(
        "it looks like a PEFT adapter's adapter_config.json; --config wants the "
        "base model's config.json{}",
        base != root.end() && base->is_string() ? fmt::format(" ({})", base->get<std::string>())
                                                : std::string());
  }
  if (has({"do_sample", "temperature", "top_p", "top_k", "max_new_tokens", "repetition_penalty"}) ||
      (has({"bos_token_id", "eos_token_id"}) && !has({"hidden_size", "n_embd", "d_model"}))) {
    return "it looks like a generation_config.json (sampling defaults for generate()); --config "
           "wants the config.json beside it";
  }
  if (has({"tokenizer_class", "added_tokens_decoder", "chat_template", "model_max_length"})) {
    return "it looks like a tokenizer_config.json; --config wants the config.json beside it";
  }
  if (has({"weight_map"})) {
    return "it looks like a safetensors index (model.safetensors.index.json); --config wants the "
           "config.json beside it";
  }
  if (has({"image_processor_type", "feature_extractor_type", "processor_class"})) {
    return "it looks like a preprocessor_config.json; --config wants the config.json beside it";
  }
  if (has({"quant_method", "quantization"}) && !has({"hidden_size"})) {
    return "it looks like a quantization config; --config wants the model's config.json";
  }
  return "a model's config.json names its class, such as \"architectures\": "
         "[\"LlamaForCausalLM\"], and its \"model_type\"";
}

Diagnostic unknown_architecture(const HfConfig& config, const ArchRegistry& registry) {
  if (config.architecture.empty() && config.model_type.empty()) {
    Diagnostic d = make_error("config-not-a-model", config.locate_pointer(""),
                              "this file names neither 'architectures' nor 'model_type': it is "
                              "not a model's config.json");
    d.notes.push_back({{}, what_it_is(config.doc.value)});
    return d;
  }
  Diagnostic d =
      make_error("arch-unknown", config.locate_pointer("/architectures"),
                 fmt::format("architecture '{}' (model_type '{}') is not one layerplan knows",
                             config.architecture.empty() ? "(none)" : config.architecture,
                             config.model_type.empty() ? "(none)" : config.model_type));
  d.notes.push_back(
      {{},
       fmt::format("known architectures: {}", fmt::join(registry.known_architectures(), ", "))});
  d.notes.push_back({{},
                     "describe a new family in a YAML declaration and pass it with "
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
  std::string who =
      fmt::format("{} ({})", config.architecture.empty() ? config.model_type : config.architecture,
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
  if (slots) {
    apply_moe_min_experts(*decl, r, slots->ffn);
    Diagnostics scratch_diags;
    ConfigReader scratch_reader(config, scratch_diags, aliases);
    SlotContext scratch{*decl, scratch_reader, who};
    expand_detail::warn_ignored(decl->ignored, slots->mixer, slots->ffn, decoder, count, scratch,
                                diags);
  }

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
      if (mtp_slots) apply_moe_min_experts(*decl, r, mtp_slots->ffn);
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
  expand_detail::read_numbers(*decl, r, who, uses, n);
  if (diags.count(Severity::kError) != errors_before) return std::nullopt;

  Model model;
  model.config_file = config.doc.file;
  model.architecture = config.architecture;
  model.model_type = config.model_type;
  model.family = decl->family;
  // Verification is per architecture class: a model matched by model_type alone is not.
  model.verified_by = decl->verified_prs(config.architecture);
  model.verified = !model.verified_by.empty();
  model.tp_limited_by_experts = decl->tp_limited_by_experts;
  model.mlp_divides_world = decl->mlp_divides_world;
  model.weights = decl->weights;
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
  // Room for every layer at once (a decoder layer gives at most three: mixer, indexer, ffn;
  // an MTP layer also a head, an embedding and an LM head): a Layer is large, and a vector
  // that grows copies them all and touches fresh memory each time.
  model.layers.reserve(static_cast<std::size_t>(3 * count + 6 * model.num_mtp_layers + 2));
  model.layers.push_back(simple(LayerKind::kEmbedding, decl->prefixes.embedding));
  for (int i = 0; i < count; ++i) {
    std::string root = format_prefix(decl->prefixes.layer, "", i, i);
    assemble.layer(slots->mixer[static_cast<std::size_t>(i)],
                   slots->ffn[static_cast<std::size_t>(i)], root, i, i, false);
  }
  // The MTP draft's own vocab-parallel embedding and LM heads (vllm/model_executor/models/
  // deepseek_mtp.py: DeepSeekMultiTokenPredictor.embed_tokens, SharedHead.head per layer).
  auto mtp_vocab = [&](LayerKind kind, const std::string& pattern, const std::string& root,
                       int index, int ordinal) {
    Layer l = simple(kind, format_prefix(pattern, root, index, ordinal));
    l.index = index;
    l.mtp = true;
    l.tied = false;
    model.layers.push_back(std::move(l));
  };
  const std::string mtp_head = model.num_mtp_layers > 0 ? decl->mtp->lm_head : std::string();
  bool head_per_module = mtp_head.find('{') != std::string::npos;
  if (model.num_mtp_layers > 0 && !decl->mtp->embedding.empty()) {
    mtp_vocab(LayerKind::kEmbedding, decl->mtp->embedding, "", count, 0);
  }
  std::string module_root;
  for (int j = 0; j < model.num_mtp_layers; ++j) {
    int index = count + j;
    std::string root = format_prefix(decl->mtp->layer, "", index, j);
    if (j % sub == 0) module_root = root;
    if (j % sub == 0) {
      Layer head = simple(LayerKind::kMtp, format_prefix(decl->mtp->head, root, index, j));
      head.index = index;
      head.mtp = true;
      model.layers.push_back(std::move(head));
    }
    auto u = static_cast<std::size_t>(j);
    assemble.layer(mtp_slots->mixer[u], mtp_slots->ffn[u], root, index, j, true);
    if (head_per_module && j % sub == sub - 1) {
      mtp_vocab(LayerKind::kLmHead, mtp_head, module_root, index - sub + 1, j - sub + 1);
    }
  }
  if (!mtp_head.empty() && !head_per_module) {
    mtp_vocab(LayerKind::kLmHead, mtp_head, "", count + model.num_mtp_layers - 1, 0);
  }
  model.layers.push_back(simple(LayerKind::kLmHead, decl->prefixes.lm_head));
  if (diags.count(Severity::kError) != errors_before) return std::nullopt;
  return model;
}

}  // namespace layerplan
