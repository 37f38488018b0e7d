// What vLLM builds for one layer under its plan: the plan fields with the group sets they use,
// the sizes each rank holds, and the collectives the layer issues per token (lib/layer_facts.h).
// Engine knowledge: the facts stage, memory and fit ask these functions, they never compute such
// facts themselves.
#pragma once

#include <vector>

#include "lib/layer_facts.h"
#include "lib/model.h"
#include "lib/resolver.h"

namespace layerplan {

[[nodiscard]] PlanFields layer_plan_fields(const LayerPlan& plan, const AxisValues& axes);
[[nodiscard]] PerRankSizes layer_per_rank(const LayerPlan& plan, const AxisValues& axes);
[[nodiscard]] std::vector<Collective> layer_comms(const LayerPlan& plan, const AxisValues& axes);
// Collectives between pipeline stages.
[[nodiscard]] std::vector<Collective> pipeline_comms(const Model& model, const AxisValues& axes);

}  // namespace layerplan
