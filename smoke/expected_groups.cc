#include "smoke/expected_groups.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>

namespace layerplan::smoke {
namespace {

using Groups = std::vector<std::vector<int>>;

// vLLM's global rank: r = ((d*pp + p)*pcp + c)*tp + t.
struct Layout {
  Axes a;
  [[nodiscard]] int rank(int d, int p, int c, int t) const {
    return ((d * a.pp + p) * a.pcp + c) * a.tp + t;
  }
};

std::string axes_text(const Axes& a) {
  return "tp=" + std::to_string(a.tp) + " attn_tp=" + std::to_string(a.attn_tp) +
         " dcp=" + std::to_string(a.dcp) + " pcp=" + std::to_string(a.pcp) +
         " pp=" + std::to_string(a.pp) + " dp=" + std::to_string(a.dp);
}

// Groups of one TP group split by stride: members t = j + stride*g, g < tp/stride.
Groups strided_in_tp(const Layout& l, int stride) {
  Groups out;
  for (int d = 0; d < l.a.dp; ++d)
    for (int p = 0; p < l.a.pp; ++p)
      for (int c = 0; c < l.a.pcp; ++c)
        for (int j = 0; j < stride; ++j) {
          std::vector<int> g;
          for (int t = j; t < l.a.tp; t += stride) g.push_back(l.rank(d, p, c, t));
          out.push_back(std::move(g));
        }
  return out;
}

// The coordinates of a rank, in the order of vLLM's all_ranks: dp, pp, pcp, tp.
enum RankAxis : std::size_t { kAxisDp = 0, kAxisPp = 1, kAxisPcp = 2, kAxisTp = 3 };

// vLLM's groups along one axis: the ranks equal in every other coordinate, one group for each of
// their combinations walked in (dp, pp, pcp, tp) order, the last fastest.
Groups varying_along(const Layout& l, RankAxis axis) {
  const std::array<int, 4> size{l.a.dp, l.a.pp, l.a.pcp, l.a.tp};
  Groups out;
  if (std::any_of(size.begin(), size.end(), [](int n) { return n < 1; })) return out;
  std::array<int, 4> at{0, 0, 0, 0};
  while (true) {
    std::vector<int>& g = out.emplace_back();
    for (at[axis] = 0; at[axis] < size[axis]; ++at[axis])
      g.push_back(l.rank(at[0], at[1], at[2], at[3]));
    at[axis] = 0;
    std::size_t k = size.size();
    while (k-- > 0) {
      if (k == axis) continue;
      if (++at[k] < size[k]) break;
      at[k] = 0;
    }
    if (k == static_cast<std::size_t>(-1)) return out;
  }
}

// The expert domain of stage p: every (d, c, t) rank, ordered d, c, t.
std::vector<int> expert_domain(const Layout& l, int p) {
  std::vector<int> out;
  for (int d = 0; d < l.a.dp; ++d)
    for (int c = 0; c < l.a.pcp; ++c)
      for (int t = 0; t < l.a.tp; ++t) out.push_back(l.rank(d, p, c, t));
  return out;
}

// EP size: "ep<k>" / "etp<k>" name it (an RFC-level EP size); "ep" / "etp" are vLLM's EP group,
// which always spans the whole expert domain (parallel_state.py::initialize_model_parallel:
// all_ranks.transpose(1, 2).reshape(-1, dp*pcp*tp)), whatever axes.ep or the plans say.
int ep_size(const ManifestView& view, const std::string& name, std::string& source) {
  const std::string digits = name.substr(name.rfind('p') + 1);
  if (!digits.empty()) {
    source = "the set's name";
    return std::stoi(digits);
  }
  source = "vLLM's expert domain dp*pcp*tp";
  return view.axes.dp * view.axes.pcp * view.axes.tp;
}

DerivedSet expert_sets(const ManifestView& view, const std::string& name, const Layout& l) {
  const bool etp = name.rfind("etp", 0) == 0;
  std::string source;
  const int e = ep_size(view, name, source);
  const int domain = l.a.dp * l.a.pcp * l.a.tp;
  if (e <= 0 || domain % e != 0) {
    return {false,
            "EP size " + std::to_string(e) + " (from " + source +
                ") does not divide the expert domain of " + std::to_string(domain) + " ranks",
            {}};
  }
  DerivedSet out{true, "", {}};
  for (int p = 0; p < l.a.pp; ++p) {
    const auto dom = expert_domain(l, p);
    if (!etp) {
      for (int g = 0; g < domain / e; ++g)
        out.groups.emplace_back(dom.begin() + g * e, dom.begin() + (g + 1) * e);
    } else {
      for (int j = 0; j < e; ++j) {
        std::vector<int> g;
        for (int k = j; k < domain; k += e) g.push_back(dom[static_cast<std::size_t>(k)]);
        out.groups.push_back(std::move(g));
      }
    }
  }
  out.rule = etp ? "vLLM layout: ranks of equal position in their EP group (EP size " +
                       std::to_string(e) + " from " + source + ")"
                 : "vLLM layout: consecutive chunks of " + std::to_string(e) +
                       " ranks of each stage's expert domain, ordered dp, pcp, tp (EP size "
                       "from " +
                       source + ")";
  return out;
}

// `name` is `prefix` followed by nothing but digits (none allowed).
bool numbered(const std::string& name, std::string_view prefix) {
  return name.rfind(prefix, 0) == 0 && name.size() - prefix.size() <= 6 &&
         std::all_of(name.begin() + static_cast<std::ptrdiff_t>(prefix.size()), name.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

}  // namespace

std::string format_ranks(const std::vector<int>& ranks) {
  std::string out = "[";
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    out += (i ? ", " : "") + std::to_string(ranks[i]);
  }
  return out + "]";
}

DerivedSet derive_vllm_groups(const ManifestView& view, const std::string& name) {
  const Layout l{view.axes};
  const Axes& a = view.axes;
  const std::string where = " (" + axes_text(a) + ")";
  DerivedSet out{true, "", {}};
  if (name == "world") {
    std::vector<int> all(static_cast<std::size_t>(view.world_size));
    for (int r = 0; r < view.world_size; ++r) all[static_cast<std::size_t>(r)] = r;
    out.groups.push_back(all);
    out.rule = "all ranks in order";
  } else if (name == "tp") {
    out.groups = strided_in_tp(l, 1);
    out.rule = "vLLM layout: equal (dp, pp, pcp), varying tp" + where;
  } else if (name == "dcp") {
    // parallel_state.py::initialize_model_parallel (since PR #46570): with dcp > 1, all_ranks
    // (.., pcp, tp) is transposed to (.., tp, pcp), "DCP spans PCP first, then TP", and cut
    // into chunks of dcp; with pcp = 1 that is consecutive chunks of each TP group.
    if (a.dcp < 1 || view.world_size % a.dcp != 0) {
      return {false, "dcp=" + std::to_string(a.dcp) + " does not divide the world", {}};
    }
    std::vector<int> walk;
    for (int d = 0; d < a.dp; ++d)
      for (int p = 0; p < a.pp; ++p)
        for (int t = 0; t < a.tp; ++t)
          for (int c = 0; c < a.pcp; ++c) walk.push_back(l.rank(d, p, c, t));
    if (a.dcp == 1) std::sort(walk.begin(), walk.end());  // no transpose without DCP
    for (std::size_t i = 0; i < walk.size(); i += static_cast<std::size_t>(a.dcp)) {
      out.groups.emplace_back(walk.begin() + static_cast<std::ptrdiff_t>(i),
                              walk.begin() + static_cast<std::ptrdiff_t>(i) + a.dcp);
    }
    out.rule = a.pcp == 1 ? "vLLM layout: consecutive chunks of dcp=" + std::to_string(a.dcp) +
                                " ranks of each TP group" + where
                          : "vLLM layout: chunks of dcp=" + std::to_string(a.dcp) +
                                " ranks walked pcp fastest, then tp (DCP spans PCP first, then "
                                "TP)" +
                                where;
  } else if (name == "attn_tp") {
    out.groups = strided_in_tp(l, a.tp / a.attn_tp);
    out.rule = "vLLM layout: ranks of equal tp_rank % " + std::to_string(a.tp / a.attn_tp) +
               " inside each TP group" + where;
  } else if (numbered(name, "tp_sub") && name.size() > 6) {
    const int k = std::stoi(name.substr(6));
    if (k < 1 || a.tp % k != 0) {
      return {false,
              "tp_sub size " + std::to_string(k) + " does not divide tp=" + std::to_string(a.tp),
              {}};
    }
    out.groups = strided_in_tp(l, a.tp / k);
    out.rule = "vLLM layout: stride " + std::to_string(a.tp / k) + " inside each TP group" + where;
  } else if (name == "pcp") {
    out.groups = varying_along(l, kAxisPcp);
    out.rule = "vLLM layout: equal (dp, pp, tp), varying pcp" + where;
  } else if (name == "pp") {
    out.groups = varying_along(l, kAxisPp);
    out.rule = "vLLM layout: equal (dp, pcp, tp), varying pp" + where;
  } else if (name == "dp") {
    out.groups = varying_along(l, kAxisDp);
    out.rule = "vLLM layout: equal (pp, pcp, tp), varying dp" + where;
  } else if (numbered(name, "ep") || numbered(name, "etp")) {
    return expert_sets(view, name, l);
  } else {
    return {false,
            "no vLLM derivation is known for group set \"" + name +
                "\"; its communicators are still checked against its lists",
            {}};
  }
  return out;
}

std::vector<MembershipFinding> compare_with_derivation(const GroupSet& set,
                                                       const DerivedSet& derived) {
  std::vector<MembershipFinding> out;
  if (!derived.derivable) return out;
  const std::string head = "group set \"" + set.name + "\"";
  const int size = set.uniform_size();
  const int want = derived.groups.empty() ? 0 : static_cast<int>(derived.groups.front().size());
  if (size == 0) return out;  // reported by check_set_sizes
  if (size != want || set.groups.size() != derived.groups.size()) {
    out.push_back({set.name,
                   -1,
                   {},
                   {},
                   head + ": the manifest lists " + std::to_string(set.groups.size()) +
                       " group(s) of " + std::to_string(size) + ", expected " +
                       std::to_string(derived.groups.size()) + " group(s) of " +
                       std::to_string(want) + " (" + derived.rule + ")"});
    return out;
  }
  for (std::size_t g = 0; g < set.groups.size(); ++g) {
    const auto& listed = set.groups[g];
    const std::set<int> members(listed.begin(), listed.end());
    const std::vector<int>* same_members = nullptr;
    const std::vector<int>* holding_first = nullptr;
    for (const auto& candidate : derived.groups) {
      if (std::set<int>(candidate.begin(), candidate.end()) == members) same_members = &candidate;
      if (std::find(candidate.begin(), candidate.end(), listed.front()) != candidate.end()) {
        holding_first = &candidate;
      }
    }
    if (same_members != nullptr && *same_members == listed) continue;
    static const std::vector<int> kNone;
    const std::vector<int>& expected =
        same_members ? *same_members : (holding_first ? *holding_first : kNone);
    const std::string what = same_members ? "same ranks in another order" : "different ranks";
    out.push_back({set.name, static_cast<int>(g), expected, listed,
                   head + " group " + std::to_string(g) + ": expected " + format_ranks(expected) +
                       ", the manifest lists " + format_ranks(listed) + " (" + what + "; " +
                       derived.rule + ")"});
  }
  return out;
}

std::vector<MembershipFinding> check_set_sizes(const ManifestView& view, const GroupSet& set) {
  std::vector<MembershipFinding> out;
  const std::string head = "group set \"" + set.name + "\"";
  const int size = set.uniform_size();
  if (size == 0) {
    std::string sizes;
    for (const auto& g : set.groups)
      sizes += (sizes.empty() ? "" : ", ") + std::to_string(g.size());
    out.push_back({set.name,
                   -1,
                   {},
                   {},
                   head + ": groups of unequal sizes (" + sizes +
                       "); every group of a set must have the same size"});
    return out;
  }
  std::set<std::string> reported;
  for (const auto& ps : view.plan_sizes) {
    if (ps.set != set.name || ps.size == size) continue;
    // A MoE layer without expert parallelism (ep_size 1) still names vLLM's EP group: its
    // experts are tensor-sharded over that group's ranks (fused_moe/config.py::
    // FusedMoEParallelConfig.make), and its dispatch goes through get_ep_group().
    if (ps.field == "ep_size" && ps.size == 1 && set.name == "ep") continue;
    const std::string key = ps.field + "=" + std::to_string(ps.size);
    if (!reported.insert(key).second) continue;
    out.push_back({set.name,
                   -1,
                   {},
                   {},
                   head + ": groups have " + std::to_string(size) + " rank(s), but " + ps.user +
                       " plans " + ps.field + " = " + std::to_string(ps.size) + " on it"});
  }
  return out;
}

}  // namespace layerplan::smoke
