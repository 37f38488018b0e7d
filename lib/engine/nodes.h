// Where the ranks land: what the user says about nodes, and the placement an engine derives.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/rules.h"

namespace layerplan {

struct NodeRequest {
  std::optional<std::int64_t> gpus_per_node;  // layerplan's --gpus-per-node
  std::optional<Axis> nnodes;                 // vLLM's --nnodes / -n (value and where it was given)
  std::optional<Axis> node_rank;              // vLLM's --node-rank / -r
  std::optional<Axis> dp_local;               // vLLM's --data-parallel-size-local / -dpl
  [[nodiscard]] bool any() const { return gpus_per_node || nnodes || dp_local; }
};

struct NodePlacement {
  std::int64_t ranks_per_node = 0;
  std::string derived_from;                      // "--nnodes 2", "--gpus-per-node 8", …
  std::vector<std::vector<std::int64_t>> nodes;  // node -> its ranks, ascending
  [[nodiscard]] std::int64_t node_of(std::int64_t rank) const { return rank / ranks_per_node; }
};

}  // namespace layerplan
