// The resolver: global axis values, and for every layer the first rule that matches it and the
// plan it resolves to (the global plan when none matches).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lib/model.h"
#include "lib/rules.h"

namespace layerplan {

class Engine;

// Every built-in axis with its value (1 when the file does not declare it; attn_tp defaults to
// tp), plus user-defined axes.
struct AxisValues {
  std::int64_t tp = 1, attn_tp = 1, dcp = 1, pcp = 1, pp = 1, dp = 1;
  std::optional<std::int64_t> ep;          // declared ep axis, if any
  std::vector<std::int64_t> pp_partition;  // layers per stage when given (VLLM_PP_LAYER_PARTITION)
  Location pp_partition_location;
  std::map<std::string, std::int64_t> custom;
  std::map<std::string, Location> locations;  // declared axes only
  std::int64_t world_size = 1;                // tp*pp*dp*pcp, once checked not to overflow
  bool world_overflows = false;

  [[nodiscard]] std::optional<std::int64_t> value(std::string_view name) const;
  [[nodiscard]] Location location(std::string_view name, const Location& fallback) const;
};

[[nodiscard]] AxisValues resolve_axes(const RulesFile& rules);

struct ResolvedField {
  std::int64_t value = 1;
  std::string axis;   // axis name it came from, "" for a literal
  Location location;  // the rule's value, or the axis declaration on fallback
  bool from_rule = false;
};

struct ResolvedPlan {
  ResolvedField tp_size, dcp_size, ep_size;
};

struct LayerPlan {
  const Layer* layer = nullptr;
  int rule = -1;             // winning rule position, -1 on fallback
  std::vector<int> matched;  // every matching rule, in order
  ResolvedPlan plan;
  [[nodiscard]] bool fallback() const { return rule < 0; }
};

// A plan field taken from an axis: names the axis when the file declares it, and points at its
// declaration (else at the axes section).
[[nodiscard]] ResolvedField axis_field(const AxisValues& axes, const RulesFile& rules,
                                       std::string_view axis, std::int64_t value);

// Whether `rule` matches `layer`; `reasons` (if given) receives one line per matcher.
[[nodiscard]] bool rule_matches(const Rule& rule, const Layer& layer,
                                std::vector<std::string>* reasons = nullptr);

// Every layer's plan: the first matching rule's fields over the engine's global plan.
[[nodiscard]] std::vector<LayerPlan> resolve_layers(const Model& model, const RulesFile& rules,
                                                    const AxisValues& axes, const Engine& engine);

}  // namespace layerplan
