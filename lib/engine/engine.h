// The engine seam. Everything layerplan knows about how an inference engine turns a plan into
// processes lives behind this interface: which axis combinations it accepts, the plan a layer
// gets when no rule names it, the checks its model construction implies, the rank groups it
// builds and their order, how it splits layers into pipeline stages, and what each layer holds
// and sends per rank. The rest of lib/ asks these questions and never answers them itself.
//
// One engine is modelled today: vLLM (lib/engine/vllm.h), pinned to one commit of its main
// branch plus the unmerged per-layer PRs of RFC #42659. docs/vllm-fidelity.md lists every
// behaviour with the vLLM function it follows and the test that pins it. A second engine
// (SGLang, TensorRT-LLM) implements this interface; the checks, the manifest writer and the CLI
// stay as they are.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lib/diagnostics.h"
#include "lib/engine/nodes.h"
#include "lib/engine/vllm_layout.h"
#include "lib/layer_facts.h"
#include "lib/memory.h"
#include "lib/model.h"
#include "lib/resolver.h"

namespace layerplan {

struct HfConfig;

// Which engine, at which source revision, a manifest models.
struct EngineInfo {
  std::string name;       // "vllm"
  std::string commit;     // full commit of the engine's main branch the model follows
  std::string date;       // that commit's date, YYYY-MM-DD
  std::string per_layer;  // where the per-layer (RFC) semantics come from
};

// The command line that launches a checked plan on the engine, and what no flag of it can say.
struct LaunchCommand {
  // Something a rules file asks for that the engine's flags cannot express.
  struct Unexpressed {
    int rule = -1;          // rule position; -1 for the axes
    std::string rule_name;  // its label, may be empty
    Location location;      // the rule's value (or the axis declaration)
    std::string field;      // "tp_size", "dcp_size", "ep_size", or an axis name
    std::int64_t value = 0;
    std::int64_t flags_value = 0;  // what the command gives instead
    std::vector<std::string> layers;
    std::string reason;
  };
  std::vector<std::string> argv;                         // program, subcommand, MODEL, flags
  std::vector<std::pair<std::string, std::string>> env;  // variables to set
  std::string runnable_on;                               // "vllm-main", "rfc-prs" or "none"
  std::vector<std::string> prs;  // the unmerged PRs the command needs (rfc-prs)
  std::vector<Unexpressed> not_expressible;
  // `VAR=value … argv…`, each word quoted for a POSIX shell where it needs it.
  [[nodiscard]] std::string shell_line() const;
};

class Engine {
 public:
  virtual ~Engine() = default;

  [[nodiscard]] virtual const EngineInfo& info() const = 0;

  // The plan a layer gets when no rule gives it one: what the engine does today with global flags.
  [[nodiscard]] virtual ResolvedPlan global_plan(const Layer& layer, const AxisValues& axes,
                                                 const RulesFile& rules) const = 0;

  // The engine's own rules (its parallel config validation, what its model code refuses) are rows
  // of the check table (lib/checks.cc) that name the engine.

  // The rank groups the engine builds, and their count before building them.
  [[nodiscard]] virtual LayoutSize layout_size(const AxisValues& axes,
                                               const std::vector<LayerPlan>& plans) const = 0;
  [[nodiscard]] virtual Layout build_layout(const AxisValues& axes,
                                            const std::vector<LayerPlan>& plans) const = 0;
  // Decoder layers per pipeline stage: the axes' partition when it has one, else the engine's
  // split.
  [[nodiscard]] virtual std::vector<Stage> pipeline_stages(int num_layers,
                                                           const AxisValues& axes) const = 0;

  // What one layer is under its plan (lib/layer_facts.h): plan fields with their group sets,
  // sizes per rank, and the collectives it issues per token; and the collectives between
  // pipeline stages. Collectives come without group sizes (layer_facts adds them).
  [[nodiscard]] virtual PlanFields plan_fields(const LayerPlan& plan,
                                               const AxisValues& axes) const = 0;
  [[nodiscard]] virtual PerRankSizes per_rank(const LayerPlan& plan,
                                              const AxisValues& axes) const = 0;
  [[nodiscard]] virtual std::vector<Collective> comms(const LayerPlan& plan,
                                                      const AxisValues& axes) const = 0;
  [[nodiscard]] virtual std::vector<Collective> pipeline_comms(const Model& model,
                                                               const AxisValues& axes) const = 0;

  // The launch command of a checked plan; `model_arg` stands for the model (MODEL).
  [[nodiscard]] virtual LaunchCommand launch_command(const Model& model, const RulesFile& rules,
                                                     const AxisValues& axes,
                                                     const std::vector<LayerPlan>& plans,
                                                     const std::string& model_arg) const = 0;
  // Which node each rank lands on, the way the engine places them; reports a request the engine
  // would refuse and warns about a tp, dcp or attention-TP group that spans nodes. Nothing when
  // the request says nothing about nodes, or on an error.
  [[nodiscard]] virtual std::optional<NodePlacement> place_nodes(const NodeRequest& request,
                                                                 const AxisValues& axes,
                                                                 const Layout& layout,
                                                                 const Location& where,
                                                                 Diagnostics& diags) const = 0;
  // Memory per rank (lib/memory.h): every layer's weights, KV cache per token and state per
  // sequence under its plan, totals per pipeline stage. Reports quant-unknown.
  [[nodiscard]] virtual MemoryPlan memory(const HfConfig& config, const Model& model,
                                          const std::vector<LayerPlan>& plans,
                                          const AxisValues& axes, Diagnostics& diags) const = 0;
  // What that leaves for the KV cache on a GPU, as the engine sizes it.
  [[nodiscard]] virtual FitResult fit(const MemoryPlan& memory, const Model& model,
                                      const std::vector<LayerPlan>& plans, const AxisValues& axes,
                                      const FitRequest& request) const = 0;
};

}  // namespace layerplan
