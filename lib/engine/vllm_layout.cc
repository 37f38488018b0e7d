#include "lib/engine/vllm_layout.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <set>

namespace layerplan {
namespace {

struct Grid {
  std::int64_t dp, pp, pcp, tp;
  [[nodiscard]] std::int64_t world() const { return dp * pp * pcp * tp; }
};

enum Dim { kDp = 0, kPp = 1, kPcp = 2, kTp = 3 };
constexpr std::array<const char*, 4> kDimName = {"dp", "pp", "pcp", "tp"};

// One walk over the (dp, pp, pcp, tp) grid (TP fastest in rank order) in the given order of
// its dimensions, outermost first.
GroupStep grid_walk(const Grid& g, std::array<Dim, 4> order) {
  std::array<std::int64_t, 4> size = {g.dp, g.pp, g.pcp, g.tp};
  std::array<std::int64_t, 4> stride = {g.pp * g.pcp * g.tp, g.pcp * g.tp, g.tp, 1};
  GroupStep step;
  for (Dim d : order) {
    step.axes.emplace_back(kDimName[d]);
    step.sizes.push_back(size[d]);
    step.strides.push_back(stride[d]);
  }
  return step;
}

GroupSet walk_set(std::string name, GroupStep step, std::int64_t group_size) {
  GroupSet set;
  set.name = std::move(name);
  set.steps.push_back(std::move(step));
  set.group_size = group_size;
  return set;
}

// The groups along one dimension of the (dp, pp, pcp, tp) grid, in vLLM's order: the dimension
// is transposed with the last one and the grid reshaped to (-1, size), so the other dimensions
// are walked in their order after that swap.
GroupSet varying(const Grid& g, Dim dim, std::string name) {
  std::array<Dim, 4> order = {kDp, kPp, kPcp, kTp};
  std::swap(order[dim], order[kTp]);
  std::array<std::int64_t, 4> size = {g.dp, g.pp, g.pcp, g.tp};
  return walk_set(std::move(name), grid_walk(g, order), size[dim]);
}

// Sub-groups of every TP group of size `size`, taking ranks `tp / size` apart.
GroupSet strided_tp_subgroups(const Grid& g, std::int64_t size, std::string name) {
  GroupStep step = grid_walk(g, {kDp, kPp, kPcp, kTp});
  std::int64_t stride = g.tp / size;
  step.axes.back() = "tp_offset";
  step.sizes.back() = stride;
  step.axes.emplace_back("tp_member");
  step.sizes.push_back(size);
  step.strides.push_back(stride);
  return walk_set(std::move(name), std::move(step), size);
}

// The expert domain of each PP stage: all dp*pcp*tp ranks, ordered d, c, t. These are vLLM's EP
// groups (parallel_state.py::initialize_model_parallel: all_ranks.transpose(1, 2).reshape(-1,
// dp*pcp*tp)), which it builds for every MoE model, expert parallelism enabled or not.
GroupStep expert_domains(const Grid& g) { return grid_walk(g, {kPp, kDp, kPcp, kTp}); }

// vLLM's DCP groups (parallel_state.py::initialize_model_parallel, since PR #46570): when
// dcp > 1 the (.., pcp, tp) grid is transposed to (.., tp, pcp) ("DCP spans PCP first, then TP")
// and the ranks, walked d, p, t, c, are cut into chunks of dcp. With pcp = 1 these are
// consecutive chunks of each TP group; with dcp = pcp they equal the PCP groups; with
// dcp = tp*pcp one group per (d, p) holds t0c0, t0c1, t1c0, ... Without DCP (dcp = 1) vLLM
// reshapes the untransposed grid: one rank per group, in rank order. A dcp that does not divide
// the world (an invalid plan) gives the whole chunks only.
GroupSet dcp_groups(const Grid& g, std::int64_t dcp) {
  if (dcp <= 1)
    return walk_set("dcp", grid_walk(g, {kDp, kPp, kPcp, kTp}), std::max<std::int64_t>(dcp, 0));
  return walk_set("dcp", grid_walk(g, {kDp, kPp, kTp, kPcp}), dcp);
}

// Whether the model has a MoE layer, for which vLLM builds its EP group.
bool has_moe(const std::vector<LayerPlan>& plans) {
  return std::any_of(plans.begin(), plans.end(),
                     [](const LayerPlan& p) { return p.layer->kind == LayerKind::kMoe; });
}

// The layer tp_size values below tp that need their own sub-group sets, and the ep_size values
// of MoE layers that need expert group sets besides vLLM's `ep` (RFC-level EP sizes).
void distinct_sizes(const AxisValues& axes, const std::vector<LayerPlan>& plans,
                    std::set<std::int64_t>& sub_sizes, std::set<std::int64_t>& ep_sizes) {
  for (const auto& p : plans) {
    std::int64_t k = p.plan.tp_size.value;
    if (k > 1 && k < axes.tp && k != axes.attn_tp) sub_sizes.insert(k);
    if (p.layer->kind == LayerKind::kMoe && !ep_group_name(p.plan.ep_size.value, axes).empty() &&
        ep_group_name(p.plan.ep_size.value, axes) != "ep") {
      ep_sizes.insert(p.plan.ep_size.value);
    }
  }
}

}  // namespace

LayoutSize layout_size(const AxisValues& axes, const std::vector<LayerPlan>& plans) {
  std::set<std::int64_t> sub_sizes, ep_sizes;
  distinct_sizes(axes, plans, sub_sizes, ep_sizes);
  // world, tp, dcp, pcp, pp and dp always, ep for a MoE model; each set covers the whole world.
  // (An etp<k> set of one rank per group is left out; counting it anyway only over-estimates.)
  auto sets = static_cast<std::int64_t>(6 + has_moe(plans) + (axes.attn_tp < axes.tp) +
                                        sub_sizes.size() + 2 * ep_sizes.size());
  LayoutSize size{sets, 0};
  if (__builtin_mul_overflow(sets, axes.world_size, &size.entries)) size.entries = INT64_MAX;
  return size;
}

std::int64_t GroupStep::count() const {
  std::int64_t n = 1;
  for (auto size : sizes) n *= size;
  return n;
}

bool GroupStep::is_permutation() const {
  if (sizes.size() != strides.size()) return false;
  // Dimensions of size 1 have one digit, 0, whatever their stride: left out.
  std::vector<std::size_t> order;
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    if (sizes[k] != 1) order.push_back(k);
  }
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return strides[a] != strides[b] ? strides[a] < strides[b] : a > b;
  });
  std::int64_t expected = 1;
  for (std::size_t k : order) {
    if (strides[k] != expected) return false;
    expected *= sizes[k];
  }
  return true;
}

