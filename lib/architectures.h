// Architecture declarations: which config.json classes a family answers to, how its config
// encodes the layer sequence, and its module prefixes. Families are data (YAML under
// schemas/architectures/, compiled in); users add their own with --arch-file. The encodings
// themselves (a pattern string, a period and offset, a per-layer list, ...) are C++; a family
// that uses a known encoding is a declaration only. docs/architectures.md describes the format.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lib/diagnostics.h"
#include "lib/hf_config.h"
#include "lib/model.h"

namespace layerplan {

// What one slot of a decoder layer holds. A decoder layer has two slots: the sequence mixer
// (attention, Mamba, linear attention, or nothing) and the feed-forward (MLP, MoE, or nothing).
enum class Part {
  kNone,              // no module in this slot (no-op layer, or the other slot holds the block)
  kAttention,         // attention; sliding when the model's sliding_window applies to every layer
  kFullAttention,     // attention, never sliding
  kSlidingAttention,  // attention with the sliding_window of config.json
  kMamba,
  kLinearAttention,
  kMlp,
  kMoe,
};

[[nodiscard]] std::string_view part_name(Part part);
[[nodiscard]] std::optional<Part> parse_part(std::string_view name);
[[nodiscard]] bool is_mixer_part(Part part);
[[nodiscard]] bool is_ffn_part(Part part);

// How config.json says which part a layer has.
enum class Encoding {
  kUniform,       // every layer the same part
  kList,          // a per-layer list (layer_types, layers_block_type, mlp_layer_types, ...)
  kPattern,       // a string, one character per layer (hybrid_override_pattern)
  kPeriod,        // `match` iff i % period == offset, else `other` (Jamba)
  kInterval,      // `match` iff (i + 1) % interval == 0, else `other` (Qwen3-Next)
  kDenseThenMoe,  // MoE iff experts and i >= first_k_dense_replace and i % moe_layer_freq == 0
  kSparseStep,  // MoE iff experts and i not in mlp_only_layers and (i+1) % decoder_sparse_step == 0
  kBlockConfigs,  // DeciLM / Nemotron-NAS per-layer block_configs
  kFirstKDense,   // MoE iff experts and i >= first_k_dense_replace (GLM-4.5: no moe_layer_freq)
};

[[nodiscard]] std::string_view encoding_name(Encoding encoding);
[[nodiscard]] const std::vector<std::string>& encoding_names();

// One way of reading a slot out of config.json. A slot lists several; the first that applies
// (its config key is present) wins, so explicit per-layer lists can override compact forms.
struct LayerSource {
  Encoding encoding = Encoding::kUniform;
  std::string field;         // list, pattern, block_configs: the key; period, interval: the period
  std::string offset_field;  // period: the offset key
  std::map<std::string, Part, std::less<>> values;  // list, pattern: element -> part
  Part value = Part::kNone;                         // uniform
  Part match = Part::kNone, other = Part::kNone;    // period, interval
  Location location;                                // in the declaration
  bool operator==(const LayerSource&) const = default;
};

struct Prefixes {
  std::string embedding = "model.embed_tokens";
  std::string layer = "model.layers.{i}";  // the root of decoder layer i
  // Module prefixes; "{layer}" is the layer root (decoder or MTP), "{i}" the layer index and
  // "{j}" the MTP sub-layer ordinal.
  std::string attention = "{layer}.self_attn";
  std::string mlp = "{layer}.mlp";
  std::string moe = "{layer}.mlp";
  std::string mamba = "{layer}.mixer";
  std::string linear_attention = "{layer}.linear_attn";
  std::string indexer = "{layer}.self_attn.indexer";
  std::string lm_head = "lm_head";
  bool operator==(const Prefixes&) const = default;
};

// Multi-token-prediction layers appended after the decoder stack. Each MTP module has
// `sublayers` decoder-like sub-layers (one, or the length of an MTP pattern); sub-layer j
// (counted over all modules) has index num_hidden_layers + j.
struct MtpDecl {
  std::string count_field;   // canonical field giving the number of MTP modules
  std::optional<int> count;  // the count when count_field is absent (or there is none)
  std::string layer = "model.layers.{i}";  // the root of MTP sub-layer j
  std::string head = "{layer}";            // the MTP head (enorm, hnorm, eh_proj) of each module
  // The draft model's own vocab-parallel embedding (once, before the MTP layers) and LM head
  // (once per module when the prefix names {layer}, {i} or {j}; else once, after them).
  // Empty: the draft builds none.
  std::string embedding;
  std::string lm_head;
  std::vector<LayerSource> mixer;  // empty: the decoder's sources at index L + j
  std::vector<LayerSource> ffn;
  Location location;
  bool operator==(const MtpDecl&) const = default;
};

enum class MambaVersion { kMamba1, kMamba2 };

// A config field vLLM's model code does not read for a slot (it decides the layer kind itself):
// when the field is present and `source` would give another part than the one vLLM builds,
// expansion warns with config-ignored. `why` names the vLLM code that decides.
struct IgnoredSource {
  bool mixer = true;  // the slot: mixer or feed-forward
  LayerSource source;
  std::string why;
  Location location;
  bool operator==(const IgnoredSource&) const = default;
};

struct ArchDecl {
  std::string source;  // "builtin:llama.yaml" or the --arch-file path
  std::string family;
  // Architecture class -> the vLLM PRs whose per-layer migration covers it (the whitelist).
  // `verified: true` (every architecture, unattributed) sets verified_all instead.
  std::map<std::string, std::vector<std::string>, std::less<>> verified_by;
  bool verified_all = false;
  std::vector<std::string> architectures;
  std::vector<std::string> model_types;
  FieldAliases aliases;  // the declaration's own, in front of the defaults
  Prefixes prefixes;
  std::vector<LayerSource> mixer;  // default: every layer attention
  std::vector<LayerSource> ffn;    // default: every layer a dense MLP
  std::optional<MtpDecl> mtp;
  std::string indexer_field;  // config key whose presence gives each attention layer an indexer
  MambaVersion mamba = MambaVersion::kMamba2;
  // A layer the ffn sources make MoE is a dense MLP unless the model has at least this many
  // experts (Jamba: layers_num_experts[i] > 1). 0: no condition.
  int moe_min_experts = 0;
  std::vector<IgnoredSource> ignored;
  // Family facts other stages read (copied onto Model): vLLM raises when tp > experts; the
  // MLP width must divide the whole torch world (tp * pp * pcp * dp).
  bool tp_limited_by_experts = false;
  bool mlp_divides_world = false;
  // Which weights vLLM's model code builds (map `weights`; copied onto Model).
  WeightFacts weights;

