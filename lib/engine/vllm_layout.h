// Rank layout: the exact rank groups of every axis, in vLLM's order (all_ranks reshaped to
// (dp, pp, pcp, tp), TP fastest), and the layer range of each pipeline stage.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "lib/resolver.h"

namespace layerplan {

// One step of a group set's compact description: walk a mixed-radix index over `sizes`
// (outermost first); position n, with digits n_k, stands for element sum(n_k * strides[k]) of
// the previous step's sequence (of the ranks 0, 1, ..., world-1 for the first step).
struct GroupStep {
  std::vector<std::string> axes;  // what each dimension is, in the walk's order
  std::vector<std::int64_t> sizes;
  std::vector<std::int64_t> strides;
  [[nodiscard]] std::int64_t count() const;  // product of sizes
  // Whether the walk visits every element of a sequence of count() elements exactly once:
  // ordered by stride, the strides of the dimensions larger than 1 are 1, then each the product
  // of the sizes before it (as in every layout build_layout makes). Sizes >= 1 and no overflow are
  // the caller's to check.
  [[nodiscard]] bool is_permutation() const;
  // For a permutation walk: the position at which it visits element `index` (0 <= index <
  // count()).
  [[nodiscard]] std::int64_t position_of(std::int64_t index) const;
};

struct GroupSet {
  std::string name;
  // The compact description the groups are computed from (no list is held): the last step's
  // sequence cut into consecutive chunks of group_size (whole chunks only). Group g's member i
  // is rank(g, i), in rank-in-group order.
  std::vector<GroupStep> steps;
  std::int64_t group_size = 0;
  [[nodiscard]] std::int64_t count() const;  // number of groups
  [[nodiscard]] std::int64_t rank(std::int64_t group, std::int64_t member) const;
  // For a set whose steps are all permutations: the group holding `rank` and its position in it,
  // so that rank(locate(r).first, locate(r).second) == r.
  [[nodiscard]] std::pair<std::int64_t, std::int64_t> locate(std::int64_t rank) const;
  [[nodiscard]] std::vector<std::int64_t> group(std::int64_t g) const;
  [[nodiscard]] std::vector<std::vector<std::int64_t>> groups() const;  // every group, listed
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

// Most rank entries the groups of one plan may list, over all group sets. Every plan lists six
// sets (world, tp, dcp, pcp, pp, dp: vLLM builds them all), seven for MoE models, so the largest
// world (kMaxWorldSize, 2^20 ranks) is written with up to eight sets (attn_tp or the ep set
// besides vLLM's six): 2^23 entries, a manifest of about 75 MB. No list is held in memory (the
// sets are formulas and the manifest streams them), so the limit bounds the file, not memory.
inline constexpr std::int64_t kMaxLayoutEntries = std::int64_t{1} << 23;

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