std::int64_t GroupStep::position_of(std::int64_t index) const {
  // Digit k of the position is (index / strides[k]) % sizes[k]; the last dimension is fastest.
  std::int64_t position = 0;
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    position = position * sizes[k] + index / strides[k] % sizes[k];
  }
  return position;
}

std::pair<std::int64_t, std::int64_t> GroupSet::locate(std::int64_t rank) const {
  std::int64_t at = rank;
  for (const auto& step : steps) at = step.position_of(at);
  return {at / group_size, at % group_size};
}

std::int64_t GroupSet::count() const {
  if (steps.empty() || group_size <= 0) return 0;
  return steps.back().count() / group_size;
}

std::int64_t GroupSet::rank(std::int64_t group, std::int64_t member) const {
  std::int64_t at = group * group_size + member;
  for (auto step = steps.rbegin(); step != steps.rend(); ++step) {
    std::int64_t index = 0;
    for (std::size_t k = step->sizes.size(); k-- > 0;) {
      index += at % step->sizes[k] * step->strides[k];
      at /= step->sizes[k];
    }
    at = index;
  }
  return at;
}

std::vector<std::int64_t> GroupSet::group(std::int64_t g) const {
  std::vector<std::int64_t> out(static_cast<std::size_t>(group_size));
  for (std::int64_t i = 0; i < group_size; ++i) out[static_cast<std::size_t>(i)] = rank(g, i);
  return out;
}

std::vector<std::vector<std::int64_t>> GroupSet::groups() const {
  std::vector<std::vector<std::int64_t>> out;
  out.reserve(static_cast<std::size_t>(count()));
  for (std::int64_t g = 0; g < count(); ++g) out.push_back(group(g));
  return out;
}

const GroupSet* Layout::find(std::string_view name) const {
  for (const auto& set : sets) {
    if (set.name == name) return &set;
  }
  return nullptr;
}

std::string tp_group_name(std::int64_t tp_size, const AxisValues& axes) {
  if (tp_size <= 1) return "";
  if (tp_size == axes.tp) return "tp";
  if (tp_size == axes.attn_tp) return "attn_tp";
  return fmt::format("tp_sub{}", tp_size);
}