  // The PRs verifying `architecture` under this declaration; empty: not verified.
  [[nodiscard]] std::vector<std::string> verified_prs(std::string_view architecture) const;
  // Every field (lib/arch_codec.cc must carry each one: tests/lib/arch_codec_test.cc).
  bool operator==(const ArchDecl&) const = default;
};

class ArchRegistry {
 public:
  // The families compiled into layerplan. Their declarations are parsed when first needed:
  // find() parses only the built-in files whose text names what it looks for, so a run that
  // expands one model reads one family (the listings below parse them all).
  [[nodiscard]] static ArchRegistry builtin();
  // Adds the declarations of a user file; reports arch-declaration errors.
  [[nodiscard]] bool add_file(const std::string& path, Diagnostics& diags);
  [[nodiscard]] bool add_source(const SourcePtr& source, Diagnostics& diags);

  // The declaration answering to `architecture` (or, failing that, `model_type`).
  [[nodiscard]] const ArchDecl* find(std::string_view architecture,
                                     std::string_view model_type) const;
  // Every declaration, in the order find() searches them.
  [[nodiscard]] const std::vector<ArchDecl>& decls() const;
  // "LlamaForCausalLM (#42674, #48456)", one per verified architecture, sorted.
  [[nodiscard]] std::vector<std::string> verified_architectures() const;
  [[nodiscard]] std::vector<std::string> known_architectures() const;

 private:
  // One built-in file: its embedded text, its declarations as the build encoded them
  // (lib/arch_codec.h) and, once decoded, the declarations.
  struct BuiltinFile {
    std::string_view name;
    std::string_view text;
    std::string_view encoded;
    bool parsed = false;
    std::vector<ArchDecl> decls;
  };
  void parse_builtin(BuiltinFile& file) const;
  void parse_all_builtins() const;
  // Calls `visit` on each declaration in search order (user files, the latest first, then the
  // built-in files, the latest first) until it returns true; built-in files whose text does not
  // contain `needle` are skipped unparsed (an empty needle parses them all).
  template <typename Visit>
  const ArchDecl* search(std::string_view needle, Visit visit) const;

  std::vector<ArchDecl> decls_;  // from user files
  mutable std::vector<BuiltinFile> builtins_;
  mutable std::vector<ArchDecl> all_;  // decls(): filled on demand
};

// Parses the declarations of one YAML file (a mapping, or a list of mappings). Reports
// arch-declaration errors; returns nothing iff it reported one.
[[nodiscard]] std::optional<std::vector<ArchDecl>> parse_arch_decls(const SourcePtr& source,
                                                                    Diagnostics& diags);

// Expands a config into its layer sequence. Reports arch-unknown and config errors.
[[nodiscard]] std::optional<Model> expand_model(const HfConfig& config,
                                                const ArchRegistry& registry, Diagnostics& diags);

// Whether a weight fact holds for this config: `value`, or the config field it names (a
// boolean, or a string compared with `equals`; `value` when the field is absent or mistyped).
[[nodiscard]] bool weight_fact_holds(const WeightFact& fact, const HfConfig& config);

// "model.layers.{i}.mlp" with i = 3 -> "model.layers.3.mlp".
[[nodiscard]] std::string expand_prefix(std::string_view pattern, int index);
// Replaces {layer} by `layer_root`, then {i} by `index` and {j} by `ordinal`.
[[nodiscard]] std::string format_prefix(std::string_view pattern, std::string_view layer_root,
                                        int index, int ordinal);

}  // namespace layerplan
