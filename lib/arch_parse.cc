// Reading architecture declarations (schemas/architectures/*.yaml and --arch-file) into ArchDecl.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "lib/architectures.h"
#include "lib/yaml_source.h"

namespace layerplan {
namespace {

const std::vector<std::string> kDeclKeys = {"family",
                                            "verified",
                                            "architectures",
                                            "model_types",
                                            "aliases",
                                            "prefixes",
                                            "mixer",
                                            "ffn",
                                            "mtp",
                                            "indexer",
                                            "mamba",
                                            "mtp_count",
                                            "tp_limited_by_experts",
                                            "mlp_divides_world",
                                            "moe_min_experts",
                                            "ignored",
                                            "weights"};
const std::vector<std::string> kPrefixKeys = {"embedding", "layer", "attention", "mlp",
                                              "ffn",       "moe",   "mamba",     "linear_attention",
                                              "indexer",   "mtp",   "lm_head"};
const std::vector<std::string> kSourceKeys = {"encoding", "field", "offset", "values",
                                              "value",    "match", "other"};
const std::vector<std::string> kMtpKeys = {"count", "default", "layer",     "head",
                                           "mixer", "ffn",     "embedding", "lm_head"};
const std::vector<std::string> kIgnoredKeys = {"slot", "source", "why"};
// `weights`: one key per WeightFacts member (lib/model.h); a value is true, false or a
// config-field form {field, default} / {field, equals, default}.
const std::vector<std::string> kWeightFactKeys = {
    "o_bias",    "qk_norm",     "qk_norm_full", "gated_q",    "sinks",
    "gated_mlp", "router_bias", "expert_bias",  "score_bias", "shared_expert_gate"};
const std::vector<std::string> kWeightFormKeys = {"field", "default", "equals"};

WeightFact* weight_fact_slot(WeightFacts& w, std::string_view key) {
  if (key == "o_bias") return &w.o_bias;
  if (key == "qk_norm") return &w.qk_norm;
  if (key == "qk_norm_full") return &w.qk_norm_full;
  if (key == "gated_q") return &w.gated_q;
  if (key == "sinks") return &w.sinks;
  if (key == "gated_mlp") return &w.gated_mlp;
  if (key == "router_bias") return &w.router_bias;
  if (key == "expert_bias") return &w.expert_bias;
  if (key == "score_bias") return &w.score_bias;
  if (key == "shared_expert_gate") return &w.shared_expert_gate;
  return nullptr;
}

enum class SlotKind { kMixer, kFfn };

LayerSource uniform_source(Part part) {
  LayerSource s;
  s.value = part;
  return s;
}

// Reads one declaration; reports into `diags` and counts its own errors.
class DeclParser {
 public:
  DeclParser(const SourcePtr& file, Diagnostics& diags) : file_(file), diags_(diags) {}

  std::optional<ArchDecl> parse(const YAML::Node& node);

 private:
  void error(const YAML::Node& at, std::string message) {
    diags_.report(make_error("arch-declaration", location_of(file_, at), std::move(message)));
  }
  bool string_of(const YamlEntry& entry, std::string& out);
  bool bool_of(const YamlEntry& entry, bool& out);
  void verified(const YamlEntry& entry, ArchDecl& decl);
  void ignored(const YamlEntry& entry, ArchDecl& decl);
  void weights(const YamlEntry& entry, ArchDecl& decl);
  std::optional<WeightFact> weight_fact(const YamlEntry& entry);
  bool strings_of(const YamlEntry& entry, std::vector<std::string>& out);
  std::optional<Part> part_of(const YAML::Node& node, std::string_view what, SlotKind slot);
  std::vector<LayerSource> sources(const YamlEntry& entry, SlotKind slot);
  std::optional<LayerSource> source(const YAML::Node& node, SlotKind slot);
  void prefixes(const YamlEntry& entry, ArchDecl& decl, std::string& legacy_mtp);
  std::optional<MtpDecl> mtp(const YamlEntry& entry);

