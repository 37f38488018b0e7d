// vLLM's launch line as input: `[VLLM_PP_LAYER_PARTITION=… ]vllm serve MODEL -tp 8 …` or just its
// parallel flags, read the way vLLM's argument parser reads them (engine/arg_utils.py::
// EngineArgs.add_cli_args, utils/argparse_utils.py::FlexibleArgumentParser). The result is a
// RulesFile whose locations point into the argument text, so the checks, the renderer and its
// caret treat it exactly as a rules file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/diagnostics.h"
#include "lib/engine/nodes.h"
#include "lib/rules.h"

namespace layerplan {

struct VllmLaunch {
  RulesFile rules;    // the plan vLLM builds from the flags: axes, and one rule for -tpa
  std::string model;  // MODEL of `vllm serve MODEL` (or --model); empty when not given
  Location model_location;
  NodeRequest nodes;
  std::vector<std::string> ignored;  // flags and variables that do not shape parallelism
};

// Parses a launch line. Reports every problem (syntax, unknown parallel flags with did-you-mean,
// values vLLM rejects) at its column in `text`, and one note listing the ignored flags. Returns
// nothing iff it reported an error.
[[nodiscard]] std::optional<VllmLaunch> parse_vllm_args(const SourcePtr& text, Diagnostics& diags);

}  // namespace layerplan
