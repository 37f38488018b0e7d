// Internal to layer expansion (expand*.cc): reading the slot sources of a declaration into one
// entry per layer. Not part of the library's interface.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lib/architectures.h"

namespace layerplan::expand_detail {

// What a slot source says about one layer: its part, and for per-layer encodings
// (block_configs) the numbers that differ from layer to layer.
struct SlotEntry {
  Part part = Part::kNone;
  ConfigValue kv_heads;        // attention: KV heads of this layer
  ConfigValue sliding_window;  // attention: this layer's window
  ConfigValue intermediate;    // mlp: this layer's width
};

// A layer to fill: its position in a per-layer list or pattern, and its layer index (the two
// differ for MTP sub-layers, whose patterns start at 0 while their index continues the stack).
struct Position {
  int position = 0;
  int index = 0;
};

struct SlotContext {
  const ArchDecl& decl;
  ConfigReader& reader;
  std::string who;  // "NemotronHForCausalLM (nemotron_h)", for messages
};

// The first source of `sources` that applies to this config, or null (with
// config-missing-field reported) when none does.
[[nodiscard]] const LayerSource* applicable_source(const std::vector<LayerSource>& sources,
                                                   std::string_view slot, SlotContext& ctx);

// The number of elements of a list or pattern source, or nothing for other encodings.
[[nodiscard]] std::optional<int> source_length(const LayerSource& source, SlotContext& ctx);

// Evaluates `source` at every position. `length` is the length a list or pattern must have.
// Returns nothing iff it reported an error.
[[nodiscard]] std::optional<std::vector<SlotEntry>> resolve_slot(const LayerSource& source,
                                                                 std::string_view slot,
                                                                 const std::vector<Position>& at,
                                                                 int length, SlotContext& ctx);

// DeciLM / Nemotron-NAS block_configs (expand_blocks.cc): the mixer or ffn entry of each layer.
[[nodiscard]] std::optional<std::vector<SlotEntry>> resolve_block_configs(
    const LayerSource& source, bool mixer, const std::vector<Position>& at, int length,
    SlotContext& ctx);

// Warns (config-ignored) for each of the declaration's ignored sources whose config field is
// present and gives another part than vLLM builds on some decoder layer. `scratch` reads the
// same config into a throw-away sink: an ignored field's own errors are not the user's.
void warn_ignored(const std::vector<IgnoredSource>& ignored, const std::vector<SlotEntry>& mixer,
                  const std::vector<SlotEntry>& ffn, const std::vector<Position>& at, int length,
                  SlotContext& scratch, Diagnostics& diags);

[[nodiscard]] bool is_attention(Part part);

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

// Reads the numbers the parts in `uses` need (and the dtype, vocabulary, tied embeddings),
// reporting every missing or invalid field.
void read_numbers(const ArchDecl& decl, ConfigReader& reader, const std::string& who,
                  const Uses& uses, Numbers& numbers);

inline ConfigValue derived(std::int64_t value, std::string formula) {
  return ConfigValue{value, std::move(formula), Location{}, true};
}

}  // namespace layerplan::expand_detail
