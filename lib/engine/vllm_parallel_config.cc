// Axis-level checks: vLLM's ParallelConfig invariants (config/parallel.py::
// ParallelConfig._validate_parallel_config at f067737b) and the PR-level TPA rules of RFC #42659.
#include <fmt/format.h>

#include <set>

#include "lib/engine/vllm_checks.h"

namespace layerplan {

using namespace check_util;

namespace {

Location config_axis_location(const CheckContext& ctx, std::string_view name) {
  return ctx.axes.location(name, ctx.rules.axes_root);
}

Note config_axis_note(const CheckContext& ctx, std::string_view name, std::int64_t value) {
  return Note{config_axis_location(ctx, name), fmt::format("{} is {}", name, value)};
}

// "{axis} ({value}) does not divide tp ({tp})", with the note at tp and the divisors of tp.
void report_axis_does_not_divide_tp(const CheckContext& ctx, Diagnostics& diags,
                                    std::string_view code, std::string_view axis,
                                    std::int64_t value) {
  const AxisValues& a = ctx.axes;
  Diagnostic d = does_not_divide(code, config_axis_location(ctx, axis),
                                 fmt::format("{} ({})", axis, value), fmt::format("tp ({})", a.tp));
  d.notes.push_back(config_axis_note(ctx, "tp", a.tp));
  suggest_values(d, fmt::format("valid {} values for tp {}", axis, a.tp), divisors(a.tp));
  diags.report(std::move(d));
}

// PCP with another axis above 1 that vLLM does not run it with.
void report_pcp_with(const CheckContext& ctx, Diagnostics& diags, std::string_view code,
                     std::string_view axis, std::int64_t value, std::string_view refusal) {
  std::int64_t pcp = ctx.axes.pcp;
  if (pcp <= 1 || value <= 1) return;
  Diagnostic d = make_error(code, config_axis_location(ctx, "pcp"),
                            fmt::format("pcp ({}) with {} ({}): {}", pcp, axis, value, refusal));
  d.notes.push_back(config_axis_note(ctx, axis, value));
  d.notes.push_back({{}, fmt::format("valid: {} 1 with pcp > 1, or pcp 1", axis)});
  diags.report(std::move(d));
}

}  // namespace

void check_world_size_limit(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  if (a.world_overflows) {
    diags.report(make_error(
        "world-size-limit", config_axis_location(ctx, "tp"),
        fmt::format("the world size tp*pp*dp*pcp = {}*{}*{}*{} overflows a 64-bit integer", a.tp,
                    a.pp, a.dp, a.pcp)));
  } else if (a.world_size > kMaxWorldSize) {
    diags.report(make_error(
        "world-size-limit", config_axis_location(ctx, "tp"),
        fmt::format("the world size tp*pp*dp*pcp = {} is more ranks than layerplan lists groups "
                    "for ({})",
                    a.world_size, kMaxWorldSize)));
  }
}

void check_world_size_mismatch(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  const RulesFile& rules = ctx.rules;
  if (!rules.world_size || a.world_overflows || rules.world_size->value == a.world_size) return;
  Diagnostic d =
      make_error("world-size-mismatch", rules.world_size->location,
                 fmt::format("world_size is {}, but tp*pp*dp*pcp = {}*{}*{}*{} = {}",
                             rules.world_size->value, a.tp, a.pp, a.dp, a.pcp, a.world_size));
  d.notes.push_back(
      {{}, "dcp, attn_tp and ep add no ranks: they subdivide the tp (and dp) groups"});
  diags.report(std::move(d));
}

void check_pcp_with_dp(const CheckContext& ctx, Diagnostics& diags) {
  report_pcp_with(ctx, diags, "pcp-with-dp", "dp", ctx.axes.dp,
                  "vLLM refuses it (\"PCP does not support data parallelism yet.\")");
}

// v1/worker/gpu/pcp_manager.py::PCPManager.validate_config
void check_pcp_with_pp(const CheckContext& ctx, Diagnostics& diags) {
  report_pcp_with(ctx, diags, "pcp-with-pp", "pp", ctx.axes.pp,
                  "vLLM's Model Runner V2, the only one that runs PCP, refuses it (\"MRV2 PCP "
                  "does not support PP yet.\")");
}

// DCP reuses the TP ranks when PCP is off.
void check_dcp_divides_tp(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  if (a.pcp != 1 || a.tp % a.dcp == 0) return;
  report_axis_does_not_divide_tp(ctx, diags, "dcp-divides-tp", "dcp", a.dcp);
}

// With PCP on, DCP is off, spans the PCP axis, or spans the whole TP x PCP block.
void check_dcp_with_pcp(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  std::optional<std::int64_t> full = checked_product(a.tp, a.pcp);
  if (a.pcp <= 1 || a.dcp == 1 || a.dcp == a.pcp || full == a.dcp) return;
  std::set<std::int64_t> valid = {1, a.pcp};
  if (full) valid.insert(*full);
  Diagnostic d = make_error(
      "dcp-with-pcp", config_axis_location(ctx, "dcp"),
      fmt::format("dcp ({}) with pcp ({}) and tp ({}): with PCP on, vLLM's DCP must be off, "
                  "span the PCP axis or span the whole tp x pcp block",
                  a.dcp, a.pcp, a.tp));
  d.notes.push_back(config_axis_note(ctx, "pcp", a.pcp));
  d.notes.push_back(config_axis_note(ctx, "tp", a.tp));
  suggest_values(d, fmt::format("valid dcp values for tp {} and pcp {}", a.tp, a.pcp),
                 std::vector<std::int64_t>(valid.begin(), valid.end()));
  diags.report(std::move(d));
}

void check_attn_tp_exceeds_tp(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  if (a.attn_tp <= a.tp) return;
  Diagnostic d = make_error("attn-tp-exceeds-tp", config_axis_location(ctx, "attn_tp"),
                            fmt::format("attn_tp ({}) exceeds tp ({})", a.attn_tp, a.tp));
  d.notes.push_back(config_axis_note(ctx, "tp", a.tp));
  diags.report(std::move(d));
}

void check_attn_tp_divides_tp(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  if (a.attn_tp > a.tp || a.tp % a.attn_tp == 0) return;  // attn-tp-exceeds-tp says the first
  report_axis_does_not_divide_tp(ctx, diags, "attn-tp-divides-tp", "attn_tp", a.attn_tp);
}

void check_tpa_invariant(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  std::optional<std::int64_t> attn_dcp = checked_product(a.attn_tp, a.dcp);
  // attn_tp < tp and dividing it; an overflowed product differs from tp too.
  if (a.attn_tp >= a.tp || a.tp % a.attn_tp != 0 || attn_dcp == a.tp) return;
  std::int64_t need = a.tp / a.attn_tp;
  Diagnostic d =
      make_error("tpa-invariant", config_axis_location(ctx, "dcp"),
                 fmt::format("attn_tp ({}) * dcp ({}) = {} must equal tp ({}) when attn_tp < tp",
                             a.attn_tp, a.dcp, product_text(attn_dcp), a.tp));
  d.notes.push_back(config_axis_note(ctx, "attn_tp", a.attn_tp));
  d.notes.push_back(config_axis_note(ctx, "tp", a.tp));
  std::string alt = a.tp % a.dcp == 0 && a.dcp > 1
                        ? fmt::format(", or attn_tp {} for dcp {}", a.tp / a.dcp, a.dcp)
                        : "";
  d.notes.push_back({{},
                     fmt::format("valid: dcp {} for attn_tp {}{} (attention TP narrower "
                                 "than tp shards the KV cache across the rest by DCP)",
                                 need, a.attn_tp, alt)});
  diags.report(std::move(d));
}

void check_pp_exceeds_layers(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  if (a.pp <= ctx.model.num_hidden_layers) return;
  diags.report(make_error(
      "pp-exceeds-layers", config_axis_location(ctx, "pp"),
      fmt::format("pp ({}) is more pipeline stages than the model has decoder layers ({})", a.pp,
                  ctx.model.num_hidden_layers)));
}

// distributed/utils.py::get_pp_indices reads VLLM_PP_LAYER_PARTITION and raises when its length
// is not pp ("len(partitions)=… does not match pp_size=…") or its sum is not the number of
// decoder layers ("sum(partitions)=… does not match num_hidden_layers=…").
void check_pp_partition_length(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  auto count = static_cast<std::int64_t>(a.pp_partition.size());
  if (a.pp_partition.empty() || count == a.pp) return;
  Diagnostic d =
      make_error("pp-partition-length", a.pp_partition_location,
                 fmt::format("the pipeline partition lists {} stages, but pp is {}: vLLM raises "
                             "\"len(partitions)={} does not match pp_size={}.\"",
                             count, a.pp, count, a.pp));
  d.notes.push_back({config_axis_location(ctx, "pp"), fmt::format("pp is {}", a.pp)});
  diags.report(std::move(d));
}

void check_pp_partition_sum(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  if (a.pp_partition.empty()) return;
  std::int64_t sum = 0;
  for (auto n : a.pp_partition) sum += n;
  if (sum == ctx.model.num_hidden_layers) return;
  Diagnostic d = make_error(
      "pp-partition-sum", a.pp_partition_location,
      fmt::format("the pipeline partition sums to {} layers, but the model has {} decoder "
                  "layers: vLLM raises \"sum(partitions)={} does not match "
                  "num_hidden_layers={}.\"",
                  sum, ctx.model.num_hidden_layers, sum, ctx.model.num_hidden_layers));
  d.notes.push_back({{},
                     fmt::format("num_hidden_layers is {} (MTP layers are not in the "
                                 "partition)",
                                 ctx.model.num_hidden_layers)});
  diags.report(std::move(d));
}

}  // namespace layerplan
