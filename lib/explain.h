// `layerplan explain --layer PREFIX`: which rules matched one layer, which won and why, and what
// the layer is under its plan (its facts, lib/layer_facts.h). This computes; cli/explain_command.cc
// renders the result as text, or as JSON through explanation_json.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/layer_facts.h"
#include "lib/pipeline.h"

namespace layerplan {

// One rule of the file tested against the layer, in file order (the first match wins).
struct RuleMatch {
  const Rule* rule = nullptr;
  bool matched = false;
  bool chosen = false;               // the rule the layer's plan came from
  std::vector<std::string> reasons;  // why it matches or not (rule_matches)
};

// A group set as `explain` names it: its size and first group.
struct GroupSetSummary {
  std::string name;
  std::int64_t count = 0;
  std::vector<std::int64_t> first;
};

struct LayerExplanation {
  const LayerPlan* plan = nullptr;  // the layer, the winning rule and each field's origin
  std::vector<RuleMatch> rules;
  LayerFacts facts;       // no stage: a plan that failed its checks may have no valid split
  bool laid_out = false;  // the plan checked clean and its groups were built
  std::optional<GroupSetSummary> tp_group_set;  // the set the layer's tp_group names, if laid out
  Diagnostics diagnostics;  // those about this layer or the plan as a whole, subjects cleared
};

// One layer of `c` (a compilation with a model and rules, checked clean or not) explained.
[[nodiscard]] LayerExplanation explain_layer(const Compilation& c, const LayerPlan& plan);
// The layer with prefix `prefix` explained. Nothing when the model has no such layer; then
// `closest` (when given) receives the nearest prefix it has, or stays empty.
[[nodiscard]] std::optional<LayerExplanation> explain_layer(const Compilation& c,
                                                            std::string_view prefix,
                                                            std::string* closest = nullptr);

// `explain --format json`: the layer's identity, every rule's verdict, its plan, shape, per-rank
// sizes and collectives.
[[nodiscard]] nlohmann::ordered_json explanation_json(const LayerExplanation& e);

}  // namespace layerplan
