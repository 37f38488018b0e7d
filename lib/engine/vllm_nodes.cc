// Ranks to nodes the way vLLM places them. v1/executor/multiproc_executor.py::MultiprocExecutor
// starts ranks local_world_size * node_rank_within_dp + local_rank on each node, and
// config/parallel.py::ParallelConfig.local_world_size / nnodes_within_dp split a DP replica's
// world over nodes; DP replicas fill nodes data_parallel_size_local at a time. With the global
// rank dp_rank * (tp*pp*pcp) + rank-in-replica (distributed/parallel_state.py::
// initialize_model_parallel), every node holds a run of consecutive ranks.
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "lib/engine/vllm.h"

namespace layerplan {
namespace {

void warn_spanning_groups(const NodePlacement& placement, const Layout& layout,
                          const AxisValues& axes, const Location& where, Diagnostics& diags) {
  for (const auto& set : layout.sets) {
    if (set.name != "tp" && set.name != "dcp" && set.name != "attn_tp") continue;
    std::int64_t spanning = 0;
    std::optional<std::vector<std::int64_t>> example;
    for (std::int64_t g = 0; g < set.count(); ++g) {
      std::int64_t home = placement.node_of(set.rank(g, 0));
      bool spans = false;
      for (std::int64_t i = 1; i < set.group_size && !spans; ++i) {
        spans = placement.node_of(set.rank(g, i)) != home;
      }
      if (!spans) continue;
      ++spanning;
      if (!example) example = set.group(g);
    }
    if (!example) continue;
    std::vector<std::int64_t> nodes;
    for (auto r : *example) {
      std::int64_t n = placement.node_of(r);
      if (std::find(nodes.begin(), nodes.end(), n) == nodes.end()) nodes.push_back(n);
    }
    Diagnostic d = make_warning(
        "group-spans-nodes",
        axes.location(set.name == "dcp"  ? "dcp"
                      : set.name == "tp" ? "tp"
                                         : "attn_tp",
                      where),
        fmt::format("{} of the {} '{}' groups span nodes: [{}] runs on nodes {}, so its "
                    "collectives leave NVLink",
                    spanning, set.count(), set.name, fmt::join(*example, ", "),
                    fmt::join(nodes, ", ")));
    d.notes.push_back(
        {{},
         fmt::format("{} ranks a node ({})", placement.ranks_per_node, placement.derived_from)});
    diags.report(std::move(d));
  }
}

}  // namespace

std::optional<NodePlacement> vllm_place_nodes(const NodeRequest& request, const AxisValues& axes,
                                              const Layout& layout, const Location& where,
                                              Diagnostics& diags) {
  if (!request.any()) return std::nullopt;
  const std::int64_t world = axes.world_size;
  const std::int64_t replica = axes.tp * axes.pp * axes.pcp;
  NodePlacement placement;
  bool failed = false;
  auto refuse = [&](const Location& loc, std::string message) {
    diags.report(make_error("nodes-invalid", loc, std::move(message)));
    failed = true;
  };
  if (request.nnodes) {
    const Axis& n = *request.nnodes;
    // engine/arg_utils.py::EngineArgs.create_engine_config: "`--nnodes N` must evenly divide
    // the total world size".
    if (world % n.value != 0) {
      refuse(n.location, fmt::format("--nnodes {} must evenly divide the world size ({}), as vLLM "
                                     "requires",
                                     n.value, world));
    } else {
      placement.ranks_per_node = world / n.value;
      placement.derived_from = fmt::format("--nnodes {}", n.value);
    }
    if (request.node_rank && request.node_rank->value >= n.value) {
      refuse(request.node_rank->location,
             fmt::format("--node-rank {} must be between 0 and {}, as vLLM requires",
                         request.node_rank->value, n.value - 1));
    }
  } else if (request.dp_local) {
    const Axis& l = *request.dp_local;
    if (l.value > axes.dp || axes.dp % l.value != 0) {
      refuse(l.location, fmt::format("--data-parallel-size-local {} must divide "
                                     "--data-parallel-size {}: each node runs that many replicas",
                                     l.value, axes.dp));
    } else {
      placement.ranks_per_node = l.value * replica;
      placement.derived_from =
          fmt::format("--data-parallel-size-local {} replicas of {} ranks", l.value, replica);
    }
  } else if (request.node_rank) {
    refuse(request.node_rank->location, "--node-rank needs --nnodes");
  }
  if (request.gpus_per_node) {
    std::int64_t g = *request.gpus_per_node;
    if (placement.ranks_per_node == 0) {
      placement.ranks_per_node = g;
      placement.derived_from = fmt::format("--gpus-per-node {}", g);
    } else if (placement.ranks_per_node > g) {
      refuse(where, fmt::format("{} puts {} ranks on a node, more than --gpus-per-node {}",
                                placement.derived_from, placement.ranks_per_node, g));
    }
  }
  if (failed || placement.ranks_per_node == 0) return std::nullopt;
  for (std::int64_t r = 0; r < world; ++r) {
    if (r % placement.ranks_per_node == 0) placement.nodes.emplace_back();
    placement.nodes.back().push_back(r);
  }
  warn_spanning_groups(placement, layout, axes, where, diags);
  return placement;
}

}  // namespace layerplan
