// The vLLM engine model: vLLM main at commit f067737b (2026-08-11) for everything merged, plus
// RFC #42659's per-layer PRs (#36287, #42674, #48456; unmerged) for per-layer plans.
#pragma once

#include "lib/engine/engine.h"

namespace layerplan {

inline constexpr const char* kVllmCommit = "f067737b2a4ba4385f30256baa297200d06300c1";
inline constexpr const char* kVllmCommitDate = "2026-08-11";

[[nodiscard]] const Engine& vllm_engine();

// vLLM's checks are rows of the check table (lib/engine/vllm_checks.h, lib/checks.cc).
// The vocabulary rows vLLM allocates: vocab_size padded to a multiple of 64
// (vocab_parallel_embedding.py::pad_vocab_size).
[[nodiscard]] std::int64_t vllm_padded_vocab(std::int64_t vocab);
[[nodiscard]] ResolvedPlan vllm_global_plan(const Layer& layer, const AxisValues& axes,
                                            const RulesFile& rules);

// `vllm serve MODEL --tensor-parallel-size …` for a checked plan (lib/engine/vllm_launch.cc).
[[nodiscard]] LaunchCommand vllm_launch_command(const Model& model, const RulesFile& rules,
                                                const AxisValues& axes,
                                                const std::vector<LayerPlan>& plans,
                                                const std::string& model_arg);
// Ranks to nodes as vLLM places them (lib/engine/vllm_nodes.cc).
[[nodiscard]] std::optional<NodePlacement> vllm_place_nodes(const NodeRequest& request,
                                                            const AxisValues& axes,
                                                            const Layout& layout,
                                                            const Location& where,
                                                            Diagnostics& diags);

}  // namespace layerplan
