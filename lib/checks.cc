#include "lib/checks.h"

#include "lib/engine/engine.h"

#include <fmt/format.h>

namespace layerplan {

const std::vector<NamedCheck>& all_checks() {
  static const std::vector<NamedCheck> kChecks = {
      // The engine's own rules first: its parallel config, then what its model code refuses.
      {"engine-parallel-config",
       [](const CheckContext& c, Diagnostics& d) { c.engine.check_parallel_config(c, d); }},
      {"engine-model", [](const CheckContext& c, Diagnostics& d) { c.engine.check_model(c, d); }},
      {"plan-fields", check_plan_fields},
      {"attention", check_attention},
      {"mlp", check_mlp},
      {"moe", check_moe},
      {"shared-experts", check_shared_experts},
      {"mamba", check_mamba},
      {"linear-attention", check_linear_attention},
      {"indexer", check_indexer},
      {"rule-hygiene", check_rule_hygiene},
      {"whitelist", check_whitelist},
  };
  return kChecks;
}

void run_checks(const CheckContext& context, Diagnostics& diags) {
  for (const auto& check : all_checks()) check.run(context, diags);
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

}  // namespace check_util
}  // namespace layerplan
