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

inline ConfigValue derived(std::int64_t value, std::string formula) {
  return ConfigValue{value, std::move(formula), Location{}, true};
}

}  // namespace layerplan::expand_detail
