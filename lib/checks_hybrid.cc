// Per-layer checks of the hybrid and sparse kinds: Mamba mixers, linear attention, the
// DeepSeek-V3.2 indexer, and the shared experts of MoE layers. Each mirrors the assertion vLLM
// makes when it builds the module at the layer's TP width.
#include <fmt/format.h>

#include "lib/checks.h"

namespace layerplan {

using check_util::blame;
using check_util::config_note;
using check_util::describe;
using check_util::divisors;
using check_util::join;
using check_util::report_for;

namespace {

// The tp_size values (divisors of tp) for which `ok` holds: the suggestion of a diagnostic.
template <typename Ok>
void add_valid_values(Diagnostic& d, std::int64_t tp, std::string_view what, Ok ok) {
  std::vector<std::int64_t> valid;
  for (auto v : divisors(tp)) {
    if (ok(v)) valid.push_back(v);
  }
  d.notes.push_back(Note{{}, fmt::format("valid {} tp_size values with tp {}: {}", what, tp,
                                         valid.empty() ? std::string("none") : join(valid))});
  d.valid_values = std::move(valid);
}

bool groups_ok(std::int64_t groups, std::int64_t tp) { return groups % tp == 0 || groups == 1; }

}  // namespace

void check_shared_experts(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  for (const auto& p : ctx.plans) {
    const Layer& l = *p.layer;
    const ResolvedField& tpf = p.plan.tp_size;
    if (l.kind != LayerKind::kMoe || !l.shared_intermediate_size || a.tp % tpf.value != 0) continue;
    std::int64_t width = l.shared_intermediate_size.value;
    if (width % tpf.value == 0) continue;
    Diagnostic d = make_error(
        "moe-shared-tp-divides-intermediate", blame(tpf, a),
        fmt::format("MoE {} does not divide the shared experts' width {} ({}); vLLM shards the "
                    "shared experts like a dense MLP over the layer's TP group",
                    describe("tp_size", tpf), l.shared_intermediate_size.key, width));
    d.notes.push_back(config_note(l.shared_intermediate_size));
    add_valid_values(d, a.tp, "MoE", [&](std::int64_t v) { return width % v == 0; });
    report_for(diags, std::move(d), p, ctx, tpf);
  }
}

void check_mamba(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  for (const auto& p : ctx.plans) {
    const Layer& l = *p.layer;
    const ResolvedField& tpf = p.plan.tp_size;
    std::int64_t tp = tpf.value;
    if (l.kind != LayerKind::kMamba || a.tp % tp != 0) continue;
    if (l.mamba_heads) {  // Mamba-2 (MambaMixer2)
      std::int64_t heads = l.mamba_heads.value;
      std::int64_t groups = l.mamba_groups.value;
      auto all_ok = [&](std::int64_t v) { return heads % v == 0 && groups_ok(groups, v); };
      if (heads % tp != 0) {
        Diagnostic d = make_error(
            "mamba-tp-divides-heads", blame(tpf, a),
            fmt::format("Mamba {} does not divide the Mamba heads {} ({}): vLLM's MambaMixer2 "
                        "asserts num_heads % tp_size == 0",
                        describe("tp_size", tpf), l.mamba_heads.key, heads));
        d.notes.push_back(config_note(l.mamba_heads));
        add_valid_values(d, a.tp, "Mamba", all_ok);
        report_for(diags, std::move(d), p, ctx, tpf);
      }
      if (l.mamba_groups && !groups_ok(groups, tp)) {
        Diagnostic d = make_error(
            "mamba-groups-divisibility", blame(tpf, a),
            fmt::format("Mamba {} does not divide the B/C groups {} ({}), which is not 1: vLLM's "
                        "MambaMixer2 asserts n_groups % tp_size == 0 or n_groups == 1",
                        describe("tp_size", tpf), l.mamba_groups.key, groups));
        d.notes.push_back(config_note(l.mamba_groups));
        add_valid_values(d, a.tp, "Mamba", all_ok);
        report_for(diags, std::move(d), p, ctx, tpf);
      }
    } else if (l.mamba_inner && l.mamba_inner.value % tp != 0) {  // Mamba-1 (MambaMixer)
      std::int64_t inner = l.mamba_inner.value;
      Diagnostic d = make_error(
          "mamba-tp-divides-inner", blame(tpf, a),
          fmt::format("Mamba {} does not divide the Mamba inner width {} ({}): vLLM's MambaMixer "
                      "shards it across the layer's TP group",
                      describe("tp_size", tpf), l.mamba_inner.key, inner));
      d.notes.push_back(config_note(l.mamba_inner));
      add_valid_values(d, a.tp, "Mamba", [&](std::int64_t v) { return inner % v == 0; });
      report_for(diags, std::move(d), p, ctx, tpf);
    }
  }
}

void check_linear_attention(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  for (const auto& p : ctx.plans) {
    const Layer& l = *p.layer;
    const ResolvedField& tpf = p.plan.tp_size;
    std::int64_t tp = tpf.value;
    if (l.kind != LayerKind::kLinearAttention || a.tp % tp != 0) continue;
    std::int64_t k = l.linear_key_heads.value, v = l.linear_value_heads.value;
    const ConfigValue* bad = k % tp != 0 ? &l.linear_key_heads
                             : v % tp != 0 ? &l.linear_value_heads
                                           : nullptr;
    if (bad == nullptr) continue;
    Diagnostic d = make_error(
        "linear-attn-tp-divides-heads", blame(tpf, a),
        fmt::format("linear attention {} does not divide {} ({}): the Gated DeltaNet shards its "
                    "key and value heads across the layer's TP group",
                    describe("tp_size", tpf), bad->key, bad->value));
    d.notes.push_back(config_note(l.linear_key_heads));
    d.notes.push_back(config_note(l.linear_value_heads));
    add_valid_values(d, a.tp, "linear attention",
                     [&](std::int64_t x) { return k % x == 0 && v % x == 0; });
    report_for(diags, std::move(d), p, ctx, tpf);
  }
}

void check_indexer(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  for (const auto& p : ctx.plans) {
    const Layer& l = *p.layer;
    const ResolvedField& tpf = p.plan.tp_size;
    if (l.kind != LayerKind::kIndexer || tpf.value == 1) continue;
    Diagnostic d = make_error(
        "indexer-sharded", blame(tpf, a),
        fmt::format("indexer {}: vLLM's sparse-attention indexer has no tensor parallelism; "
                    "every rank holds all {} indexer heads and its own index K cache",
                    describe("tp_size", tpf), l.index_heads.value));
    if (l.index_heads) d.notes.push_back(config_note(l.index_heads));
    d.notes.push_back({{}, "match { kind: indexer } with plan { tp_size: 1 } (RFC #42659 §3.3), "
                           "or leave the indexer to the global plan, which replicates it"});
    report_for(diags, std::move(d), p, ctx, tpf);
  }
}

}  // namespace layerplan
