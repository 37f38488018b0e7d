#include "lib/engine/vllm_layout.h"

#include <algorithm>
#include <array>
#include <set>

#include <fmt/format.h>

namespace layerplan {
namespace {

using Groups = std::vector<std::vector<std::int64_t>>;

struct Grid {
  std::int64_t dp, pp, pcp, tp;
  [[nodiscard]] std::int64_t rank(std::int64_t d, std::int64_t p, std::int64_t c,
                                  std::int64_t t) const {
    return ((d * pp + p) * pcp + c) * tp + t;
  }
  [[nodiscard]] std::int64_t world() const { return dp * pp * pcp * tp; }
};

enum Dim { kDp = 0, kPp = 1, kPcp = 2, kTp = 3 };

// The groups along one dimension of the (dp, pp, pcp, tp) grid, in vLLM's order: the dimension
// is transposed with the last one and the grid reshaped to (-1, size), so the other dimensions
// are walked in their order after that swap.
Groups varying(const Grid& g, Dim dim) {
  std::array<Dim, 4> order = {kDp, kPp, kPcp, kTp};
  std::swap(order[dim], order[kTp]);
  std::array<std::int64_t, 4> size = {g.dp, g.pp, g.pcp, g.tp};
  std::array<std::int64_t, 4> at = {0, 0, 0, 0};
  Groups out;
  for (at[order[0]] = 0; at[order[0]] < size[order[0]]; ++at[order[0]])
    for (at[order[1]] = 0; at[order[1]] < size[order[1]]; ++at[order[1]])
      for (at[order[2]] = 0; at[order[2]] < size[order[2]]; ++at[order[2]]) {
        std::vector<std::int64_t> group;
        for (at[dim] = 0; at[dim] < size[dim]; ++at[dim]) {
          group.push_back(g.rank(at[kDp], at[kPp], at[kPcp], at[kTp]));
        }
        out.push_back(std::move(group));
      }
  return out;
}

// Sub-groups of every TP group of size `size`, taking ranks `tp / size` apart.
Groups strided_tp_subgroups(const Grid& g, std::int64_t size) {
  Groups out;
  std::int64_t stride = g.tp / size;
  for (std::int64_t base = 0; base < g.world(); base += g.tp) {
    for (std::int64_t j = 0; j < stride; ++j) {
      std::vector<std::int64_t> group;
      for (std::int64_t k = 0; k < size; ++k) group.push_back(base + k * stride + j);
      out.push_back(std::move(group));
    }
  }
  return out;
}

Groups chunks(const std::vector<std::int64_t>& ranks, std::int64_t size) {
  Groups out;
  for (std::size_t i = 0; i < ranks.size(); i += static_cast<std::size_t>(size)) {
    out.emplace_back(ranks.begin() + static_cast<std::ptrdiff_t>(i),
                     ranks.begin() + static_cast<std::ptrdiff_t>(i + static_cast<std::size_t>(size)));
  }
  return out;
}

// The expert domain of each PP stage: all dp*pcp*tp ranks, ordered d, c, t. These are vLLM's EP
// groups (parallel_state.py::initialize_model_parallel: all_ranks.transpose(1, 2).reshape(-1,
// dp*pcp*tp)), which it builds for every MoE model, expert parallelism enabled or not.
std::vector<std::vector<std::int64_t>> expert_domains(const Grid& g) {
  std::vector<std::vector<std::int64_t>> domains;
  for (std::int64_t p = 0; p < g.pp; ++p) {
    std::vector<std::int64_t> domain;
    for (std::int64_t d = 0; d < g.dp; ++d)
      for (std::int64_t c = 0; c < g.pcp; ++c)
        for (std::int64_t t = 0; t < g.tp; ++t) domain.push_back(g.rank(d, p, c, t));
    domains.push_back(std::move(domain));
  }
  return domains;
}

// vLLM's DCP groups (parallel_state.py::initialize_model_parallel, since PR #46570): when
// dcp > 1 the (.., pcp, tp) grid is transposed to (.., tp, pcp) ("DCP spans PCP first, then TP")
// and the ranks, walked d, p, t, c, are cut into chunks of dcp. With pcp = 1 these are
// consecutive chunks of each TP group; with dcp = pcp they equal the PCP groups; with
// dcp = tp*pcp one group per (d, p) holds t0c0, t0c1, t1c0, ... Without DCP (dcp = 1) vLLM
// reshapes the untransposed grid: one rank per group, in rank order. A dcp that does not divide
// the world (an invalid plan) gives the whole chunks only.
Groups dcp_groups(const Grid& g, std::int64_t dcp) {
  std::vector<std::int64_t> walk;
  walk.reserve(static_cast<std::size_t>(g.world()));
  for (std::int64_t d = 0; d < g.dp; ++d)
    for (std::int64_t p = 0; p < g.pp; ++p)
      for (std::int64_t t = 0; t < g.tp; ++t)
        for (std::int64_t c = 0; c < g.pcp; ++c) walk.push_back(g.rank(d, p, c, t));
  if (dcp <= 1) std::sort(walk.begin(), walk.end());
  if (dcp < 1) return {};
  walk.resize(walk.size() - walk.size() % static_cast<std::size_t>(dcp));
  return chunks(walk, dcp);
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
  std::vector<std::int64_t> all(static_cast<std::size_t>(g.world()));
  for (std::int64_t r = 0; r < g.world(); ++r) all[static_cast<std::size_t>(r)] = r;

  // vLLM's sets in its creation order (parallel_state.py::initialize_model_parallel: TP, DCP,
  // PCP, PP, DP, then EP for MoE models), each even when its groups hold one rank, then
  // layerplan's own (attn_tp, tp_sub<k>, ep<k>, etp<k>).
  layout.sets.push_back({"world", {all}});
  layout.sets.push_back({"tp", chunks(all, g.tp)});
  layout.sets.push_back({"dcp", dcp_groups(g, axes.dcp)});
  layout.sets.push_back({"pcp", varying(g, kPcp)});
  layout.sets.push_back({"pp", varying(g, kPp)});
  layout.sets.push_back({"dp", varying(g, kDp)});
  auto domains = expert_domains(g);
  if (has_moe(plans)) {
    GroupSet ep{"ep", {}};
    for (const auto& domain : domains) ep.groups.push_back(domain);
    layout.sets.push_back(std::move(ep));
  }
  if (axes.attn_tp < axes.tp)
    layout.sets.push_back({"attn_tp", strided_tp_subgroups(g, axes.attn_tp)});
  std::set<std::int64_t> sub_sizes, ep_sizes;
  distinct_sizes(axes, plans, sub_sizes, ep_sizes);
  for (auto k : sub_sizes)
    layout.sets.push_back({tp_group_name(k, axes), strided_tp_subgroups(g, k)});
  for (auto ep : ep_sizes) {
    GroupSet eps{ep_group_name(ep, axes), {}};
    GroupSet etps{etp_group_name(ep, axes), {}};
    for (const auto& domain : domains) {
      if (static_cast<std::int64_t>(domain.size()) % ep != 0) continue;  // reported by checks
      auto groups = chunks(domain, ep);
      eps.groups.insert(eps.groups.end(), groups.begin(), groups.end());
      for (std::int64_t j = 0; j < ep; ++j) {
        std::vector<std::int64_t> column;
        for (const auto& group : groups) column.push_back(group[static_cast<std::size_t>(j)]);
        etps.groups.push_back(std::move(column));
      }
    }
    if (eps.groups.empty()) continue;  // an ep_size that does not divide the domain
    layout.sets.push_back(std::move(eps));
    if (etps.groups.front().size() > 1) layout.sets.push_back(std::move(etps));
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
