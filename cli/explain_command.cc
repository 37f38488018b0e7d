// `layerplan explain --layer PREFIX`: which rules matched a layer, which won and why, and the
// resulting plan, per-rank sizes and collectives.
#include <fmt/format.h>
#include <unistd.h>

#include <iostream>
#include <memory>

#include "cli/common.h"
#include "lib/explain.h"
#include "lib/manifest.h"

namespace layerplan::cli {

namespace {

struct ExplainFlags {
  InputFlags inputs;
  std::string layer;
  std::string emit;  // text | json
};
const std::vector<std::string> kExplainEmits = {"text", "json"};

std::string field_origin(const ResolvedField& f) {
  if (!f.from_rule && f.axis.empty()) return fmt::format("{} (global: not split)", f.value);
  std::string value =
      f.axis.empty() ? std::to_string(f.value) : fmt::format("{} ({})", f.axis, f.value);
  std::string where = f.location.to_string();
  return fmt::format("{}{}{}", value, f.from_rule ? " from the rule" : " (global)",
                     where.empty() ? "" : " at " + where);
}

// The layer, every rule's verdict, the plan with each field's origin, and what the layer is
// under it.
std::string explanation_text(const LayerExplanation& e) {
  const LayerPlan& p = *e.plan;
  const Layer& l = *p.layer;
  std::string out = fmt::format(
      "layer {}: kind {}{}{}{}\n", l.prefix, kind_name(l.kind),
      l.kind == LayerKind::kAttention ? fmt::format(" ({})", flavor_name(l.flavor)) : "",
      l.index ? fmt::format(", index {}", *l.index) : "", l.mtp ? ", MTP" : "");
  out += "rules, in order (the first match wins):\n";
  for (const auto& m : e.rules) {
    out += fmt::format("  rule {}{} (line {}): {}\n", m.rule->position,
                       m.rule->name.empty() ? "" : " '" + m.rule->name + "'", m.rule->location.line,
                       m.chosen    ? "matches, CHOSEN"
                       : m.matched ? "matches, but an earlier rule won"
                                   : "does not match");
    for (const auto& r : m.reasons) out += "      " + r + "\n";
  }
  if (p.fallback()) out += "  no rule matches: the layer keeps the global plan\n";
  out += "plan:\n";
  out += "  tp_size  " + field_origin(p.plan.tp_size) + "\n";
  out += "  dcp_size " + field_origin(p.plan.dcp_size) + "\n";
  out += "  ep_size  " + field_origin(p.plan.ep_size) + "\n";
  out += "shape:    " + layer_shape(l).dump() + "\n";
  if (!e.laid_out) return out;
  out += "per rank: " + per_rank_json(e.facts.per_rank).dump() + "\n";
  if (const auto& set = e.tp_group_set) {
    out += fmt::format("tp group set '{}': {} groups, first [{}]\n", set->name, set->count,
                       fmt::join(set->first, ","));
  }
  for (const auto& c : e.facts.comms) {
    out += fmt::format("comm:     {} on '{}', {} elements per token: {}\n",
                       collective_op_name(c.op), c.group, c.elements_per_token, c.why);
  }
  return out;
}

}  // namespace

void register_explain(CLI::App& app) {
  auto flags = std::make_shared<ExplainFlags>();
  CLI::App* sub = app.add_subcommand("explain", "explain how one layer's plan was chosen");
  set_command_help(*sub, {"0  the plan is valid\n"
                          "1  the plan is invalid, or no layer has that prefix\n"
                          "2  a usage error or an input that cannot be read",
                          "layerplan explain --config fixtures/models/llama3_8b.json --rules "
                          "fixtures/rules/good_llama8b_tpa.yaml --layer model.layers.0.self_attn"});
  add_input_flags(*sub, flags->inputs, /*with_rules=*/true);
  sub->add_option("--layer", flags->layer, "layer prefix, e.g. model.layers.0.self_attn")
      ->required();
  add_emit_option(*sub, flags->emit, kExplainEmits, "the explanation as text or as json");
  sub->callback([flags, sub] {
    apply_deprecated_format(*sub, "explain", flags->inputs.format, flags->emit, kExplainEmits,
                            std::cerr);
    require_plan_inputs(flags->inputs, "explain");
    auto c = compile(make_request(flags->inputs));
    int code = exit_code_of(*c, flags->inputs.werror);
    if (!c->model || !c->rules || c->plans.empty()) {
      report_diagnostics(*c, flags->inputs, std::cerr, ::isatty(STDERR_FILENO) != 0);
      throw CLI::RuntimeError(code == kExitOk ? kExitInvalid : code);
    }
    std::string hint;
    auto e = explain_layer(*c, flags->layer, &hint);
    if (!e) {
      std::cerr << fmt::format(
          "layerplan: error: the model has no layer '{}'{} [layer-not-found]\n", flags->layer,
          hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint));
      std::cerr << "note: `layerplan layers --config " << flags->inputs.config << "` lists them\n";
      throw CLI::RuntimeError(kExitUsage);
    }
    if (flags->emit == "json") {
      std::cout << dump_json(explanation_json(*e)) << "\n";
      throw CLI::RuntimeError(code);
    }
    std::cout << explanation_text(*e);
    if (!e->diagnostics.all().empty()) {
      std::cout << "diagnostics:\n";
      std::cout << render_text(e->diagnostics.sorted(),
                               render_options(flags->inputs, ::isatty(STDOUT_FILENO) != 0));
    }
    throw CLI::RuntimeError(code);
  });
}

}  // namespace layerplan::cli
