// Named checks (clang-tidy style): each is a small function named by the catalogue code it
// reports, registered in one table (check_table(), lib/checks.cc) and run by one runner. All run;
// none stops the others. docs/architecture.md, "Adding a check", says how to add one.
#pragma once

#include <optional>
#include <set>
#include <string>
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

// What a check looks at. Axis checks need the axes alone and also run when the rules file has
// errors of its own (run_axis_checks); plan checks look at the whole plan once; rule checks are
// called for one rule at a time, in one loop over the rules; layer checks for one layer at a
// time, all of them in one loop over the layers.
enum class CheckScope { kAxes, kPlan, kRule, kLayer };

// The model's layers at a glance, for the notes of rules that match nothing.
struct ModelSummary {
  std::vector<std::string> shapes, kinds, flavors;
  std::vector<std::string> mtp_prefixes;
};

// What the plans make of one rule, computed in one pass over the plans for the rule checks.
struct RuleUse {
  const Rule& rule;
  int matched = 0;              // layers it matches
  int won = 0;                  // layers it takes (no earlier rule matches them)
  const std::set<int>& takers;  // the earlier rules that took layers it matches
  const Model& model;
  std::optional<ModelSummary>& summary_cache;
  // Computed on first use, once per run (a model has up to 20002 layers, a file 256 rules).
  [[nodiscard]] const ModelSummary& summary() const;
};

using PlanCheckFn = void (*)(const CheckContext&, Diagnostics&);
using RuleCheckFn = void (*)(const CheckContext&, const RuleUse&, Diagnostics&);
using LayerCheckFn = void (*)(const CheckContext&, const LayerPlan&, Diagnostics&);

// One row of the table.
struct Check {
  std::string_view code;  // the catalogue code (lib/diagnostics.cc) it reports, and only that
  CheckScope scope = CheckScope::kPlan;
  PlanCheckFn run_plan = nullptr;    // kAxes, kPlan
  RuleCheckFn run_rule = nullptr;    // kRule
  LayerCheckFn run_layer = nullptr;  // kLayer
  // kLayer: the layers it is called for, every kind when empty.
  std::optional<LayerKind> kind;
  // kRule, kLayer: the rows of one group report together, rule by rule or layer by layer, at the
  // place of the group's first row; the rows of a group are adjacent. (Today's order of
  // diagnostics, which `suggest` shows, is that of one loop per group.)
  std::string_view group;
  // The engine whose rule it is (its accessor); null for rules of every engine.
  const Engine& (*engine)() = nullptr;
};

// The table of checks, in the order they report.
[[nodiscard]] const std::vector<Check>& check_table();

// The catalogue codes no check reports, with the stage (a source file) that reports them.
struct OtherStageCode {
  std::string_view code;
  std::string_view file;  // relative to the source root
};
[[nodiscard]] const std::vector<OtherStageCode>& codes_reported_elsewhere();

// Runs every row of the table for `context.engine`: plan and axis checks once, layer checks in
// one pass over context.plans.
void run_checks(const CheckContext& context, Diagnostics& diags);
// Runs the axis checks alone.
void run_axis_checks(const CheckContext& context, Diagnostics& diags);

// Largest rank count layerplan lists groups for.
inline constexpr std::int64_t kMaxWorldSize = std::int64_t{1} << 20;

// Helpers shared by the check files.
namespace check_util {
// The divisors of n, ascending; empty when n > kMaxDimension (too many to be worth listing).
[[nodiscard]] std::vector<std::int64_t> divisors(std::int64_t n);
// The divisors v of n for which ok(v) holds.
template <typename Ok>
[[nodiscard]] std::vector<std::int64_t> divisors_where(std::int64_t n, Ok ok) {
  std::vector<std::int64_t> out;
  for (auto v : divisors(n)) {
    if (ok(v)) out.push_back(v);
  }
  return out;
}
// a * b, or nullopt when it overflows 64 bits (a rule's literal may be anything up to 2^63).
[[nodiscard]] std::optional<std::int64_t> checked_product(std::int64_t a, std::int64_t b);
// A checked product as a message shows it: the number, or "more than 2^63".
[[nodiscard]] std::string product_text(std::optional<std::int64_t> product);
// "1, 2, 4, 8"; "(too many to list)" for an empty list.
[[nodiscard]] std::string join(const std::vector<std::int64_t>& values);
// A note pointing into config.json: "num_attention_heads is 64".
[[nodiscard]] Note config_note(const ConfigValue& value);
// A config.json value as a message names it: "num_attention_heads (64)".
[[nodiscard]] std::string config_text(const ConfigValue& value);
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
// The one "X does not divide Y" error: "{divisor} does not divide {dividend}{rest}", e.g.
// "dcp (3) does not divide tp (8)". `rest` continues the sentence ("; …", ": …").
[[nodiscard]] Diagnostic does_not_divide(std::string_view code, Location where,
                                         std::string_view divisor, std::string_view dividend,
                                         std::string_view rest = {});
// The suggestion of a diagnostic: the note "{lead}: 1, 2, 4" (`if_none` for an empty list) and
// the same values as data.
void suggest_values(Diagnostic& d, std::string_view lead, std::vector<std::int64_t> valid,
                    std::string_view if_none = "(too many to list)");
}  // namespace check_util

}  // namespace layerplan
