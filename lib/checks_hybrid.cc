// Per-layer checks of the hybrid and sparse kinds: Mamba mixers, linear attention, the
// DeepSeek-V3.2 indexer, and the shared experts of MoE layers. Each mirrors the assertion vLLM
// makes when it builds the module at the layer's TP width.
#include <fmt/format.h>

#include "lib/checks_list.h"

namespace layerplan {

using namespace check_util;

namespace {

// The tp_size values (divisors of tp) for which `ok` holds: the suggestion of a diagnostic.
template <typename Ok>
void suggest_tp_sizes(Diagnostic& d, std::int64_t tp, std::string_view what, Ok ok) {
  suggest_values(d, fmt::format("valid {} tp_size values with tp {}", what, tp),
                 divisors_where(tp, ok), "none");
}

bool mamba_groups_ok(std::int64_t groups, std::int64_t tp) {
  return groups % tp == 0 || groups == 1;
}

// "{what} tp_size … does not divide {dividend}{rest}" for the layer's TP, with the config.json
// note of the dividend, the valid tp_size values and the rule note.
template <typename Ok>
void report_tp_does_not_divide(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags,
                               std::string_view code, std::string_view what,
                               const std::string& dividend, const ConfigValue& config,
                               std::string_view rest, Ok ok) {
  const ResolvedField& tpf = p.plan.tp_size;
  Diagnostic d =
      does_not_divide(code, blame(tpf, ctx.axes),
                      fmt::format("{} {}", what, describe("tp_size", tpf)), dividend, rest);
  d.notes.push_back(config_note(config));
  suggest_tp_sizes(d, ctx.axes.tp, what, ok);
  report_for(diags, std::move(d), p, ctx, tpf);
}

// Mamba-2 (MambaMixer2): heads and B/C groups must both split over the layer's TP.
bool mamba2_tp_ok(const Layer& l, std::int64_t v) {
  return l.mamba_heads.value % v == 0 && mamba_groups_ok(l.mamba_groups.value, v);
}

}  // namespace

void check_moe_shared_tp_divides_intermediate(const CheckContext& ctx, const LayerPlan& p,
                                              Diagnostics& diags) {
  const Layer& l = *p.layer;
  std::int64_t tp = p.plan.tp_size.value, width = l.shared_intermediate_size.value;
  if (!l.shared_intermediate_size || ctx.axes.tp % tp != 0 || width % tp == 0) return;
  report_tp_does_not_divide(
      ctx, p, diags, "moe-shared-tp-divides-intermediate", "MoE",
      "the shared experts' width " + config_text(l.shared_intermediate_size),
      l.shared_intermediate_size,
      "; vLLM shards the shared experts like a dense MLP over the layer's TP group",
      [&](std::int64_t v) { return width % v == 0; });
}

void check_mamba_tp_divides_heads(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  const Layer& l = *p.layer;
  std::int64_t tp = p.plan.tp_size.value;
  if (!l.mamba_heads || ctx.axes.tp % tp != 0 || l.mamba_heads.value % tp == 0) return;
  report_tp_does_not_divide(ctx, p, diags, "mamba-tp-divides-heads", "Mamba",
                            "the Mamba heads " + config_text(l.mamba_heads), l.mamba_heads,
                            ": vLLM's MambaMixer2 asserts num_heads % tp_size == 0",
                            [&](std::int64_t v) { return mamba2_tp_ok(l, v); });
}

void check_mamba_groups_divisibility(const CheckContext& ctx, const LayerPlan& p,
                                     Diagnostics& diags) {
  const Layer& l = *p.layer;
  std::int64_t tp = p.plan.tp_size.value;
  if (!l.mamba_heads || !l.mamba_groups || ctx.axes.tp % tp != 0 ||
      mamba_groups_ok(l.mamba_groups.value, tp)) {
    return;
  }
  report_tp_does_not_divide(ctx, p, diags, "mamba-groups-divisibility", "Mamba",
                            "the B/C groups " + config_text(l.mamba_groups), l.mamba_groups,
                            ", which is not 1: vLLM's MambaMixer2 asserts n_groups % tp_size == "
                            "0 or n_groups == 1",
                            [&](std::int64_t v) { return mamba2_tp_ok(l, v); });
}

void check_mamba_tp_divides_inner(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  const Layer& l = *p.layer;
  std::int64_t tp = p.plan.tp_size.value, inner = l.mamba_inner.value;
  // Mamba-1 (MambaMixer) only: a Mamba-2 layer has heads.
  if (l.mamba_heads || !l.mamba_inner || ctx.axes.tp % tp != 0 || inner % tp == 0) return;
  report_tp_does_not_divide(ctx, p, diags, "mamba-tp-divides-inner", "Mamba",
                            "the Mamba inner width " + config_text(l.mamba_inner), l.mamba_inner,
                            ": vLLM's MambaMixer shards it across the layer's TP group",
                            [&](std::int64_t v) { return inner % v == 0; });
}

void check_linear_attn_tp_divides_heads(const CheckContext& ctx, const LayerPlan& p,
                                        Diagnostics& diags) {
  const Layer& l = *p.layer;
  const ResolvedField& tpf = p.plan.tp_size;
  std::int64_t tp = tpf.value;
  if (ctx.axes.tp % tp != 0) return;
  std::int64_t k = l.linear_key_heads.value, v = l.linear_value_heads.value;
  const ConfigValue* bad = k % tp != 0   ? &l.linear_key_heads
                           : v % tp != 0 ? &l.linear_value_heads
                                         : nullptr;
  if (bad == nullptr) return;
  Diagnostic d = does_not_divide(
      "linear-attn-tp-divides-heads", blame(tpf, ctx.axes),
      "linear attention " + describe("tp_size", tpf), config_text(*bad),
      ": the Gated DeltaNet shards its key and value heads across the layer's TP group");
  d.notes.push_back(config_note(l.linear_key_heads));
  d.notes.push_back(config_note(l.linear_value_heads));
  suggest_tp_sizes(d, ctx.axes.tp, "linear attention",
                   [&](std::int64_t x) { return k % x == 0 && v % x == 0; });
  report_for(diags, std::move(d), p, ctx, tpf);
}

void check_indexer_sharded(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  const Layer& l = *p.layer;
  const ResolvedField& tpf = p.plan.tp_size;
  if (tpf.value == 1) return;
  Diagnostic d = make_error(
      "indexer-sharded", blame(tpf, ctx.axes),
      fmt::format("indexer {}: vLLM's sparse-attention indexer has no tensor parallelism; "
                  "every rank holds all {} indexer heads and its own index K cache",
                  describe("tp_size", tpf), l.index_heads.value));
  if (l.index_heads) d.notes.push_back(config_note(l.index_heads));
  d.notes.push_back({{},
                     "match { kind: indexer } with plan { tp_size: 1 } (RFC #42659 §3.3), "
                     "or leave the indexer to the global plan, which replicates it"});
  report_for(diags, std::move(d), p, ctx, tpf);
}

}  // namespace layerplan
