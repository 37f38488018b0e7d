// The parallelism_rules file: named axes and ordered rules (matcher -> plan), with the source
// position of everything so checks can point at the exact value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/diagnostics.h"
#include "lib/model.h"
#include "lib/source.h"

namespace layerplan {

// Far more than any hand-written file needs; every rule is matched against every layer.
inline constexpr std::size_t kMaxAxes = 64;
inline constexpr std::size_t kMaxRules = 256;
// A pipeline partition: at most this many stages, each of at most this many layers.
inline constexpr std::size_t kMaxStages = 4096;
inline constexpr std::int64_t kMaxStageLayers = 1000000;

// Axis names with a built-in meaning (vLLM semantics).
inline const std::vector<std::string> kBuiltinAxes = {"tp", "attn_tp", "dcp", "pcp",
                                                      "pp", "dp",      "ep"};

struct Axis {
  std::string name;
  std::int64_t value = 1;
  Location location;       // of the value
  Location name_location;  // of the name (the value's, for world_size)
};

// The built-in axis that `name` (not itself built in) looks like a slip of: the same letters
// without '_' (attntp), its parts in another order (tp_attn), two letters swapped (dpc), or at
// most two edits away from a long one (atn_tp); empty when none.
[[nodiscard]] std::string builtin_axis_near(std::string_view name);

// A plan field: an axis name or a literal integer.
struct PlanValue {
  bool present = false;
  std::string axis;          // empty for a literal
  std::int64_t literal = 0;  // when axis is empty
  Location location;
};

struct Plan {
  PlanValue tp_size, dcp_size, ep_size;
  Location location;
};

struct Matcher {
  std::optional<LayerKind> kind;
  std::optional<Flavor> flavor;
  std::optional<std::string> prefix_pattern;
  std::optional<std::pair<int, int>> layers;  // inclusive index range
  std::optional<bool> mtp;
  Location location;
  Location kind_location, flavor_location, prefix_location, layers_location, mtp_location;
};

struct Rule {
  int position = 0;  // 0-based
  std::string name;  // optional label
  Location location;
  Matcher match;
  Plan plan;
};

// `pipeline: {partition: [31, 30]}`: layers per pipeline stage, as vLLM's
// VLLM_PP_LAYER_PARTITION gives them.
struct PipelinePartition {
  std::vector<std::int64_t> sizes;
  Location location;  // of the list
};

struct RulesFile {
  SourcePtr file;
  // The optional top-level `model:` beside parallelism_rules: a path relative to the rules file
  // or a HuggingFace model id (lib/model_resolver.h); empty when absent.
  std::string model;
  Location model_location;
  std::vector<Axis> axes;  // in file order
  std::optional<Axis> world_size;
  std::optional<PipelinePartition> partition;
  std::vector<Rule> rules;
  Location root;       // the parallelism_rules mapping
  Location axes_root;  // the axes mapping, or root when absent

  [[nodiscard]] const Axis* find_axis(std::string_view name) const;
};

// Parses a rules file; reports every problem it finds. Returns nothing iff it reported an error;
// then `partial`, when given, receives what did parse (axes and the rules without errors), so
// axis-level checks can still run in the same pass.
[[nodiscard]] std::optional<RulesFile> parse_rules(const SourcePtr& file, Diagnostics& diags,
                                                   RulesFile* partial = nullptr);
[[nodiscard]] std::optional<RulesFile> load_rules(const std::string& path, Diagnostics& diags,
                                                  RulesFile* partial = nullptr);

// Whether YAML text has a top-level parallelism_rules key, by a look at the text alone (what a
// directory search picks up, and how a rules file given as --config is recognised).
[[nodiscard]] bool looks_like_rules(std::string_view text);

}  // namespace layerplan
