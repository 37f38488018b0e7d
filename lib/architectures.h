// Architecture declarations: which config.json classes a family answers to, how its config
// encodes the layer sequence, and its module prefixes. Families are data (YAML under
// schemas/architectures/, compiled in); users add their own with --arch-file.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lib/diagnostics.h"
#include "lib/hf_config.h"
#include "lib/model.h"

namespace layerplan {

// How a family's config says which decoder layers have experts.
enum class FfnEncoding {
  kDense,         // every layer a dense MLP
  kMoe,           // every layer MoE
  kDenseThenMoe,  // MoE iff i >= first_k_dense_replace and i % moe_layer_freq == 0 (DeepSeek)
};

struct ArchDecl {
  std::string source;  // "builtin:llama.yaml" or the --arch-file path
  std::string family;
  bool verified = false;
  std::vector<std::string> architectures;
  std::vector<std::string> model_types;
  FieldAliases aliases;  // the declaration's own, in front of the defaults
  std::string embedding_prefix = "model.embed_tokens";
  std::string attention_prefix = "model.layers.{i}.self_attn";
  std::string ffn_prefix = "model.layers.{i}.mlp";
  std::string moe_prefix;  // defaults to ffn_prefix
  std::string mtp_prefix = "model.layers.{i}";
  std::string lm_head_prefix = "lm_head";
  FfnEncoding ffn = FfnEncoding::kDense;
  std::string mtp_count_field;  // canonical field giving the number of MTP layers, or ""
};

class ArchRegistry {
 public:
  // The families compiled into layerplan.
  [[nodiscard]] static ArchRegistry builtin();
  // Adds the declarations of a user file; reports arch-declaration errors.
  [[nodiscard]] bool add_file(const std::string& path, Diagnostics& diags);
  [[nodiscard]] bool add_source(const SourcePtr& source, Diagnostics& diags);

  // The declaration answering to `architecture` (or, failing that, `model_type`).
  [[nodiscard]] const ArchDecl* find(std::string_view architecture,
                                     std::string_view model_type) const;
  [[nodiscard]] const std::vector<ArchDecl>& decls() const { return decls_; }
  [[nodiscard]] std::vector<std::string> verified_architectures() const;
  [[nodiscard]] std::vector<std::string> known_architectures() const;

 private:
  std::vector<ArchDecl> decls_;
};

// Expands a config into its layer sequence. Reports arch-unknown and config errors.
[[nodiscard]] std::optional<Model> expand_model(const HfConfig& config,
                                                const ArchRegistry& registry,
                                                Diagnostics& diags);

// "model.layers.{i}.mlp" with i = 3 -> "model.layers.3.mlp".
[[nodiscard]] std::string expand_prefix(std::string_view pattern, int index);

}  // namespace layerplan
