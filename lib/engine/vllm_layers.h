// What vLLM builds for one layer under its plan: the plan fields with the group sets they use,
// the sizes each rank holds, and the collectives the layer issues per token. Engine knowledge:
// the manifest and `explain` ask these functions, they never compute such facts themselves.
#pragma once

#include <nlohmann/json.hpp>

#include "lib/model.h"
#include "lib/resolver.h"

namespace layerplan {

[[nodiscard]] nlohmann::ordered_json layer_plan_json(const LayerPlan& plan, const AxisValues& axes);
[[nodiscard]] nlohmann::ordered_json layer_per_rank(const LayerPlan& plan, const AxisValues& axes);
[[nodiscard]] nlohmann::ordered_json layer_comms(const LayerPlan& plan, const AxisValues& axes);
// Collectives between pipeline stages.
[[nodiscard]] nlohmann::ordered_json pipeline_comms(const Model& model, const AxisValues& axes);

}  // namespace layerplan
