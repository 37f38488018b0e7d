// Rank layout: the exact rank groups of every axis, in vLLM's order (all_ranks reshaped to
// (dp, pp, pcp, tp), TP fastest), and the layer range of each pipeline stage.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lib/resolver.h"

namespace layerplan {

struct GroupSet {
  std::string name;
  std::vector<std::vector<std::int64_t>> groups;  // each in rank-in-group order
};

struct Layout {
  // vLLM's sets in its creation order, also where their groups hold one rank: world, tp, dcp,
  // pcp, pp, dp, and ep for a model with a MoE layer; then layerplan's own: attn_tp, tp_sub<k>,
  // ep<k> and etp<k> (RFC-level EP sizes other than vLLM's dp*pcp*tp).
  std::vector<GroupSet> sets;
  [[nodiscard]] const GroupSet* find(std::string_view name) const;
};

// Names of the group sets a plan uses (null when the layer is not split along that field).
[[nodiscard]] std::string tp_group_name(std::int64_t tp_size, const AxisValues& axes);
// "ep" for vLLM's EP size dp*pcp*tp, "ep<k>" for another size k > 1, "" for 1.
[[nodiscard]] std::string ep_group_name(std::int64_t ep_size, const AxisValues& axes);
[[nodiscard]] std::string etp_group_name(std::int64_t ep_size, const AxisValues& axes);

// Requires axes whose world size does not overflow and is within kMaxWorldSize, and attn_tp | tp.
// Any dcp >= 1 is laid out (vLLM accepts 1, pcp and tp*pcp when pcp > 1, divisors of tp otherwise).
[[nodiscard]] Layout build_layout(const AxisValues& axes, const std::vector<LayerPlan>& plans);

// Most rank entries the groups of one plan may list, over all group sets: four sets for the
// largest world (kMaxWorldSize). Every plan lists six (world, tp, dcp, pcp, pp, dp: vLLM builds
// them all), seven for MoE models, so the largest world written is about 600,000 ranks. That
// manifest is about 45 MB and takes about 0.5 GB and 4 s to write; real plans list thousands of
// entries, not millions.
inline constexpr std::int64_t kMaxLayoutEntries = std::int64_t{1} << 22;

// What build_layout would produce, counted without building it: the number of group sets and of
// rank entries over all of them. Requires a world size that does not overflow.
struct LayoutSize {
  std::int64_t sets = 0;
  std::int64_t entries = 0;
};
[[nodiscard]] LayoutSize layout_size(const AxisValues& axes, const std::vector<LayerPlan>& plans);

struct Stage {
  int stage = 0;
  int first_layer = 0;  // inclusive
  int last_layer = 0;   // inclusive
};

// vLLM's get_pp_indices: VLLM_PP_LAYER_PARTITION when set (a `partition` of pp entries summing
// to num_layers; anything else is ignored here, the checks refuse it), else L // pp layers each,
// the remainder to stages -2, -3, ...
[[nodiscard]] std::vector<Stage> pipeline_stages(int num_layers, std::int64_t pp,
                                                 const std::vector<std::int64_t>& partition = {});
[[nodiscard]] int stage_of(const std::vector<Stage>& stages, int layer_index);

}  // namespace layerplan
