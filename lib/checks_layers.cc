// Per-layer checks: every layer's plan against the numbers of that layer.
#include <fmt/format.h>

#include "lib/checks.h"

namespace layerplan {

using check_util::blame;
using check_util::checked_product;
using check_util::config_note;
using check_util::describe;
using check_util::divisors;
using check_util::join;
using check_util::origin_note;
using check_util::product_text;
using check_util::report_for;

namespace {

bool has_kv_cache(LayerKind kind) {
  return kind == LayerKind::kAttention || kind == LayerKind::kIndexer;
}

}  // namespace

void check_plan_fields(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  for (const auto& p : ctx.plans) {
    const ResolvedPlan& plan = p.plan;
    if (a.tp % plan.tp_size.value != 0) {
      Diagnostic d = make_error("tp-size-divides-tp", blame(plan.tp_size, a),
                                fmt::format("{} does not divide tp ({}); a layer's TP group is a "
                                            "subgroup of the TP group",
                                            describe("tp_size", plan.tp_size), a.tp));
      d.valid_values = divisors(a.tp);
      d.notes.push_back({{}, fmt::format("valid tp_size values for tp {}: {}", a.tp,
                                         join(d.valid_values))});
      report_for(diags, std::move(d), p, ctx, plan.tp_size);
    }
    std::int64_t dcp = plan.dcp_size.value;
    if (dcp != 1 && dcp != a.dcp) {
      Diagnostic d = make_error(
          "dcp-size-mismatch", blame(plan.dcp_size, a),
          fmt::format("{} must be 1 or the dcp axis ({}): the engine builds DCP groups of one size",
                      describe("dcp_size", plan.dcp_size), a.dcp));
      report_for(diags, std::move(d), p, ctx, plan.dcp_size);
    } else if (dcp > 1 && !has_kv_cache(p.layer->kind)) {
      Diagnostic d = make_error(
          "dcp-on-non-attention", blame(plan.dcp_size, a),
          fmt::format("{} on {} layers, which keep no KV cache to shard",
                      describe("dcp_size", plan.dcp_size), kind_name(p.layer->kind)));
      report_for(diags, std::move(d), p, ctx, plan.dcp_size);
    }
    if (plan.ep_size.value > 1 && p.layer->kind != LayerKind::kMoe) {
      Diagnostic d = make_error("ep-on-non-moe", blame(plan.ep_size, a),
                                fmt::format("{} on {} layers, which have no experts",
                                            describe("ep_size", plan.ep_size),
                                            kind_name(p.layer->kind)));
      report_for(diags, std::move(d), p, ctx, plan.ep_size);
    }
  }
}

void check_attention(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  for (const auto& p : ctx.plans) {
    const Layer& l = *p.layer;
    if (l.kind != LayerKind::kAttention) continue;
    const ResolvedField& tpf = p.plan.tp_size;
    std::int64_t tp_size = tpf.value;
    std::int64_t dcp = p.plan.dcp_size.value;
    std::int64_t heads = l.num_heads.value;
    std::int64_t kv = l.num_kv_heads.value;
    if (a.tp % tp_size != 0) continue;  // reported by plan-fields

    if (heads % tp_size != 0) {
      Diagnostic d = make_error(
          "attn-tp-divides-heads", blame(tpf, a),
          fmt::format("attention {} does not divide num_attention_heads ({})",
                      describe("tp_size", tpf), heads));
      d.notes.push_back(config_note(l.num_heads));
      std::vector<std::int64_t> valid;
      for (auto v : divisors(heads)) {
        if (l.flavor == Flavor::kMla || v % kv == 0 || kv % v == 0) valid.push_back(v);
      }
      d.notes.push_back({{}, fmt::format("valid attention tp_size values for this model: {}", join(valid))});
      d.valid_values = std::move(valid);
      report_for(diags, std::move(d), p, ctx, tpf);
    }
    if (l.flavor != Flavor::kMla && kv > 0) {
      if (tp_size < kv && kv % tp_size != 0) {
        Diagnostic d = make_error(
            "kv-heads-divisibility", blame(tpf, a),
            fmt::format("attention {} does not divide num_key_value_heads ({})",
                        describe("tp_size", tpf), kv));
        d.notes.push_back(config_note(l.num_kv_heads));
        report_for(diags, std::move(d), p, ctx, tpf);
      } else if (tp_size > kv && tp_size % kv != 0) {
        Diagnostic d = make_error(
            "kv-heads-divisibility", blame(tpf, a),
            fmt::format("attention {} is not a multiple of num_key_value_heads ({}): each KV "
                        "head must be replicated on a whole number of ranks",
                        describe("tp_size", tpf), kv));
        d.notes.push_back(config_note(l.num_kv_heads));
        report_for(diags, std::move(d), p, ctx, tpf);
      } else if (tp_size > kv) {
        Diagnostic d = make_note(
            "kv-head-replication", blame(tpf, a),
            fmt::format("attention {} exceeds num_key_value_heads ({}): each KV head is "
                        "replicated on {} ranks",
                        describe("tp_size", tpf), kv, tp_size / kv));
        report_for(diags, std::move(d), p, ctx, tpf);
      }
    }
    if (l.flavor == Flavor::kMla && tp_size < a.tp && tp_size > 1 && dcp > 1) {
      Diagnostic d = make_warning(
          "mla-narrow-tp", blame(tpf, a),
          fmt::format("MLA caches one latent KV head, so attention {} narrower than tp ({}) saves "
                      "no KV memory; TPA collapses to DCP-only",
                      describe("tp_size", tpf), a.tp));
      d.notes.push_back(config_note(l.kv_lora_rank));
      d.notes.push_back({{}, fmt::format("use tp_size: tp with dcp_size: dcp, or attn_tp 1 with "
                                         "dcp {} (RFC #42659 §3.3)",
                                         a.tp)});
      report_for(diags, std::move(d), p, ctx, tpf);
    }
    if (a.dcp > 1 && dcp == 1) {
      Diagnostic d = make_warning(
          "dcp-not-uniform", blame(p.plan.dcp_size, a),
          fmt::format("dcp_size 1 on an attention layer while dcp is {}: vLLM shards the KV cache "
                      "of every attention layer the same way",
                      a.dcp));
      report_for(diags, std::move(d), p, ctx, p.plan.dcp_size);
    }
    bool axes_pair = tp_size == a.attn_tp && dcp == a.dcp;  // then tpa-invariant says it once
    std::optional<std::int64_t> tp_dcp = checked_product(tp_size, dcp);  // dcp may be any literal
    if (tp_size < a.tp && dcp > 1 && tp_dcp != a.tp && !axes_pair) {  // overflowed differs too
      Diagnostic d = make_error(
          "layer-tpa-invariant", blame(tpf, a),
          fmt::format("attention {} * {} = {} must equal tp ({}) on a layer narrower than tp",
                      describe("tp_size", tpf), describe("dcp_size", p.plan.dcp_size),
                      product_text(tp_dcp), a.tp));
      d.notes.push_back({{}, fmt::format("valid: dcp_size {} for tp_size {}", a.tp / tp_size, tp_size)});
      report_for(diags, std::move(d), p, ctx, tpf);
    } else if (tp_size < a.tp && dcp == 1 && !l.mtp) {
      Diagnostic d = make_note(
          "replicated-layer", blame(tpf, a),
          fmt::format("attention {} without DCP: {} ranks compute the same heads and each holds "
                      "the whole KV cache",
                      describe("tp_size", tpf), a.tp / tp_size));
      report_for(diags, std::move(d), p, ctx, tpf);
    }
    // vLLM's standard DCP rules for GQA/MQA apply when the layer runs at full tp.
    if (tp_size == a.tp && dcp > 1 && l.flavor != Flavor::kMla && kv > 0) {
      auto tpa_hint = [&](Diagnostic& d) {
        if (a.tp % dcp == 0 && a.tp / dcp <= kv && kv % (a.tp / dcp) == 0 &&
            heads % (a.tp / dcp) == 0) {
          d.notes.push_back({{}, fmt::format("TPA would take this layout: attn_tp {} with dcp {} "
                                             "and tp_size: attn_tp on attention",
                                             a.tp / dcp, dcp)});
        }
      };
      if (a.tp <= kv) {
        Diagnostic d = make_error(
            "dcp-gqa-kv-heads", blame(p.plan.dcp_size, a),
            fmt::format("DCP at full attention TP needs tp ({}) > num_key_value_heads ({}) on a "
                        "GQA model",
                        a.tp, kv));
        d.notes.push_back(config_note(l.num_kv_heads));
        tpa_hint(d);
        report_for(diags, std::move(d), p, ctx, p.plan.dcp_size);
      } else if (dcp > a.tp / kv) {
        Diagnostic d = make_error(
            "dcp-gqa-max", blame(p.plan.dcp_size, a),
            fmt::format("dcp ({}) exceeds tp / num_key_value_heads = {} / {} = {} on a GQA model",
                        dcp, a.tp, kv, a.tp / kv));
        d.notes.push_back(config_note(l.num_kv_heads));
        tpa_hint(d);
        report_for(diags, std::move(d), p, ctx, p.plan.dcp_size);
      }
      if (kv > 0 && (heads / kv) % dcp != 0) {
        Diagnostic d = make_error(
            "dcp-gqa-q-per-kv", blame(p.plan.dcp_size, a),
            fmt::format("query heads per KV head ({} / {} = {}) is not divisible by dcp ({})",
                        heads, kv, heads / kv, dcp));
        d.notes.push_back(config_note(l.num_heads));
        d.notes.push_back(config_note(l.num_kv_heads));
        report_for(diags, std::move(d), p, ctx, p.plan.dcp_size);
      }
    }
  }
}

void check_mlp(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  for (const auto& p : ctx.plans) {
    const Layer& l = *p.layer;
    if (l.kind != LayerKind::kMlp || !l.intermediate_size) continue;
    const ResolvedField& tpf = p.plan.tp_size;
    if (a.tp % tpf.value != 0) continue;
    std::int64_t width = l.intermediate_size.value;
    if (width % tpf.value != 0) {
      Diagnostic d = make_error(
          "mlp-tp-divides-intermediate", blame(tpf, a),
          fmt::format("MLP {} does not divide its width {} ({})", describe("tp_size", tpf),
                      l.intermediate_size.key, width));
      d.notes.push_back(config_note(l.intermediate_size));
      std::vector<std::int64_t> valid;
      for (auto v : divisors(a.tp)) {
        if (width % v == 0) valid.push_back(v);
      }
      d.notes.push_back({{}, fmt::format("valid MLP tp_size values with tp {}: {}", a.tp, join(valid))});
      d.valid_values = std::move(valid);
      report_for(diags, std::move(d), p, ctx, tpf);
    } else if (tpf.value < a.tp) {
      Diagnostic d = make_note(
          "replicated-layer", blame(tpf, a),
          fmt::format("MLP {} is narrower than tp ({}): {} ranks compute the same shard",
                      describe("tp_size", tpf), a.tp, a.tp / tpf.value));
      report_for(diags, std::move(d), p, ctx, tpf);
    }
  }
}

void check_moe(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  for (const auto& p : ctx.plans) {
    const Layer& l = *p.layer;
    if (l.kind != LayerKind::kMoe) continue;
    const ResolvedField& tpf = p.plan.tp_size;
    const ResolvedField& epf = p.plan.ep_size;
    if (a.tp % tpf.value != 0) continue;
    std::int64_t ep = epf.value;
    std::int64_t domain = 0;
    if (__builtin_mul_overflow(a.dp, a.pcp, &domain) ||
        __builtin_mul_overflow(domain, tpf.value, &domain)) {
      continue;  // world-size-limit already reports the overflow
    }
    if (ep > 1 && tpf.value != a.tp) {
      Diagnostic d = make_error(
          "ep-needs-full-tp", blame(tpf, a),
          fmt::format("expert parallelism ({}) needs the MoE layer at full tp ({}), got {}",
                      describe("ep_size", epf), a.tp, describe("tp_size", tpf)));
      report_for(diags, std::move(d), p, ctx, tpf);
      continue;
    }
    if (domain % ep != 0) {
      Diagnostic d = make_error(
          "ep-divides-domain", blame(epf, a),
          fmt::format("{} does not divide the expert domain dp*pcp*tp = {}*{}*{} = {} ranks",
                      describe("ep_size", epf), a.dp, a.pcp, tpf.value, domain));
      d.valid_values = divisors(domain);
      d.notes.push_back({{}, fmt::format("valid ep_size values: {}", join(d.valid_values))});
      report_for(diags, std::move(d), p, ctx, epf);
      continue;
    }
    std::int64_t etp = domain / ep;
    std::int64_t experts = l.num_experts.value;
    if (ep > experts) {
      Diagnostic d = make_error(
          "ep-exceeds-experts", blame(epf, a),
          fmt::format("{} is more than the {} routed experts: {} ranks of each EP group would hold "
                      "no expert",
                      describe("ep_size", epf), experts, ep - experts));
      d.notes.push_back(config_note(l.num_experts));
      report_for(diags, std::move(d), p, ctx, epf);
    } else if (ep > 1 && experts % ep != 0) {
      std::int64_t base = experts / ep, rem = experts % ep;
      Diagnostic d = make_warning(
          "experts-uneven", blame(epf, a),
          fmt::format("{} routed experts do not divide evenly over {}: ranks 0-{} of each EP "
                      "group hold {} experts, ranks {}-{} hold {} (vLLM places the remainder on "
                      "the first ranks)",
                      experts, describe("ep_size", epf), rem - 1, base + 1, rem, ep - 1, base));
      d.notes.push_back(config_note(l.num_experts));
      std::vector<std::int64_t> even;
      for (auto v : divisors(domain)) {
        if (experts % v == 0) even.push_back(v);
      }
      d.notes.push_back({{}, fmt::format("ep_size values that divide the experts evenly: {}", join(even))});
      report_for(diags, std::move(d), p, ctx, epf);
    }
    if (l.moe_intermediate_size && l.moe_intermediate_size.value % etp != 0) {
      Diagnostic d = make_error(
          "moe-tp-divides-intermediate", blame(ep > 1 ? epf : tpf, a),
          fmt::format("the expert TP (dp*pcp*tp / ep = {} / {} = {}) does not divide the expert "
                      "width {} ({})",
                      domain, ep, etp, l.moe_intermediate_size.key, l.moe_intermediate_size.value));
      d.notes.push_back(config_note(l.moe_intermediate_size));
      report_for(diags, std::move(d), p, ctx, ep > 1 ? epf : tpf);
    }
    if (ep > 1 && ep != domain) {
      Diagnostic d = make_note(
          "ep-not-expressible", blame(epf, a),
          fmt::format("vLLM sets the EP size to dp*pcp*tp = {} when expert parallelism is on; "
                      "{} (expert TP {}) cannot be expressed in vLLM today",
                      domain, describe("ep_size", epf), etp));
      report_for(diags, std::move(d), p, ctx, epf);
    }
  }
}

}  // namespace layerplan
