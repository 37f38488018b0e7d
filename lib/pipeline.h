// The pipeline: read inputs, expand the model, parse the rules, resolve, check, lay out ranks.
// Every CLI subcommand calls exactly one function of this file.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/architectures.h"
#include "lib/checks.h"
#include "lib/engine/engine.h"
#include "lib/engine/vllm_args.h"
#include "lib/engine/vllm_layout.h"
#include "lib/hf_config.h"
#include "lib/manifest.h"
#include "lib/model_resolver.h"
#include "lib/resolver.h"
#include "lib/rules.h"

namespace layerplan {

struct CompileRequest {
  std::string config_path;          // config.json, a directory holding one, or a HF model id
  HfCacheEnv hf;                    // where HF model ids are looked up (lib/model_resolver.h)
  std::string rules_path;           // empty: expand the model only
  std::optional<SourcePtr> config;  // given: used instead of reading config_path
  std::optional<SourcePtr> rules;   // given: used instead of reading rules_path
  std::string vllm_args;            // not empty: a vLLM launch line instead of a rules file;
                                    // its MODEL stands for config_path when that is empty
  NodeRequest nodes;                // --gpus-per-node (the launch line adds vLLM's own flags)
  std::vector<std::string> arch_files;
  CheckOptions checks;
  const Engine* engine = nullptr;  // null: vLLM (lib/engine/vllm.h)
  std::optional<FitRequest> fit;   // given: also size the KV cache on this GPU
  // False: the manifest will carry only the compact group layout, so the size of the group
  // lists (world-size-limit's kMaxLayoutEntries) does not bound the plan.
  bool group_lists = true;
};

// Everything one run produced. Not copyable: plans point into the model.
struct Compilation {
  Diagnostics diags;
  const Engine* engine = nullptr;  // never null once compile() returns
  ArchRegistry registry;
  std::optional<HfConfig> config;
  std::optional<Model> model;
  std::optional<RulesFile> rules;
  AxisValues axes;
  std::vector<LayerPlan> plans;
  std::optional<Layout> layout;        // set when the plan checked clean
  std::optional<VllmLaunch> launch;    // the parsed launch line, with --vllm-args
  std::optional<NodePlacement> nodes;  // when the request or the launch line names nodes
  std::string model_arg;               // MODEL in the exported command
  std::optional<MemoryPlan> memory;    // set with layout
  std::optional<FitRequest> fit_request;
  std::optional<FitResult> fit;  // set with layout when the request asked for a fit

  Compilation() = default;
  Compilation(const Compilation&) = delete;
  Compilation& operator=(const Compilation&) = delete;

  // Whether the verdict is "invalid": errors, or warnings under --werror.
  [[nodiscard]] bool failed(bool werror) const;
  // Whether an input could not be read at all (exit code 2 rather than 1).
  [[nodiscard]] bool input_unreadable() const;
  [[nodiscard]] nlohmann::ordered_json manifest(const ManifestInputs& inputs,
                                                const PlanFacts* facts = nullptr) const;
  // Writes the manifest (the bytes dump_json gives for manifest(inputs), plus a newline) to
  // `write` piece by piece: the group lists from the layout's formulas and the layers one at a
  // time, so neither is ever held whole. Returns false when `write` did.
  [[nodiscard]] bool write_manifest(const ManifestInputs& inputs, const ChunkSink& write) const;
  // The engine's launch command for the checked plan (requires a layout).
  [[nodiscard]] LaunchCommand launch_command() const;
  // The plan of the layer with this prefix, or null.
  [[nodiscard]] const LayerPlan* find_layer(std::string_view prefix) const;
};

[[nodiscard]] std::unique_ptr<Compilation> compile(const CompileRequest& request);

}  // namespace layerplan
