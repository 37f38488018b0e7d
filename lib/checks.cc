#include "lib/checks.h"

#include <fmt/format.h>

#include "lib/checks_list.h"
#include "lib/engine/engine.h"
#include "lib/engine/vllm.h"
#include "lib/engine/vllm_checks.h"

namespace layerplan {

namespace {

using EngineFn = const Engine& (*)();

Check check_row(std::string_view code, CheckScope scope, std::string_view group, EngineFn engine) {
  Check c;
  c.code = code;
  c.scope = scope;
  c.group = group;
  c.engine = engine;
  return c;
}

// vLLM's parallel config: every axis check is an engine's.
Check axes_check(std::string_view code, PlanCheckFn fn) {
  Check c = check_row(code, CheckScope::kAxes, {}, vllm_engine);
  c.run_plan = fn;
  return c;
}

Check plan_check(std::string_view code, PlanCheckFn fn, EngineFn engine = nullptr) {
  Check c = check_row(code, CheckScope::kPlan, {}, engine);
  c.run_plan = fn;
  return c;
}

Check rule_check(std::string_view code, std::string_view group, RuleCheckFn fn) {
  Check c = check_row(code, CheckScope::kRule, group, nullptr);
  c.run_rule = fn;
  return c;
}

Check layer_check(std::string_view code, std::string_view group, std::optional<LayerKind> kind,
                  LayerCheckFn fn, EngineFn engine = nullptr) {
  Check c = check_row(code, CheckScope::kLayer, group, engine);
  c.run_layer = fn;
  c.kind = kind;
  return c;
}

}  // namespace

const std::vector<Check>& check_table() {
  using K = LayerKind;
  constexpr std::nullopt_t kAny = std::nullopt;
  const auto vllm = vllm_engine;
  static const std::vector<Check> kChecks = {
      // vLLM's parallel config (lib/engine/vllm_parallel_config.cc).
      axes_check("world-size-limit", check_world_size_limit),
      axes_check("world-size-mismatch", check_world_size_mismatch),
      axes_check("pcp-with-dp", check_pcp_with_dp),
      axes_check("pcp-with-pp", check_pcp_with_pp),
      axes_check("dcp-divides-tp", check_dcp_divides_tp),
      axes_check("dcp-with-pcp", check_dcp_with_pcp),
      axes_check("attn-tp-exceeds-tp", check_attn_tp_exceeds_tp),
      axes_check("attn-tp-divides-tp", check_attn_tp_divides_tp),
      axes_check("tpa-invariant", check_tpa_invariant),
      axes_check("pp-exceeds-layers", check_pp_exceeds_layers),
      axes_check("pp-partition-length", check_pp_partition_length),
      axes_check("pp-partition-sum", check_pp_partition_sum),
      // What vLLM's model code refuses (lib/engine/vllm_model.cc).
      plan_check("pcp-needs-mla", check_pcp_needs_mla, vllm),
      plan_check("pcp-with-mtp", check_pcp_with_mtp, vllm),
      layer_check("vocab-divides-tp", "vocab", kAny, check_vocab_divides_tp, vllm),
      layer_check("vocab-padding", "vocab", kAny, check_vocab_padding, vllm),
      layer_check("tp-exceeds-experts", "tp-exceeds-experts", K::kMoe, check_tp_exceeds_experts,
                  vllm),
      plan_check("mlp-divides-world", check_mlp_divides_world, vllm),
      plan_check("dcp-sliding-window", check_dcp_sliding_window, vllm),
      // A layer's plan fields (lib/checks_layers.cc).
      layer_check("tp-size-divides-tp", "plan-fields", kAny, check_tp_size_divides_tp),
      layer_check("dcp-size-mismatch", "plan-fields", kAny, check_dcp_size_mismatch),
      layer_check("dcp-on-non-attention", "plan-fields", kAny, check_dcp_on_non_attention),
      layer_check("ep-on-non-moe", "plan-fields", kAny, check_ep_on_non_moe),
      // Attention layers.
      layer_check("attn-tp-divides-heads", "attention", K::kAttention, check_attn_tp_divides_heads),
      layer_check("kv-heads-divisibility", "attention", K::kAttention, check_kv_heads_divisibility),
      layer_check("kv-head-replication", "attention", K::kAttention, check_kv_head_replication),
      layer_check("mla-narrow-tp", "attention", K::kAttention, check_mla_narrow_tp),
      layer_check("dcp-not-uniform", "attention", K::kAttention, check_dcp_not_uniform),
      layer_check("layer-tpa-invariant", "attention", K::kAttention, check_layer_tpa_invariant),
      layer_check("replicated-layer", "attention", K::kAttention, check_replicated_attention),
      layer_check("dcp-gqa-kv-heads", "attention", K::kAttention, check_dcp_gqa_kv_heads),
      layer_check("dcp-gqa-max", "attention", K::kAttention, check_dcp_gqa_max),
      layer_check("dcp-gqa-q-per-kv", "attention", K::kAttention, check_dcp_gqa_q_per_kv),
      // Dense MLP layers.
      layer_check("mlp-tp-divides-intermediate", "mlp", K::kMlp, check_mlp_tp_divides_intermediate),
      layer_check("replicated-layer", "mlp", K::kMlp, check_replicated_mlp),
      // MoE layers.
      layer_check("ep-needs-full-tp", "moe", K::kMoe, check_ep_needs_full_tp),
      layer_check("ep-divides-domain", "moe", K::kMoe, check_ep_divides_domain),
      layer_check("ep-exceeds-experts", "moe", K::kMoe, check_ep_exceeds_experts),
      layer_check("experts-uneven", "moe", K::kMoe, check_experts_uneven),
      layer_check("moe-tp-divides-intermediate", "moe", K::kMoe, check_moe_tp_divides_intermediate),
      layer_check("ep-not-expressible", "moe", K::kMoe, check_ep_not_expressible),
      // Hybrid and sparse kinds (lib/checks_hybrid.cc).
      layer_check("moe-shared-tp-divides-intermediate", "shared-experts", K::kMoe,
                  check_moe_shared_tp_divides_intermediate),
      layer_check("mamba-tp-divides-heads", "mamba", K::kMamba, check_mamba_tp_divides_heads),
      layer_check("mamba-groups-divisibility", "mamba", K::kMamba, check_mamba_groups_divisibility),
      layer_check("mamba-tp-divides-inner", "mamba", K::kMamba, check_mamba_tp_divides_inner),
      layer_check("linear-attn-tp-divides-heads", "linear-attention", K::kLinearAttention,
                  check_linear_attn_tp_divides_heads),
      layer_check("indexer-sharded", "indexer", K::kIndexer, check_indexer_sharded),
      // Rule hygiene and the whitelist gate (lib/checks_rules.cc).
      rule_check("rule-matches-nothing", "rule-hygiene", check_rule_matches_nothing),
      rule_check("rule-shadowed", "rule-hygiene", check_rule_shadowed),
      plan_check("arch-unverified", check_arch_unverified),
  };
  return kChecks;
}

const std::vector<OtherStageCode>& codes_reported_elsewhere() {
  static const std::vector<OtherStageCode> kCodes = {
      // Reading the inputs.
      {"input-unreadable", "lib/hf_config.cc"},
      {"model-not-found", "lib/pipeline.cc"},
      {"inputs-swapped", "lib/pipeline.cc"},
      {"ignore-unknown-code", "lib/ignores.cc"},
      {"json-syntax", "lib/json_reader.cc"},
      {"json-limit", "lib/json_reader.cc"},
      {"config-missing-field", "lib/hf_config.cc"},
      {"config-invalid-field", "lib/hf_config.cc"},
      {"manifest-invalid", "lib/manifest_file.cc"},
      // Expanding the model's layers.
      {"config-not-a-model", "lib/expand.cc"},
      {"arch-unknown", "lib/expand.cc"},
      {"arch-declaration", "lib/arch_parse.cc"},
      {"config-unsupported", "lib/expand_blocks.cc"},
      {"config-ignored", "lib/expand_slots.cc"},
      {"mla-not-enabled", "lib/expand_numbers.cc"},
      // The engine's other stages: memory, the launch line, node placement.
      {"quant-unknown", "lib/engine/vllm_quant.cc"},
      {"vllm-args-syntax", "lib/engine/vllm_args.cc"},
      {"unknown-parallel-flag", "lib/engine/vllm_args.cc"},
      {"vllm-args-ignored", "lib/engine/vllm_args.cc"},
      {"nodes-invalid", "lib/engine/vllm_nodes.cc"},
      {"group-spans-nodes", "lib/engine/vllm_nodes.cc"},
      // Parsing the rules file.
      {"yaml-syntax", "lib/yaml_source.cc"},
      {"yaml-limit", "lib/yaml_source.cc"},
      {"missing-key", "lib/rules.cc"},
      {"unknown-key", "lib/yaml_source.cc"},
      {"duplicate-key", "lib/yaml_source.cc"},
      {"wrong-type", "lib/yaml_source.cc"},
      {"invalid-value", "lib/yaml_source.cc"},
      {"undefined-axis", "lib/rules.cc"},
      {"axis-near-builtin", "lib/rules.cc"},
      {"axis-unused", "lib/rules.cc"},
      {"unknown-kind", "lib/rules.cc"},
      {"unknown-flavor", "lib/rules.cc"},
      {"bad-pattern", "lib/rules.cc"},
      {"bad-layer-range", "lib/rules.cc"},
      // `explain --layer`.
      {"layer-not-found", "cli/explain_command.cc"},
  };
  return kCodes;
}

namespace {

bool runs_for(const Check& check, const Engine& engine) {
  return check.engine == nullptr || &check.engine() == &engine;
}

// Replays a group's reports into the sink, in the order they were made.
void flush_check_group(Diagnostics& group, Diagnostics& diags) {
  for (const auto& d : group.all()) diags.report(d);
}

}  // namespace

void run_checks(const CheckContext& ctx, Diagnostics& diags) {
  const std::vector<Check>& table = check_table();
  // Each group's reports, filled by the loops over the rules and the layers.
  std::vector<Diagnostics> groups(table.size());
  std::vector<std::size_t> group_of(table.size());
  for (std::size_t i = 0; i < table.size(); ++i) {
    bool same = i > 0 && !table[i].group.empty() && table[i].group == table[i - 1].group &&
                table[i].scope == table[i - 1].scope;
    group_of[i] = same ? group_of[i - 1] : i;
  }
  // One pass over the plans: what each rule matches and takes.
  std::size_t rule_count = ctx.rules.rules.size();
  std::vector<int> matched(rule_count, 0), won(rule_count, 0);
  std::vector<std::set<int>> takers(rule_count);
  for (const auto& p : ctx.plans) {
    for (int r : p.matched) {
      ++matched[static_cast<std::size_t>(r)];
      if (r != p.rule) takers[static_cast<std::size_t>(r)].insert(p.rule);
    }
    if (!p.fallback()) ++won[static_cast<std::size_t>(p.rule)];
  }
  std::optional<ModelSummary> summary;
  for (const auto& rule : ctx.rules.rules) {
    auto r = static_cast<std::size_t>(rule.position);
    RuleUse use{rule, matched[r], won[r], takers[r], ctx.model, summary};
    for (std::size_t i = 0; i < table.size(); ++i) {
      const Check& c = table[i];
      if (c.scope == CheckScope::kRule && runs_for(c, ctx.engine)) {
        c.run_rule(ctx, use, groups[group_of[i]]);
      }
    }
  }
  // One pass over the layers, through the rows that run for this engine.
  std::vector<std::size_t> layer_rows;
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (table[i].scope == CheckScope::kLayer && runs_for(table[i], ctx.engine)) {
      layer_rows.push_back(i);
    }
  }
  for (const auto& p : ctx.plans) {
    for (std::size_t i : layer_rows) {
      const Check& c = table[i];
      if (!c.kind || *c.kind == p.layer->kind) c.run_layer(ctx, p, groups[group_of[i]]);
    }
  }
  // The table in order: axis and plan checks run now; a group reports at its first row.
  for (std::size_t i = 0; i < table.size(); ++i) {
    const Check& c = table[i];
    if (!runs_for(c, ctx.engine)) continue;
    if (c.scope == CheckScope::kAxes || c.scope == CheckScope::kPlan) {
      c.run_plan(ctx, diags);
    } else if (group_of[i] == i) {
      flush_check_group(groups[i], diags);
    }
  }
}

