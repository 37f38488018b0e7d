// Text tables for terminals: the per-layer plan and the expanded layer list. Consecutive
// decoder layers with the same row are folded into one line with an index range.
#pragma once

#include <string>

#include "lib/pipeline.h"

namespace layerplan::cli {

[[nodiscard]] std::string plan_table(const Compilation& c, bool all_layers);
[[nodiscard]] std::string layers_table(const Model& model, bool all_layers);
[[nodiscard]] std::string groups_table(const Layout& layout, std::size_t max_groups);
// One line a node: its ranks (a run of consecutive ranks).
[[nodiscard]] std::string nodes_table(const NodePlacement& placement);

}  // namespace layerplan::cli