std::string ep_group_name(std::int64_t ep_size, const AxisValues& axes) {
  if (ep_size <= 1) return "";
  std::int64_t domain = 0;
  if (!__builtin_mul_overflow(axes.dp, axes.pcp, &domain) &&
      !__builtin_mul_overflow(domain, axes.tp, &domain) && ep_size == domain) {
    return "ep";
  }
  return fmt::format("ep{}", ep_size);
}

std::string etp_group_name(std::int64_t ep_size, const AxisValues& axes) {
  std::string ep = ep_group_name(ep_size, axes);
  if (ep.empty()) return "";
  return "etp" + ep.substr(2);  // "ep" -> "etp", "ep8" -> "etp8"
}

Layout build_layout(const AxisValues& axes, const std::vector<LayerPlan>& plans) {
  Grid g{axes.dp, axes.pp, axes.pcp, axes.tp};
  Layout layout;
  const std::array<Dim, 4> rank_order = {kDp, kPp, kPcp, kTp};

  // vLLM's sets in its creation order (parallel_state.py::initialize_model_parallel: TP, DCP,
  // PCP, PP, DP, then EP for MoE models), each even when its groups hold one rank, then
  // layerplan's own (attn_tp, tp_sub<k>, ep<k>, etp<k>). Every set is a formula (GroupSet).
  layout.sets.push_back(walk_set("world", grid_walk(g, rank_order), g.world()));
  layout.sets.push_back(walk_set("tp", grid_walk(g, rank_order), g.tp));
  layout.sets.push_back(dcp_groups(g, axes.dcp));
  layout.sets.push_back(varying(g, kPcp, "pcp"));
  layout.sets.push_back(varying(g, kPp, "pp"));
  layout.sets.push_back(varying(g, kDp, "dp"));
  std::int64_t domain = g.dp * g.pcp * g.tp;
  if (has_moe(plans)) layout.sets.push_back(walk_set("ep", expert_domains(g), domain));
  if (axes.attn_tp < axes.tp)
    layout.sets.push_back(strided_tp_subgroups(g, axes.attn_tp, "attn_tp"));
  std::set<std::int64_t> sub_sizes, ep_sizes;
  distinct_sizes(axes, plans, sub_sizes, ep_sizes);
  for (auto k : sub_sizes)
    layout.sets.push_back(strided_tp_subgroups(g, k, tp_group_name(k, axes)));
  for (auto ep : ep_sizes) {
    if (domain % ep != 0)
      continue;  // an ep_size that does not divide the domain: reported by checks
    layout.sets.push_back(walk_set(ep_group_name(ep, axes), expert_domains(g), ep));
    // etp<k>: member j of every ep<k> group of a domain, walked p, j, then group by group.
    if (domain / ep <= 1) continue;
    GroupSet etp = walk_set(etp_group_name(ep, axes), expert_domains(g), domain / ep);
    etp.steps.push_back(
        {{"pp", "ep_member", "ep_group"}, {g.pp, ep, domain / ep}, {domain, 1, ep}});
    layout.sets.push_back(std::move(etp));
  }
  return layout;
}

std::vector<Stage> pipeline_stages(int num_layers, std::int64_t pp,
                                   const std::vector<std::int64_t>& partition) {
  auto stages_count = static_cast<int>(pp);
  std::vector<int> sizes(static_cast<std::size_t>(stages_count), num_layers / stages_count);
  std::int64_t sum = 0;
  for (auto n : partition) sum += n;
  if (partition.size() == sizes.size() && sum == num_layers) {
    for (std::size_t i = 0; i < sizes.size(); ++i) sizes[i] = static_cast<int>(partition[i]);
  } else {
    int remainder = num_layers % stages_count;
    for (int i = 2; i < remainder + 2; ++i) ++sizes[static_cast<std::size_t>(stages_count - i)];
  }
  std::vector<Stage> stages;
  int first = 0;
  for (int s = 0; s < stages_count; ++s) {
    stages.push_back({s, first, first + sizes[static_cast<std::size_t>(s)] - 1});
    first += sizes[static_cast<std::size_t>(s)];
  }
  return stages;
}

int stage_of(const std::vector<Stage>& stages, int layer_index) {
  for (const auto& s : stages) {
    if (layer_index >= s.first_layer && layer_index <= s.last_layer) return s.stage;
  }
  return stages.empty() ? 0 : stages.back().stage;  // MTP layers run with the last stage
}

}  // namespace layerplan
