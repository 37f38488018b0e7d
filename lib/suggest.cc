// `layerplan suggest`: enumerate, check, size, rank. Each candidate is a rules file run through
// the same stages as compile() (lib/pipeline.cc): parse, resolve, every check, the layout, the
// memory plan; only the config and the architecture registry are read once for all of them.
// A test feeds every suggestion back through compile() and requires it to check clean.
#include "lib/suggest.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "lib/checks.h"
#include "lib/engine/vllm.h"

namespace layerplan {
namespace {

std::vector<std::int64_t> divisors_of(std::int64_t n) {
  std::vector<std::int64_t> out;
  for (std::int64_t d = 1; d <= n; ++d) {
    if (n % d == 0) out.push_back(d);
  }
  return out;
}

bool has_moe(const Model& m) {
  return std::any_of(m.layers.begin(), m.layers.end(),
                     [](const Layer& l) { return l.kind == LayerKind::kMoe; });
}

// Every layout of the enumeration: tp * pp * dp * pcp = gpus; dcp as vLLM's ParallelConfig
// allows it (a divisor of tp without pcp; 1, pcp or tp * pcp with it); EP on or off on MoE
// models; and, per RFC #42659, attention TP narrower than tp with dcp = tp / attn_tp.
std::vector<Suggestion> enumerate(const SuggestRequest& r, bool moe) {
  std::vector<Suggestion> out;
  for (std::int64_t tp : divisors_of(r.gpus)) {
    for (std::int64_t pp : divisors_of(r.gpus / tp)) {
      for (std::int64_t pcp : divisors_of(r.gpus / tp / pp)) {
        std::int64_t dp = r.gpus / tp / pp / pcp;
        std::vector<std::int64_t> dcps =
            pcp == 1 ? divisors_of(tp) : std::vector<std::int64_t>{1, pcp, tp * pcp};
        std::sort(dcps.begin(), dcps.end());
        dcps.erase(std::unique(dcps.begin(), dcps.end()), dcps.end());
        for (std::int64_t dcp : dcps) {
          for (int narrow = 0; narrow < 2; ++narrow) {
            if (narrow == 1 && (!r.per_layer || pcp != 1 || dcp == 1)) continue;
            for (int ep = 0; ep < (moe ? 2 : 1); ++ep) {
              Suggestion s;
              s.tp = tp;
              s.pp = pp;
              s.dp = dp;
              s.pcp = pcp;
              s.dcp = dcp;
              s.attn_tp = narrow == 1 ? tp / dcp : tp;
              s.needs_pr = narrow == 1;
              s.ep = ep == 1;
              out.push_back(s);
            }
          }
        }
      }
    }
  }
  return out;
}

std::int64_t comm_bytes(const std::vector<Collective>& comms, std::int64_t dtype_bytes,
                        const std::vector<std::string>& cross, std::int64_t& cross_bytes) {
  std::int64_t total = 0;
  for (const auto& c : comms) {
    std::int64_t b = c.bytes_per_token(dtype_bytes);
    total += b;
    if (std::find(cross.begin(), cross.end(), c.group) != cross.end()) {
      cross_bytes += b;
    }
  }
  return total;
}

// Group sets with a group whose ranks sit on more than one node (ranks / gpus_per_node).
std::vector<std::string> cross_node_sets(const Layout& layout, std::int64_t per_node) {
  std::vector<std::string> out;
  for (const auto& set : layout.sets) {
    if (set.name == "world") continue;
    bool spans = false;
    for (std::int64_t g = 0; g < set.count() && !spans; ++g) {
      for (std::int64_t i = 0; i < set.group_size; ++i) {
        spans = spans || set.rank(g, i) / per_node != set.rank(g, 0) / per_node;
      }
    }
    if (spans) out.push_back(set.name);
  }
  return out;
}

// One candidate through compile()'s stages. False when it has an error.
bool evaluate(const Compilation& base, const SuggestRequest& r, Suggestion& s) {
  Diagnostics diags;
  s.rules_yaml = suggestion_rules(s, r.gpus);
  auto rules = parse_rules(make_source("suggested.yaml", s.rules_yaml), diags);
  if (!rules) return false;
  AxisValues axes = resolve_axes(*rules);
  std::vector<LayerPlan> plans = resolve_layers(*base.model, *rules, axes, *base.engine);
  CheckOptions options;
  options.allow_unverified = r.allow_unverified;
  CheckContext context{*base.model, *rules, axes, plans, base.registry, *base.engine, options};
  run_checks(context, diags);
  if (diags.has_errors()) return false;
  LayoutSize size = base.engine->layout_size(axes, plans);
  if (size.entries > kMaxLayoutEntries) return false;
  Layout layout = base.engine->build_layout(axes, plans);
  MemoryPlan memory = base.engine->memory(*base.config, *base.model, plans, axes, diags);
  for (const auto& d : diags.all()) {
    if (d.severity == Severity::kWarning) s.warnings.push_back(d.code);
  }
  for (const auto& st : memory.stages) {
    s.weight_bytes = std::max(s.weight_bytes, st.weight_bytes);
    s.kv_bytes_per_token =
        std::max(s.kv_bytes_per_token, st.kv_bytes_per_token + st.sliding_kv_bytes_per_token);
  }
  if (r.fit) s.fit = base.engine->fit(memory, *base.model, plans, axes, *r.fit);
  s.cross_node_sets = cross_node_sets(layout, r.gpus_per_node);
  for (const auto& p : plans) {
    s.comm_bytes_per_token += comm_bytes(base.engine->comms(p, axes), memory.dtype_bytes,
                                         s.cross_node_sets, s.cross_node_bytes_per_token);
  }
  s.comm_bytes_per_token +=
      comm_bytes(base.engine->pipeline_comms(*base.model, axes), memory.dtype_bytes,
                 s.cross_node_sets, s.cross_node_bytes_per_token);
  // The engine's own launch line for the layout, as `compile --emit vllm-args` prints it.
  s.vllm_args =
      base.engine->launch_command(*base.model, *rules, axes, plans, r.config_path).shell_line();
  return true;
}

}  // namespace

std::string suggestion_rules(const Suggestion& s, std::int64_t world_size) {
  std::string out = fmt::format(
      "# layerplan suggest: tp {} pp {} dp {} pcp {} dcp {}{}{}\n"
      "parallelism_rules:\n  world_size: {}\n  axes:\n    tp: {}\n",
      s.tp, s.pp, s.dp, s.pcp, s.dcp, s.attn_tp < s.tp ? fmt::format(" attn_tp {}", s.attn_tp) : "",
      s.ep ? " ep" : "", world_size, s.tp);
  if (s.attn_tp < s.tp) out += fmt::format("    attn_tp: {}\n", s.attn_tp);
  if (s.dcp > 1) out += fmt::format("    dcp: {}\n", s.dcp);
  if (s.pcp > 1) out += fmt::format("    pcp: {}\n", s.pcp);
  if (s.pp > 1) out += fmt::format("    pp: {}\n", s.pp);
  if (s.dp > 1) out += fmt::format("    dp: {}\n", s.dp);
  if (s.ep) out += fmt::format("    ep: {}\n", s.dp * s.pcp * s.tp);
  if (s.attn_tp < s.tp) {
    out +=
        "  rules:\n"
        "    - name: attention\n"
        "      match: { kind: attention }\n"
        "      plan: { tp_size: attn_tp, dcp_size: dcp }\n";
  } else {
    out += "  rules: []\n";
  }
  return out;
}

SuggestResult suggest(const SuggestRequest& r) {
  SuggestResult out;
  CompileRequest base_request;
  base_request.config_path = r.config_path;
  base_request.arch_files = r.arch_files;
  auto base = compile(base_request);
  for (const auto& d : base->diags.all()) out.diags.report(d);
  if (!base->model || !base->config || base->diags.has_errors() || r.gpus < 1) return out;
  std::vector<Suggestion> all = enumerate(r, has_moe(*base->model));
  out.candidates = static_cast<std::int64_t>(all.size());
  for (auto& s : all) {
    if (!evaluate(*base, r, s)) continue;
    ++out.valid;
    if (s.fit && !s.fit->fits) continue;
    out.suggestions.push_back(std::move(s));
  }
  // Best first (docs/memory.md, "suggest"): no warnings; the fewest bytes per token over
  // groups that span nodes; the most KV-cache tokens per replica (with a GPU size; in buckets of
  // about 2 %, so that noise in the last blocks does not decide), else the lightest rank; the
  // fewest collective bytes per token; no unmerged PR needed; the fewest split axes.
  auto key = [](const Suggestion& s) {
    std::int64_t kv = s.fit ? s.fit->kv_tokens_per_replica : 0;
    auto bucket =
        static_cast<std::int64_t>(kv > 0 ? std::floor(std::log2(static_cast<double>(kv)) * 32) : 0);
    int split = (s.pp > 1) + (s.dp > 1) + (s.pcp > 1) + (s.dcp > 1) + s.ep;
    return std::make_tuple(!s.warnings.empty(), s.cross_node_bytes_per_token, -bucket,
                           s.fit ? 0 : s.weight_bytes, s.comm_bytes_per_token, s.needs_pr, split,
                           -kv, s.tp, s.pp, s.pcp, s.dcp);
  };
  std::stable_sort(out.suggestions.begin(), out.suggestions.end(),
                   [&](const Suggestion& a, const Suggestion& b) { return key(a) < key(b); });
  return out;
}

}  // namespace layerplan