  const SourcePtr& file_;
  Diagnostics& diags_;
};

bool DeclParser::string_of(const YamlEntry& entry, std::string& out) {
  if (!entry.value.IsScalar()) {
    error(entry.value, fmt::format("'{}' must be a string", entry.key));
    return false;
  }
  out = entry.value.Scalar();
  return true;
}

bool DeclParser::bool_of(const YamlEntry& entry, bool& out) {
  if (!entry.value.IsScalar() ||
      (entry.value.Scalar() != "true" && entry.value.Scalar() != "false")) {
    error(entry.value, fmt::format("'{}' must be true or false", entry.key));
    return false;
  }
  out = entry.value.Scalar() == "true";
  return true;
}

// `verified`: true / false, or {ArchitectureClass: [PR, ...]} naming the vLLM PRs whose
// per-layer migration covers each class (the RFC #42659 whitelist).
void DeclParser::verified(const YamlEntry& entry, ArchDecl& decl) {
  if (entry.value.IsScalar()) {
    (void)bool_of(entry, decl.verified_all);
    return;
  }
  if (!entry.value.IsMap()) {
    error(entry.value, "'verified' must be true, false or a mapping {architecture: [PR, ...]}");
    return;
  }
  for (const auto& e : map_entries(file_, entry.value, "verified", {}, diags_)) {
    std::vector<std::string> prs;
    if (!strings_of(e, prs)) continue;
    if (prs.empty() ||
        std::any_of(prs.begin(), prs.end(), [](const auto& p) { return p.empty(); })) {
      error(e.value,
            fmt::format("'verified' of {} must name the PRs that verify it, e.g. [\"#48456\"]",
                        e.key));
      continue;
    }
    decl.verified_by[e.key] = prs;
  }
}

// `ignored`: [{slot: mixer|ffn, source: <layer source>, why: "vllm/...py::Class.function ..."}]
void DeclParser::ignored(const YamlEntry& entry, ArchDecl& decl) {
  if (!entry.value.IsSequence()) {
    error(entry.value, "'ignored' must be a list of {slot, source, why}");
    return;
  }
  for (const auto& item : entry.value) {
    if (!item.IsMap()) {
      error(item, "an 'ignored' entry is a mapping {slot, source, why}");
      continue;
    }
    IgnoredSource ig;
    ig.location = location_of(file_, item);
    std::optional<SlotKind> slot;
    YAML::Node source;
    for (const auto& e : map_entries(file_, item, "an 'ignored' entry", kIgnoredKeys, diags_)) {
      std::string text;
      if (e.key == "source") {
        source = e.value;
      } else if (string_of(e, text)) {
        if (e.key == "why")
          ig.why = text;
        else if (text == "mixer")
          slot = SlotKind::kMixer;
        else if (text == "ffn")
          slot = SlotKind::kFfn;
        else
          error(e.value, "'slot' must be mixer or ffn");
      }
    }
    if (!slot || !source || ig.why.empty()) {
      error(item, "an 'ignored' entry needs 'slot', 'source' and 'why'");
      continue;
    }
    ig.mixer = *slot == SlotKind::kMixer;
    auto s = this->source(source, *slot);
    if (!s) continue;
    ig.source = std::move(*s);
    decl.ignored.push_back(std::move(ig));
  }
}

// `weights`: {o_bias: false, qk_norm: {field: use_qk_norm, default: false}, ...}. A key left
// out keeps WeightFacts' default; every key given replaces it whole.
void DeclParser::weights(const YamlEntry& entry, ArchDecl& decl) {
  if (!entry.value.IsMap()) {
    error(entry.value, "'weights' must be a mapping {fact: true | false | {field, default}}");
    return;
  }
  for (const auto& e : map_entries(file_, entry.value, "weights", kWeightFactKeys, diags_)) {
    WeightFact* slot = weight_fact_slot(decl.weights, e.key);
    if (slot == nullptr) continue;  // map_entries reported the unknown key
    if (auto fact = weight_fact(e)) *slot = std::move(*fact);
  }
}

std::optional<WeightFact> DeclParser::weight_fact(const YamlEntry& entry) {
  WeightFact fact;
  if (entry.value.IsScalar()) {
    if (!bool_of(entry, fact.value)) return std::nullopt;
    return fact;
  }
  if (!entry.value.IsMap()) {
    error(entry.value, fmt::format("'{}' must be true, false or {{field: <config key>, default: "
                                   "true|false}}",
                                   entry.key));
    return std::nullopt;
  }
  bool ok = true;
  std::string context = fmt::format("weights.{}", entry.key);
  for (const auto& e : map_entries(file_, entry.value, context, kWeightFormKeys, diags_)) {
    if (e.key == "default") {
      ok = bool_of(e, fact.value) && ok;
    } else if (e.key == "field" || e.key == "equals") {
      std::string text;
      if (!string_of(e, text)) {
        ok = false;
      } else if (text.empty()) {
        error(e.value, fmt::format("'{}' of weights.{} must not be empty", e.key, entry.key));
        ok = false;
      } else {
        (e.key == "field" ? fact.field : fact.equals) = text;
      }
    } else {
      ok = false;  // map_entries reported the unknown key
    }
  }
  if (fact.field.empty() && ok) {
    error(entry.value,
          fmt::format("weights.{} needs 'field', the config.json key that decides it", entry.key));
    return std::nullopt;
  }
  if (!ok) return std::nullopt;
  return fact;
}

bool DeclParser::strings_of(const YamlEntry& entry, std::vector<std::string>& out) {
  if (!entry.value.IsSequence()) {
    error(entry.value, fmt::format("'{}' must be a list of strings", entry.key));
    return false;
  }
  for (const auto& item : entry.value) {
    if (!item.IsScalar()) {
      error(item, fmt::format("'{}' must be a list of strings", entry.key));
      return false;
    }
    out.push_back(item.Scalar());
  }
  return true;
}

std::optional<Part> DeclParser::part_of(const YAML::Node& node, std::string_view what,
                                        SlotKind slot) {
  bool mixer = slot == SlotKind::kMixer;
  std::vector<std::string> allowed;
  for (Part p : {Part::kNone, Part::kAttention, Part::kFullAttention, Part::kSlidingAttention,
                 Part::kMamba, Part::kLinearAttention, Part::kMlp, Part::kMoe}) {
    if (p == Part::kNone || (mixer ? is_mixer_part(p) : is_ffn_part(p))) {
      allowed.emplace_back(part_name(p));
    }
  }
  std::optional<Part> part = node.IsScalar() ? parse_part(node.Scalar()) : std::nullopt;
  if (!part || std::find(allowed.begin(), allowed.end(), part_name(*part)) == allowed.end()) {
    error(node, fmt::format("{} of a {} source must be one of: {}", what, mixer ? "mixer" : "ffn",
                            fmt::join(allowed, ", ")));
    return std::nullopt;
  }
  return part;
}

std::optional<LayerSource> DeclParser::source(const YAML::Node& node, SlotKind slot) {
  LayerSource s;
  s.location = location_of(file_, node);
  if (node.IsScalar()) {
    // Shorthands: a part name (uniform), or an encoding that takes no parameters.
    std::string text = node.Scalar();
    if (text == "dense_then_moe" || text == "sparse_step" || text == "first_k_dense") {
      s.encoding = text == "dense_then_moe" ? Encoding::kDenseThenMoe
                   : text == "sparse_step"  ? Encoding::kSparseStep
                                            : Encoding::kFirstKDense;
    } else if (text == "dense" && slot == SlotKind::kFfn) {
      s.value = Part::kMlp;
    } else {
      auto part = part_of(node, "a uniform value", slot);
      if (!part) return std::nullopt;
      s.value = *part;
    }
  } else if (node.IsMap()) {
    bool ok = true;
    std::optional<Encoding> encoding;
    YAML::Node values;
    bool have_values = false;
    for (const auto& e : map_entries(file_, node, "a layer source", kSourceKeys, diags_)) {
      std::string text;
      if (e.key == "values") {
        values = e.value;
        have_values = true;
        continue;
      }
      if (!string_of(e, text)) {
        ok = false;
        continue;
      }
      if (e.key == "encoding") {
        const auto& names = encoding_names();
        auto it = std::find(names.begin(), names.end(), text);
        if (it == names.end()) {
          error(e.value,
                fmt::format("unknown encoding '{}'; known: {}", text, fmt::join(names, ", ")));
          ok = false;
        } else {
          encoding = static_cast<Encoding>(it - names.begin());
        }
      } else if (e.key == "field") {
        s.field = text;
      } else if (e.key == "offset") {
        s.offset_field = text;
      } else {
        auto part = part_of(e.value, fmt::format("'{}'", e.key), slot);
        if (!part)
          ok = false;
        else if (e.key == "value")
          s.value = *part;
        else if (e.key == "match")
          s.match = *part;
        else
          s.other = *part;
      }
    }
    if (!encoding) {
      if (ok)
        error(node, fmt::format("a layer source needs 'encoding' (one of: {})",
                                fmt::join(encoding_names(), ", ")));
      return std::nullopt;
    }
    s.encoding = *encoding;
    if (have_values) {
      if (!values.IsMap()) {
        error(values, "'values' must map a config value to a part");
        ok = false;
      } else {
        for (const auto& v : map_entries(file_, values, "values", {}, diags_)) {
          auto part = part_of(v.value, fmt::format("the value of '{}'", v.key), slot);
          if (!part)
            ok = false;
          else
            s.values[v.key] = *part;
          if (s.encoding == Encoding::kPattern && v.key.size() != 1) {
            error(v.key_node,
                  fmt::format("pattern characters are single characters, got '{}'", v.key));
            ok = false;
          }
        }
      }
    }
    if (!ok) return std::nullopt;
  } else {
    error(node, "a layer source is a part name or a mapping with 'encoding'");
    return std::nullopt;
  }

  auto need = [&](bool present, std::string_view key) {
    if (!present) {
      error(node, fmt::format("a '{}' source needs '{}'", encoding_name(s.encoding), key));
    }
    return present;
  };
  bool ok = true;
  switch (s.encoding) {
    case Encoding::kUniform:
      break;
    case Encoding::kList:
    case Encoding::kPattern:
      ok = need(!s.field.empty(), "field") && need(!s.values.empty(), "values");
      break;
    case Encoding::kPeriod:
      ok = need(!s.field.empty(), "field") && need(!s.offset_field.empty(), "offset") &&
           need(s.match != Part::kNone || s.other != Part::kNone, "match");
      break;
    case Encoding::kInterval:
      ok = need(!s.field.empty(), "field") &&
           need(s.match != Part::kNone || s.other != Part::kNone, "match");
      break;
    case Encoding::kDenseThenMoe:
    case Encoding::kSparseStep:
    case Encoding::kFirstKDense:
      if (slot != SlotKind::kFfn) {
        error(node, fmt::format("'{}' decides the feed-forward slot; it cannot be a mixer source",
                                encoding_name(s.encoding)));
        ok = false;
      }
      break;
    case Encoding::kBlockConfigs:
      if (s.field.empty()) s.field = "block_configs";
      break;
  }
  if (!ok) return std::nullopt;
  return s;
}

std::vector<LayerSource> DeclParser::sources(const YamlEntry& entry, SlotKind slot) {
  std::vector<LayerSource> out;
  if (entry.value.IsSequence()) {
    for (const auto& item : entry.value) {
      if (auto s = source(item, slot)) out.push_back(std::move(*s));
    }
    if (entry.value.size() == 0) error(entry.value, fmt::format("'{}' lists no source", entry.key));
  } else if (auto s = source(entry.value, slot)) {
    out.push_back(std::move(*s));
  }
  return out;
}

void DeclParser::prefixes(const YamlEntry& entry, ArchDecl& decl, std::string& legacy_mtp) {
  if (!entry.value.IsMap()) {
    error(entry.value, "'prefixes' must be a mapping");
    return;
  }
  bool moe_given = false;
  Prefixes& p = decl.prefixes;
  for (const auto& e : map_entries(file_, entry.value, "prefixes", kPrefixKeys, diags_)) {
    std::string value;
    if (!string_of(e, value)) continue;
    if (e.key == "embedding")
      p.embedding = value;
    else if (e.key == "layer")
      p.layer = value;
    else if (e.key == "attention")
      p.attention = value;
    else if (e.key == "mlp" || e.key == "ffn")
      p.mlp = value;
    else if (e.key == "moe") {
      p.moe = value;
      moe_given = true;
    } else if (e.key == "mamba")
      p.mamba = value;
    else if (e.key == "linear_attention")
      p.linear_attention = value;
    else if (e.key == "indexer")
      p.indexer = value;
    else if (e.key == "mtp")
      legacy_mtp = value;
    else if (e.key == "lm_head")
      p.lm_head = value;
  }
  if (!moe_given) p.moe = p.mlp;
}

std::optional<MtpDecl> DeclParser::mtp(const YamlEntry& entry) {
  if (!entry.value.IsMap()) {
    error(entry.value, "'mtp' must be a mapping");
    return std::nullopt;
  }
  MtpDecl m;
  m.location = location_of(file_, entry.value);
  for (const auto& e : map_entries(file_, entry.value, "mtp", kMtpKeys, diags_)) {
    std::string value;
    if (e.key == "mixer") {
      m.mixer = sources(e, SlotKind::kMixer);
    } else if (e.key == "ffn") {
      m.ffn = sources(e, SlotKind::kFfn);
    } else if (string_of(e, value)) {
      if (e.key == "count") {
        if (auto n = parse_integer(value); n && *n >= 0 && *n <= 64) {
          m.count = static_cast<int>(*n);
        } else if (!value.empty() && !std::isdigit(static_cast<unsigned char>(value[0]))) {
          m.count_field = value;
        } else {
          error(e.value, "'count' is a config key or an integer in [0, 64]");
        }
      } else if (e.key == "default") {
        auto n = parse_integer(value);
        if (n && *n >= 0 && *n <= 64)
          m.count = static_cast<int>(*n);
        else
          error(e.value, "'default' is an integer in [0, 64]");
      } else if (e.key == "layer") {
        m.layer = value;
      } else if (e.key == "embedding") {
        m.embedding = value;
      } else if (e.key == "lm_head") {
        m.lm_head = value;
      } else {
        m.head = value;
      }
    }
  }
  if (m.count_field.empty() && !m.count) error(entry.value, "'mtp' needs 'count'");
  return m;
}

std::optional<ArchDecl> DeclParser::parse(const YAML::Node& node) {
  int errors_before = diags_.count(Severity::kError);
  if (!node.IsMap()) {
    error(node, "an architecture declaration must be a mapping");
    return std::nullopt;
  }
  ArchDecl decl;
  decl.source = file_->path;
  std::string legacy_mtp_prefix, legacy_mtp_count;
  for (const auto& e : map_entries(file_, node, "an architecture declaration", kDeclKeys, diags_)) {
    if (e.key == "family") {
      (void)string_of(e, decl.family);
    } else if (e.key == "verified") {
      verified(e, decl);
    } else if (e.key == "tp_limited_by_experts") {
      (void)bool_of(e, decl.tp_limited_by_experts);
    } else if (e.key == "mlp_divides_world") {
      (void)bool_of(e, decl.mlp_divides_world);
    } else if (e.key == "moe_min_experts") {
      auto n = e.value.IsScalar() ? parse_integer(e.value.Scalar()) : std::nullopt;
      if (n && *n >= 0 && *n <= kMaxDimension)
        decl.moe_min_experts = static_cast<int>(*n);
      else
        error(e.value, "'moe_min_experts' must be a non-negative integer");
    } else if (e.key == "ignored") {
      ignored(e, decl);
    } else if (e.key == "weights") {
      weights(e, decl);
    } else if (e.key == "architectures") {
      (void)strings_of(e, decl.architectures);
    } else if (e.key == "model_types") {
      (void)strings_of(e, decl.model_types);
    } else if (e.key == "aliases") {
      if (!e.value.IsMap()) {
        error(e.value, "'aliases' must map a field name to a list of config keys");
        continue;
      }
      for (const auto& alias : map_entries(file_, e.value, "aliases", {}, diags_)) {
        std::vector<std::string> keys;
        if (strings_of(alias, keys)) decl.aliases[alias.key] = keys;
      }
    } else if (e.key == "prefixes") {
      prefixes(e, decl, legacy_mtp_prefix);
    } else if (e.key == "mixer") {
      decl.mixer = sources(e, SlotKind::kMixer);
    } else if (e.key == "ffn") {
      decl.ffn = sources(e, SlotKind::kFfn);
    } else if (e.key == "mtp") {
      decl.mtp = mtp(e);
    } else if (e.key == "indexer") {
      (void)string_of(e, decl.indexer_field);
    } else if (e.key == "mamba") {
      std::string value;
      if (!string_of(e, value)) continue;
      if (value == "mamba1")
        decl.mamba = MambaVersion::kMamba1;
      else if (value == "mamba2")
        decl.mamba = MambaVersion::kMamba2;
      else
        error(e.value, "'mamba' must be mamba1 or mamba2");
    } else if (e.key == "mtp_count") {
      (void)string_of(e, legacy_mtp_count);
    }
  }
  if (!legacy_mtp_count.empty() && !decl.mtp) {
    decl.mtp = MtpDecl{};
    decl.mtp->count_field = legacy_mtp_count;
  }
  if (!legacy_mtp_prefix.empty() && decl.mtp) decl.mtp->layer = legacy_mtp_prefix;
  if (decl.family.empty()) error(node, "an architecture declaration needs 'family'");
  if (decl.architectures.empty() && decl.model_types.empty()) {
    error(node, "an architecture declaration needs 'architectures' or 'model_types'");
  }
  for (const auto& [arch, prs] : decl.verified_by) {
    if (std::find(decl.architectures.begin(), decl.architectures.end(), arch) ==
        decl.architectures.end()) {
      error(node, fmt::format("'verified' names {}, which is not in 'architectures'", arch));
    }
  }
  if (decl.mixer.empty()) decl.mixer.push_back(uniform_source(Part::kAttention));
  if (decl.ffn.empty()) decl.ffn.push_back(uniform_source(Part::kMlp));
  if (diags_.count(Severity::kError) != errors_before) return std::nullopt;
  return decl;
}

}  // namespace

std::optional<std::vector<ArchDecl>> parse_arch_decls(const SourcePtr& source, Diagnostics& diags) {
  auto root = load_yaml(source, diags);
  if (!root) return std::nullopt;
  std::vector<YAML::Node> nodes;
  if (root->IsSequence()) {
    for (const auto& n : *root) nodes.push_back(n);
  } else {
    nodes.push_back(*root);
  }
  bool ok = true;
  std::vector<ArchDecl> parsed;
  DeclParser parser(source, diags);
  for (const auto& n : nodes) {
    auto decl = parser.parse(n);
    if (!decl) {
      ok = false;
      continue;
    }
    parsed.push_back(std::move(*decl));
  }
  if (!ok) return std::nullopt;
  return parsed;
}

}  // namespace layerplan
