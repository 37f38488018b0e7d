// Per-layer checks: every layer's plan against the numbers of that layer. One function per code;
// the runner (lib/checks.cc) calls each for the layers of its kind.
#include <fmt/format.h>

#include "lib/checks_list.h"

namespace layerplan {

using namespace check_util;

namespace {

bool has_kv_cache(LayerKind kind) {
  return kind == LayerKind::kAttention || kind == LayerKind::kIndexer;
}

// The checks below take a layer whose tp_size divides tp; tp-size-divides-tp reports the others.
bool layer_tp_divides(const CheckContext& ctx, const LayerPlan& p) {
  return ctx.axes.tp % p.plan.tp_size.value == 0;
}

// The MoE layer's expert domain dp*pcp*tp_size, when EP may be checked against it: null when the
// product overflows (world-size-limit reports that) or when ep-needs-full-tp fails.
std::optional<std::int64_t> moe_expert_domain(const CheckContext& ctx, const LayerPlan& p) {
  const AxisValues& a = ctx.axes;
  std::int64_t domain = 0;
  if (__builtin_mul_overflow(a.dp, a.pcp, &domain) ||
      __builtin_mul_overflow(domain, p.plan.tp_size.value, &domain)) {
    return std::nullopt;
  }
  if (p.plan.ep_size.value > 1 && p.plan.tp_size.value != a.tp) return std::nullopt;
  return domain;
}

// The domain when ep_size divides it: the checks after ep-divides-domain need a whole expert TP.
std::optional<std::int64_t> moe_ep_domain(const CheckContext& ctx, const LayerPlan& p) {
  auto domain = moe_expert_domain(ctx, p);
  if (!domain || *domain % p.plan.ep_size.value != 0) return std::nullopt;
  return domain;
}

}  // namespace

// --- A layer's plan fields ----------------------------------------------------------------------

void check_tp_size_divides_tp(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  const ResolvedField& tpf = p.plan.tp_size;
  if (a.tp % tpf.value == 0) return;
  Diagnostic d = does_not_divide("tp-size-divides-tp", blame(tpf, a), describe("tp_size", tpf),
                                 fmt::format("tp ({})", a.tp),
                                 "; a layer's TP group is a subgroup of the TP group");
  suggest_values(d, fmt::format("valid tp_size values for tp {}", a.tp), divisors(a.tp));
  report_for(diags, std::move(d), p, ctx, tpf);
}

void check_dcp_size_mismatch(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  const ResolvedField& dcpf = p.plan.dcp_size;
  if (dcpf.value == 1 || dcpf.value == ctx.axes.dcp) return;
  Diagnostic d = make_error(
      "dcp-size-mismatch", blame(dcpf, ctx.axes),
      fmt::format("{} must be 1 or the dcp axis ({}): the engine builds DCP groups of one size",
                  describe("dcp_size", dcpf), ctx.axes.dcp));
  report_for(diags, std::move(d), p, ctx, dcpf);
}

void check_dcp_on_non_attention(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  const ResolvedField& dcpf = p.plan.dcp_size;
  // A dcp_size that is neither 1 nor dcp is dcp-size-mismatch's.
  if (dcpf.value <= 1 || dcpf.value != ctx.axes.dcp || has_kv_cache(p.layer->kind)) return;
  Diagnostic d = make_error("dcp-on-non-attention", blame(dcpf, ctx.axes),
                            fmt::format("{} on {} layers, which keep no KV cache to shard",
                                        describe("dcp_size", dcpf), kind_name(p.layer->kind)));
  report_for(diags, std::move(d), p, ctx, dcpf);
}

void check_ep_on_non_moe(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  const ResolvedField& epf = p.plan.ep_size;
  if (epf.value <= 1 || p.layer->kind == LayerKind::kMoe) return;
  Diagnostic d = make_error("ep-on-non-moe", blame(epf, ctx.axes),
                            fmt::format("{} on {} layers, which have no experts",
                                        describe("ep_size", epf), kind_name(p.layer->kind)));
  report_for(diags, std::move(d), p, ctx, epf);
}

// --- Attention layers ---------------------------------------------------------------------------

void check_attn_tp_divides_heads(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  const Layer& l = *p.layer;
  const ResolvedField& tpf = p.plan.tp_size;
  std::int64_t heads = l.num_heads.value, kv = l.num_kv_heads.value;
  if (!layer_tp_divides(ctx, p) || heads % tpf.value == 0) return;
  Diagnostic d = does_not_divide("attn-tp-divides-heads", blame(tpf, ctx.axes),
                                 "attention " + describe("tp_size", tpf),
                                 fmt::format("num_attention_heads ({})", heads));
  d.notes.push_back(config_note(l.num_heads));
  suggest_values(d, "valid attention tp_size values for this model",
                 divisors_where(heads, [&](std::int64_t v) {
                   return l.flavor == Flavor::kMla || v % kv == 0 || kv % v == 0;
                 }));
  report_for(diags, std::move(d), p, ctx, tpf);
}

namespace {

// A GQA/MQA attention layer whose tp_size divides tp: the KV-head checks apply.
bool kv_heads_apply(const CheckContext& ctx, const LayerPlan& p) {
  return layer_tp_divides(ctx, p) && p.layer->flavor != Flavor::kMla &&
         p.layer->num_kv_heads.value > 0;
}

}  // namespace

void check_kv_heads_divisibility(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  if (!kv_heads_apply(ctx, p)) return;
  const ResolvedField& tpf = p.plan.tp_size;
  std::int64_t tp_size = tpf.value, kv = p.layer->num_kv_heads.value;
  bool not_divisor = tp_size < kv && kv % tp_size != 0;
  bool not_multiple = tp_size > kv && tp_size % kv != 0;
  if (!not_divisor && !not_multiple) return;
  std::string attention = "attention " + describe("tp_size", tpf);
  Diagnostic d =
      not_divisor
          ? does_not_divide("kv-heads-divisibility", blame(tpf, ctx.axes), attention,
                            fmt::format("num_key_value_heads ({})", kv))
          : make_error("kv-heads-divisibility", blame(tpf, ctx.axes),
                       fmt::format("{} is not a multiple of num_key_value_heads ({}): each KV "
                                   "head must be replicated on a whole number of ranks",
                                   attention, kv));
  d.notes.push_back(config_note(p.layer->num_kv_heads));
  report_for(diags, std::move(d), p, ctx, tpf);
}

void check_kv_head_replication(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  const ResolvedField& tpf = p.plan.tp_size;
  std::int64_t kv = p.layer->num_kv_heads.value;
  // kv-heads-divisibility has the uneven ones.
  if (!kv_heads_apply(ctx, p) || tpf.value <= kv || tpf.value % kv != 0) return;
  Diagnostic d = make_note("kv-head-replication", blame(tpf, ctx.axes),
                           fmt::format("attention {} exceeds num_key_value_heads ({}): each KV "
                                       "head is replicated on {} ranks",
                                       describe("tp_size", tpf), kv, tpf.value / kv));
  report_for(diags, std::move(d), p, ctx, tpf);
}

void check_mla_narrow_tp(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  const Layer& l = *p.layer;
  const AxisValues& a = ctx.axes;
  const ResolvedField& tpf = p.plan.tp_size;
  std::int64_t tp_size = tpf.value;
  if (!layer_tp_divides(ctx, p) || l.flavor != Flavor::kMla || tp_size >= a.tp || tp_size <= 1 ||
      p.plan.dcp_size.value <= 1) {
    return;
  }
  Diagnostic d = make_warning(
      "mla-narrow-tp", blame(tpf, a),
      fmt::format("MLA caches one latent KV head, so attention {} narrower than tp ({}) saves "
                  "no KV memory; TPA collapses to DCP-only",
                  describe("tp_size", tpf), a.tp));
  d.notes.push_back(config_note(l.kv_lora_rank));
  d.notes.push_back({{},
                     fmt::format("use tp_size: tp with dcp_size: dcp, or attn_tp 1 with "
                                 "dcp {} (RFC #42659 §3.3)",
                                 a.tp)});
  report_for(diags, std::move(d), p, ctx, tpf);
}

void check_dcp_not_uniform(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  if (!layer_tp_divides(ctx, p) || a.dcp <= 1 || p.plan.dcp_size.value != 1) return;
  Diagnostic d = make_warning(
      "dcp-not-uniform", blame(p.plan.dcp_size, a),
      fmt::format("dcp_size 1 on an attention layer while dcp is {}: vLLM shards the KV cache "
                  "of every attention layer the same way",
                  a.dcp));
  report_for(diags, std::move(d), p, ctx, p.plan.dcp_size);
}

void check_layer_tpa_invariant(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  const ResolvedField& tpf = p.plan.tp_size;
  std::int64_t tp_size = tpf.value, dcp = p.plan.dcp_size.value;
  if (!layer_tp_divides(ctx, p)) return;
  bool axes_pair = tp_size == a.attn_tp && dcp == a.dcp;  // then tpa-invariant says it once
  std::optional<std::int64_t> tp_dcp = checked_product(tp_size, dcp);  // dcp may be any literal
  // An overflowed product differs from tp too.
  if (tp_size >= a.tp || dcp <= 1 || tp_dcp == a.tp || axes_pair) return;
  Diagnostic d = make_error(
      "layer-tpa-invariant", blame(tpf, a),
      fmt::format("attention {} * {} = {} must equal tp ({}) on a layer narrower than tp",
                  describe("tp_size", tpf), describe("dcp_size", p.plan.dcp_size),
                  product_text(tp_dcp), a.tp));
  d.notes.push_back(
      {{}, fmt::format("valid: dcp_size {} for tp_size {}", a.tp / tp_size, tp_size)});
  report_for(diags, std::move(d), p, ctx, tpf);
}

void check_replicated_attention(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  const ResolvedField& tpf = p.plan.tp_size;
  if (!layer_tp_divides(ctx, p) || tpf.value >= a.tp || p.plan.dcp_size.value != 1 ||
      p.layer->mtp) {
    return;
  }
  Diagnostic d = make_note(
      "replicated-layer", blame(tpf, a),
      fmt::format("attention {} without DCP: {} ranks compute the same heads and each holds "
                  "the whole KV cache",
                  describe("tp_size", tpf), a.tp / tpf.value));
  report_for(diags, std::move(d), p, ctx, tpf);
}

namespace {

// vLLM's standard DCP rules for GQA/MQA apply when the layer runs at full tp.
bool standard_dcp_applies(const CheckContext& ctx, const LayerPlan& p) {
  return layer_tp_divides(ctx, p) && p.plan.tp_size.value == ctx.axes.tp &&
         p.plan.dcp_size.value > 1 && p.layer->flavor != Flavor::kMla &&
         p.layer->num_kv_heads.value > 0;
}

// The note naming the TPA layout that would serve where standard DCP fails.
void add_tpa_hint(Diagnostic& d, const AxisValues& a, const Layer& l, std::int64_t dcp) {
  std::int64_t kv = l.num_kv_heads.value, heads = l.num_heads.value;
  if (a.tp % dcp == 0 && a.tp / dcp <= kv && kv % (a.tp / dcp) == 0 && heads % (a.tp / dcp) == 0) {
    d.notes.push_back({{},
                       fmt::format("TPA would take this layout: attn_tp {} with dcp {} "
                                   "and tp_size: attn_tp on attention",
                                   a.tp / dcp, dcp)});
  }
}

}  // namespace

void check_dcp_gqa_kv_heads(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  const Layer& l = *p.layer;
  std::int64_t kv = l.num_kv_heads.value;
  if (!standard_dcp_applies(ctx, p) || a.tp > kv) return;
  Diagnostic d = make_error(
      "dcp-gqa-kv-heads", blame(p.plan.dcp_size, a),
      fmt::format("DCP at full attention TP needs tp ({}) > num_key_value_heads ({}) on a "
                  "GQA model",
                  a.tp, kv));
  d.notes.push_back(config_note(l.num_kv_heads));
  add_tpa_hint(d, a, l, p.plan.dcp_size.value);
  report_for(diags, std::move(d), p, ctx, p.plan.dcp_size);
}

void check_dcp_gqa_max(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  const Layer& l = *p.layer;
  std::int64_t kv = l.num_kv_heads.value, dcp = p.plan.dcp_size.value;
  if (!standard_dcp_applies(ctx, p) || a.tp <= kv || dcp <= a.tp / kv) return;
  Diagnostic d = make_error(
      "dcp-gqa-max", blame(p.plan.dcp_size, a),
      fmt::format("dcp ({}) exceeds tp / num_key_value_heads = {} / {} = {} on a GQA model", dcp,
                  a.tp, kv, a.tp / kv));
  d.notes.push_back(config_note(l.num_kv_heads));
  add_tpa_hint(d, a, l, dcp);
  report_for(diags, std::move(d), p, ctx, p.plan.dcp_size);
}

void check_dcp_gqa_q_per_kv(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  const Layer& l = *p.layer;
  std::int64_t heads = l.num_heads.value, kv = l.num_kv_heads.value, dcp = p.plan.dcp_size.value;
  if (!standard_dcp_applies(ctx, p) || (heads / kv) % dcp == 0) return;
  Diagnostic d =
      make_error("dcp-gqa-q-per-kv", blame(p.plan.dcp_size, ctx.axes),
                 fmt::format("query heads per KV head ({} / {} = {}) is not divisible by dcp ({})",
                             heads, kv, heads / kv, dcp));
  d.notes.push_back(config_note(l.num_heads));
  d.notes.push_back(config_note(l.num_kv_heads));
  report_for(diags, std::move(d), p, ctx, p.plan.dcp_size);
}

// --- Dense MLP layers ---------------------------------------------------------------------------

void check_mlp_tp_divides_intermediate(const CheckContext& ctx, const LayerPlan& p,
                                       Diagnostics& diags) {
  const Layer& l = *p.layer;
  const AxisValues& a = ctx.axes;
  const ResolvedField& tpf = p.plan.tp_size;
  std::int64_t width = l.intermediate_size.value;
  if (!l.intermediate_size || !layer_tp_divides(ctx, p) || width % tpf.value == 0) return;
  Diagnostic d = does_not_divide("mlp-tp-divides-intermediate", blame(tpf, a),
                                 "MLP " + describe("tp_size", tpf),
                                 "its width " + config_text(l.intermediate_size));
  d.notes.push_back(config_note(l.intermediate_size));
  suggest_values(d, fmt::format("valid MLP tp_size values with tp {}", a.tp),
                 divisors_where(a.tp, [&](std::int64_t v) { return width % v == 0; }));
  report_for(diags, std::move(d), p, ctx, tpf);
}

void check_replicated_mlp(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  const Layer& l = *p.layer;
  const AxisValues& a = ctx.axes;
  const ResolvedField& tpf = p.plan.tp_size;
  if (!l.intermediate_size || !layer_tp_divides(ctx, p) ||
      l.intermediate_size.value % tpf.value != 0 || tpf.value >= a.tp) {
    return;
  }
  Diagnostic d = make_note("replicated-layer", blame(tpf, a),
                           fmt::format("MLP {} is narrower than tp ({}): {} ranks compute the "
                                       "same shard",
                                       describe("tp_size", tpf), a.tp, a.tp / tpf.value));
  report_for(diags, std::move(d), p, ctx, tpf);
}

// --- MoE layers ---------------------------------------------------------------------------------

void check_ep_needs_full_tp(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  const ResolvedField& tpf = p.plan.tp_size;
  const ResolvedField& epf = p.plan.ep_size;
  std::int64_t domain = 0;
  if (!layer_tp_divides(ctx, p) || __builtin_mul_overflow(a.dp, a.pcp, &domain) ||
      __builtin_mul_overflow(domain, tpf.value, &domain)) {
    return;  // world-size-limit already reports the overflow
  }
  if (epf.value <= 1 || tpf.value == a.tp) return;
  Diagnostic d =
      make_error("ep-needs-full-tp", blame(tpf, a),
                 fmt::format("expert parallelism ({}) needs the MoE layer at full tp ({}), got {}",
                             describe("ep_size", epf), a.tp, describe("tp_size", tpf)));
  report_for(diags, std::move(d), p, ctx, tpf);
}

void check_ep_divides_domain(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  const ResolvedField& epf = p.plan.ep_size;
  if (!layer_tp_divides(ctx, p)) return;
  auto domain = moe_expert_domain(ctx, p);
  if (!domain || *domain % epf.value == 0) return;
  Diagnostic d = does_not_divide("ep-divides-domain", blame(epf, a), describe("ep_size", epf),
                                 fmt::format("the expert domain dp*pcp*tp = {}*{}*{} = {} ranks",
                                             a.dp, a.pcp, p.plan.tp_size.value, *domain));
  suggest_values(d, "valid ep_size values", divisors(*domain));
  report_for(diags, std::move(d), p, ctx, epf);
}

void check_ep_exceeds_experts(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  const Layer& l = *p.layer;
  const ResolvedField& epf = p.plan.ep_size;
  std::int64_t ep = epf.value, experts = l.num_experts.value;
  if (!layer_tp_divides(ctx, p) || !moe_ep_domain(ctx, p) || ep <= experts) return;
  Diagnostic d = make_error(
      "ep-exceeds-experts", blame(epf, ctx.axes),
      fmt::format("{} is more than the {} routed experts: {} ranks of each EP group would hold "
                  "no expert",
                  describe("ep_size", epf), experts, ep - experts));
  d.notes.push_back(config_note(l.num_experts));
  report_for(diags, std::move(d), p, ctx, epf);
}

void check_experts_uneven(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  const Layer& l = *p.layer;
  const ResolvedField& epf = p.plan.ep_size;
  std::int64_t ep = epf.value, experts = l.num_experts.value;
  if (!layer_tp_divides(ctx, p)) return;
  auto domain = moe_ep_domain(ctx, p);
  if (!domain || ep > experts || ep <= 1 || experts % ep == 0) return;
  std::int64_t base = experts / ep, rem = experts % ep;
  Diagnostic d = make_warning(
      "experts-uneven", blame(epf, ctx.axes),
      fmt::format("{} routed experts do not divide evenly over {}: ranks 0-{} of each EP "
                  "group hold {} experts, ranks {}-{} hold {} (vLLM places the remainder on "
                  "the first ranks)",
                  experts, describe("ep_size", epf), rem - 1, base + 1, rem, ep - 1, base));
  d.notes.push_back(config_note(l.num_experts));
  d.notes.push_back({{},
                     fmt::format("ep_size values that divide the experts evenly: {}",
                                 join(divisors_where(
                                     *domain, [&](std::int64_t v) { return experts % v == 0; })))});
  report_for(diags, std::move(d), p, ctx, epf);
}

void check_moe_tp_divides_intermediate(const CheckContext& ctx, const LayerPlan& p,
                                       Diagnostics& diags) {
  const Layer& l = *p.layer;
  std::int64_t ep = p.plan.ep_size.value;
  if (!layer_tp_divides(ctx, p) || !l.moe_intermediate_size) return;
  auto domain = moe_ep_domain(ctx, p);
  if (!domain) return;
  std::int64_t etp = *domain / ep;
  if (l.moe_intermediate_size.value % etp == 0) return;
  const ResolvedField& field = ep > 1 ? p.plan.ep_size : p.plan.tp_size;
  Diagnostic d = does_not_divide(
      "moe-tp-divides-intermediate", blame(field, ctx.axes),
      fmt::format("the expert TP (dp*pcp*tp / ep = {} / {} = {})", *domain, ep, etp),
      "the expert width " + config_text(l.moe_intermediate_size));
  d.notes.push_back(config_note(l.moe_intermediate_size));
  report_for(diags, std::move(d), p, ctx, field);
}

void check_ep_not_expressible(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  const ResolvedField& epf = p.plan.ep_size;
  std::int64_t ep = epf.value;
  if (!layer_tp_divides(ctx, p)) return;
  auto domain = moe_ep_domain(ctx, p);
  if (!domain || ep <= 1 || ep == *domain) return;
  Diagnostic d = make_note(
      "ep-not-expressible", blame(epf, ctx.axes),
      fmt::format("vLLM sets the EP size to dp*pcp*tp = {} when expert parallelism is on; "
                  "{} (expert TP {}) cannot be expressed in vLLM today",
                  *domain, describe("ep_size", epf), *domain / ep));
  report_for(diags, std::move(d), p, ctx, epf);
}

}  // namespace layerplan
