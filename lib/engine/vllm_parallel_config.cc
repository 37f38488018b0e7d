// Axis-level checks: vLLM's ParallelConfig invariants (config/parallel.py::
// ParallelConfig._validate_parallel_config at f067737b) and the PR-level TPA rules of RFC #42659.
#include <set>

#include <fmt/format.h>

#include "lib/checks.h"
#include "lib/engine/vllm.h"

namespace layerplan {

using check_util::checked_product;
using check_util::divisors;
using check_util::join;
using check_util::product_text;

namespace {

// distributed/utils.py::get_pp_indices reads VLLM_PP_LAYER_PARTITION and raises when its length
// is not pp ("len(partitions)=… does not match pp_size=…") or its sum is not the number of
// decoder layers ("sum(partitions)=… does not match num_hidden_layers=…").
void check_pp_partition(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  if (a.pp_partition.empty()) return;
  auto count = static_cast<std::int64_t>(a.pp_partition.size());
  if (count != a.pp) {
    Diagnostic d = make_error(
        "pp-partition-length", a.pp_partition_location,
        fmt::format("the pipeline partition lists {} stages, but pp is {}: vLLM raises "
                    "\"len(partitions)={} does not match pp_size={}.\"",
                    count, a.pp, count, a.pp));
    d.notes.push_back({a.location("pp", ctx.rules.axes_root), fmt::format("pp is {}", a.pp)});
    diags.report(std::move(d));
  }
  std::int64_t sum = 0;
  for (auto n : a.pp_partition) sum += n;
  if (sum != ctx.model.num_hidden_layers) {
    Diagnostic d = make_error(
        "pp-partition-sum", a.pp_partition_location,
        fmt::format("the pipeline partition sums to {} layers, but the model has {} decoder "
                    "layers: vLLM raises \"sum(partitions)={} does not match "
                    "num_hidden_layers={}.\"",
                    sum, ctx.model.num_hidden_layers, sum, ctx.model.num_hidden_layers));
    d.notes.push_back({{}, fmt::format("num_hidden_layers is {} (MTP layers are not in the "
                                       "partition)",
                                       ctx.model.num_hidden_layers)});
    diags.report(std::move(d));
  }
}

}  // namespace

void check_vllm_parallel_config(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  const RulesFile& rules = ctx.rules;
  auto loc = [&](std::string_view name) { return a.location(name, rules.axes_root); };
  auto axis_note = [&](std::string_view name, std::int64_t value) {
    return Note{loc(name), fmt::format("{} is {}", name, value)};
  };

  if (a.world_overflows) {
    Diagnostic d = make_error(
        "world-size-limit", loc("tp"),
        fmt::format("the world size tp*pp*dp*pcp = {}*{}*{}*{} overflows a 64-bit integer", a.tp,
                    a.pp, a.dp, a.pcp));
    diags.report(std::move(d));
  } else if (a.world_size > kMaxWorldSize) {
    diags.report(make_error(
        "world-size-limit", loc("tp"),
        fmt::format("the world size tp*pp*dp*pcp = {} is more ranks than layerplan lists groups "
                    "for ({})",
                    a.world_size, kMaxWorldSize)));
  }
  if (rules.world_size && !a.world_overflows && rules.world_size->value != a.world_size) {
    Diagnostic d = make_error(
        "world-size-mismatch", rules.world_size->location,
        fmt::format("world_size is {}, but tp*pp*dp*pcp = {}*{}*{}*{} = {}", rules.world_size->value,
                    a.tp, a.pp, a.dp, a.pcp, a.world_size));
    d.notes.push_back({{}, "dcp, attn_tp and ep add no ranks: they subdivide the tp (and dp) groups"});
    diags.report(std::move(d));
  }
  if (a.pcp > 1 && a.dp > 1) {
    Diagnostic d = make_error("pcp-with-dp", loc("pcp"),
                              fmt::format("pcp ({}) with dp ({}): vLLM refuses it (\"PCP does not "
                                          "support data parallelism yet.\")",
                                          a.pcp, a.dp));
    d.notes.push_back(axis_note("dp", a.dp));
    d.notes.push_back({{}, "valid: dp 1 with pcp > 1, or pcp 1"});
    diags.report(std::move(d));
  }
  if (a.pcp > 1 && a.pp > 1) {
    // v1/worker/gpu/pcp_manager.py::PCPManager.validate_config
    Diagnostic d = make_error("pcp-with-pp", loc("pcp"),
                              fmt::format("pcp ({}) with pp ({}): vLLM's Model Runner V2, the only "
                                          "one that runs PCP, refuses it (\"MRV2 PCP does not "
                                          "support PP yet.\")",
                                          a.pcp, a.pp));
    d.notes.push_back(axis_note("pp", a.pp));
    d.notes.push_back({{}, "valid: pp 1 with pcp > 1, or pcp 1"});
    diags.report(std::move(d));
  }
  if (a.pcp == 1 && a.tp % a.dcp != 0) {
    // DCP reuses the TP ranks when PCP is off.
    Diagnostic d = make_error("dcp-divides-tp", loc("dcp"),
                              fmt::format("dcp ({}) does not divide tp ({})", a.dcp, a.tp));
    d.notes.push_back(axis_note("tp", a.tp));
    d.valid_values = divisors(a.tp);
    d.notes.push_back({{}, fmt::format("valid dcp values for tp {}: {}", a.tp, join(d.valid_values))});
    diags.report(std::move(d));
  } else if (a.pcp > 1 && a.dcp != 1 && a.dcp != a.pcp && checked_product(a.tp, a.pcp) != a.dcp) {
    // With PCP on, DCP is off, spans the PCP axis, or spans the whole TP x PCP block.
    std::optional<std::int64_t> full = checked_product(a.tp, a.pcp);
    std::set<std::int64_t> valid = {1, a.pcp};
    if (full) valid.insert(*full);
    Diagnostic d = make_error(
        "dcp-with-pcp", loc("dcp"),
        fmt::format("dcp ({}) with pcp ({}) and tp ({}): with PCP on, vLLM's DCP must be off, "
                    "span the PCP axis or span the whole tp x pcp block",
                    a.dcp, a.pcp, a.tp));
    d.notes.push_back(axis_note("pcp", a.pcp));
    d.notes.push_back(axis_note("tp", a.tp));
    d.valid_values.assign(valid.begin(), valid.end());
    d.notes.push_back({{}, fmt::format("valid dcp values for tp {} and pcp {}: {}", a.tp, a.pcp,
                                       join(d.valid_values))});
    diags.report(std::move(d));
  }
  std::optional<std::int64_t> attn_dcp = checked_product(a.attn_tp, a.dcp);
  if (a.attn_tp > a.tp) {
    Diagnostic d = make_error("attn-tp-exceeds-tp", loc("attn_tp"),
                              fmt::format("attn_tp ({}) exceeds tp ({})", a.attn_tp, a.tp));
    d.notes.push_back(axis_note("tp", a.tp));
    diags.report(std::move(d));
  } else if (a.tp % a.attn_tp != 0) {
    Diagnostic d = make_error("attn-tp-divides-tp", loc("attn_tp"),
                              fmt::format("attn_tp ({}) does not divide tp ({})", a.attn_tp, a.tp));
    d.notes.push_back(axis_note("tp", a.tp));
    d.valid_values = divisors(a.tp);
    d.notes.push_back(
        {{}, fmt::format("valid attn_tp values for tp {}: {}", a.tp, join(d.valid_values))});
    diags.report(std::move(d));
  } else if (a.attn_tp < a.tp && attn_dcp != a.tp) {  // an overflowed product differs too
    std::int64_t need = a.tp / a.attn_tp;
    Diagnostic d = make_error(
        "tpa-invariant", loc("dcp"),
        fmt::format("attn_tp ({}) * dcp ({}) = {} must equal tp ({}) when attn_tp < tp", a.attn_tp,
                    a.dcp, product_text(attn_dcp), a.tp));
    d.notes.push_back(axis_note("attn_tp", a.attn_tp));
    d.notes.push_back(axis_note("tp", a.tp));
    std::string alt = a.tp % a.dcp == 0 && a.dcp > 1
                          ? fmt::format(", or attn_tp {} for dcp {}", a.tp / a.dcp, a.dcp)
                          : "";
    d.notes.push_back({{}, fmt::format("valid: dcp {} for attn_tp {}{} (attention TP narrower "
                                       "than tp shards the KV cache across the rest by DCP)",
                                       need, a.attn_tp, alt)});
    diags.report(std::move(d));
  }
  if (a.pp > ctx.model.num_hidden_layers) {
    Diagnostic d = make_error(
        "pp-exceeds-layers", loc("pp"),
        fmt::format("pp ({}) is more pipeline stages than the model has decoder layers ({})", a.pp,
                    ctx.model.num_hidden_layers));
    diags.report(std::move(d));
  }
  check_pp_partition(ctx, diags);
}

}  // namespace layerplan