void run_axis_checks(const CheckContext& ctx, Diagnostics& diags) {
  for (const auto& c : check_table()) {
    if (c.scope == CheckScope::kAxes && runs_for(c, ctx.engine)) c.run_plan(ctx, diags);
  }
}

namespace check_util {

std::vector<std::int64_t> divisors(std::int64_t n) {
  // Trial division up to sqrt(n): beyond kMaxDimension (an axis near 2^63, say) it would take
  // seconds per call, and such a list helps nobody.
  if (n > kMaxDimension) return {};
  std::vector<std::int64_t> low, high;
  for (std::int64_t d = 1; d <= n / d; ++d) {
    if (n % d != 0) continue;
    low.push_back(d);
    if (d != n / d) high.push_back(n / d);
  }
  low.insert(low.end(), high.rbegin(), high.rend());
  return low;
}

std::optional<std::int64_t> checked_product(std::int64_t a, std::int64_t b) {
  std::int64_t out = 0;
  if (__builtin_mul_overflow(a, b, &out)) return std::nullopt;
  return out;
}

std::string product_text(std::optional<std::int64_t> product) {
  return product ? std::to_string(*product) : std::string("more than 2^63");
}

std::string join(const std::vector<std::int64_t>& values) {
  if (values.empty()) return "(too many to list)";
  return fmt::format("{}", fmt::join(values, ", "));
}

Note config_note(const ConfigValue& value) {
  return Note{value.location, fmt::format("{} is {}", value.key, value.value)};
}

Location blame(const ResolvedField& field, const AxisValues& axes) {
  if (!field.axis.empty()) {
    auto it = axes.locations.find(field.axis);
    if (it != axes.locations.end()) return it->second;
  }
  return field.location;
}

std::string config_text(const ConfigValue& value) {
  return fmt::format("{} ({})", value.key, value.value);
}

std::string describe(std::string_view field_name, const ResolvedField& field) {
  if (field.axis.empty()) return fmt::format("{} {}", field_name, field.value);
  return fmt::format("{} {} ({})", field_name, field.axis, field.value);
}

Note origin_note(const LayerPlan& plan, const RulesFile& rules, const ResolvedField& field) {
  if (plan.fallback()) {
    return Note{{}, fmt::format("no rule matches these layers; they keep the global plan")};
  }
  const Rule& rule = rules.rules[static_cast<std::size_t>(plan.rule)];
  Location where = field.from_rule ? field.location : rule.location;
  std::string label = rule.name.empty() ? "" : fmt::format(" '{}'", rule.name);
  return Note{where, fmt::format("chosen by rule {}{}", rule.position, label)};
}

void report_for(Diagnostics& diags, Diagnostic d, const LayerPlan& p, const CheckContext& ctx,
                const ResolvedField& field) {
  d.notes.insert(d.notes.begin(), origin_note(p, ctx.rules, field));
  d.subjects.push_back(p.layer->prefix);
  diags.report(std::move(d));
}

Diagnostic does_not_divide(std::string_view code, Location where, std::string_view divisor,
                           std::string_view dividend, std::string_view rest) {
  return make_error(code, std::move(where),
                    fmt::format("{} does not divide {}{}", divisor, dividend, rest));
}

void suggest_values(Diagnostic& d, std::string_view lead, std::vector<std::int64_t> valid,
                    std::string_view if_none) {
  d.notes.push_back(
      Note{{}, fmt::format("{}: {}", lead, valid.empty() ? std::string(if_none) : join(valid))});
  d.valid_values = std::move(valid);
}

}  // namespace check_util
}  // namespace layerplan
