// Named checks (clang-tidy style): each is a small function over the resolved plan that reports
// into the diagnostics sink under its own kebab-case codes. All run; none stops the others.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "lib/architectures.h"
#include "lib/diagnostics.h"
#include "lib/resolver.h"

namespace layerplan {

class Engine;

struct CheckOptions {
  bool allow_unverified = false;  // downgrade arch-unverified to a warning
};

struct CheckContext {
  const Model& model;
  const RulesFile& rules;
  const AxisValues& axes;
  const std::vector<LayerPlan>& plans;
  const ArchRegistry& registry;
  const Engine& engine;
  CheckOptions options;
};

struct NamedCheck {
  std::string_view name;
  void (*run)(const CheckContext&, Diagnostics&);
};

// The table of checks, in the order they run.
[[nodiscard]] const std::vector<NamedCheck>& all_checks();
void run_checks(const CheckContext& context, Diagnostics& diags);

// Largest rank count layerplan lists groups for.
inline constexpr std::int64_t kMaxWorldSize = std::int64_t{1} << 20;

// Helpers shared by the check files.
namespace check_util {
// The divisors of n, ascending; empty when n > kMaxDimension (too many to be worth listing).
[[nodiscard]] std::vector<std::int64_t> divisors(std::int64_t n);
// a * b, or nullopt when it overflows 64 bits (a rule's literal may be anything up to 2^63).
[[nodiscard]] std::optional<std::int64_t> checked_product(std::int64_t a, std::int64_t b);
// A checked product as a message shows it: the number, or "more than 2^63".
[[nodiscard]] std::string product_text(std::optional<std::int64_t> product);
// "1, 2, 4, 8"; "(too many to list)" for an empty list.
[[nodiscard]] std::string join(const std::vector<std::int64_t>& values);
// A note pointing into config.json: "num_attention_heads is 64".
[[nodiscard]] Note config_note(const ConfigValue& value);
// The location to blame for a plan field: the axis declaration when the field names a declared
// axis, else the literal in the rule (or the axes section on fallback).
[[nodiscard]] Location blame(const ResolvedField& field, const AxisValues& axes);
// "tp_size attn_tp (4)" or "tp_size 4".
[[nodiscard]] std::string describe(std::string_view field_name, const ResolvedField& field);
// A note naming the rule (or the fallback) that chose a plan for a layer.
[[nodiscard]] Note origin_note(const LayerPlan& plan, const RulesFile& rules,
                               const ResolvedField& field);
// Reports `d` for one layer: adds the rule note and the layer's prefix as a subject.
void report_for(Diagnostics& diags, Diagnostic d, const LayerPlan& plan, const CheckContext& ctx,
                const ResolvedField& field);
}  // namespace check_util

void check_plan_fields(const CheckContext& context, Diagnostics& diags);
void check_attention(const CheckContext& context, Diagnostics& diags);
void check_mlp(const CheckContext& context, Diagnostics& diags);
void check_moe(const CheckContext& context, Diagnostics& diags);
void check_shared_experts(const CheckContext& context, Diagnostics& diags);
void check_mamba(const CheckContext& context, Diagnostics& diags);
void check_linear_attention(const CheckContext& context, Diagnostics& diags);
void check_indexer(const CheckContext& context, Diagnostics& diags);
void check_rule_hygiene(const CheckContext& context, Diagnostics& diags);
void check_whitelist(const CheckContext& context, Diagnostics& diags);

}  // namespace layerplan
