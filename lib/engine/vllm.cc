#include "lib/engine/vllm.h"

#include "lib/engine/vllm_layers.h"
#include "lib/engine/vllm_memory.h"

namespace layerplan {
namespace {

class VllmEngine final : public Engine {
 public:
  const EngineInfo& info() const override {
    static const EngineInfo kInfo{"vllm", kVllmCommit, kVllmCommitDate,
                                  "RFC #42659: PRs #36287, #42674, #48456 (unmerged)"};
    return kInfo;
  }
  ResolvedPlan global_plan(const Layer& layer, const AxisValues& axes,
                           const RulesFile& rules) const override {
    return vllm_global_plan(layer, axes, rules);
  }
  LayoutSize layout_size(const AxisValues& axes,
                         const std::vector<LayerPlan>& plans) const override {
    return layerplan::layout_size(axes, plans);
  }
  Layout build_layout(const AxisValues& axes, const std::vector<LayerPlan>& plans) const override {
    return layerplan::build_layout(axes, plans);
  }
  std::vector<Stage> pipeline_stages(int num_layers, const AxisValues& axes) const override {
    return layerplan::pipeline_stages(num_layers, axes.pp, axes.pp_partition);
  }
  PlanFields plan_fields(const LayerPlan& plan, const AxisValues& axes) const override {
    return layer_plan_fields(plan, axes);
  }
  PerRankSizes per_rank(const LayerPlan& plan, const AxisValues& axes) const override {
    return layer_per_rank(plan, axes);
  }
  std::vector<Collective> comms(const LayerPlan& plan, const AxisValues& axes) const override {
    return layer_comms(plan, axes);
  }
  std::vector<Collective> pipeline_comms(const Model& model,
                                         const AxisValues& axes) const override {
    return layerplan::pipeline_comms(model, axes);
  }
  LaunchCommand launch_command(const Model& model, const RulesFile& rules, const AxisValues& axes,
                               const std::vector<LayerPlan>& plans,
                               const std::string& model_arg) const override {
    return vllm_launch_command(model, rules, axes, plans, model_arg);
  }
  std::optional<NodePlacement> place_nodes(const NodeRequest& request, const AxisValues& axes,
                                           const Layout& layout, const Location& where,
                                           Diagnostics& diags) const override {
    return vllm_place_nodes(request, axes, layout, where, diags);
  }
  MemoryPlan memory(const HfConfig& config, const Model& model, const std::vector<LayerPlan>& plans,
                    const AxisValues& axes, Diagnostics& diags) const override {
    return vllm_memory(config, model, plans, axes, diags);
  }
  FitResult fit(const MemoryPlan& memory, const Model& model, const std::vector<LayerPlan>& plans,
                const AxisValues& axes, const FitRequest& request) const override {
    return vllm_fit(memory, model, plans, axes, request);
  }
};

}  // namespace

const Engine& vllm_engine() {
  static const VllmEngine kEngine;
  return kEngine;
}

}  // namespace layerplan
