// `layerplan explain --layer PREFIX`: which rules matched a layer, which won and why, and the
// resulting plan, per-rank sizes and collectives.
#include <unistd.h>

#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/common.h"
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
  std::string value = f.axis.empty() ? std::to_string(f.value) : fmt::format("{} ({})", f.axis, f.value);
  std::string where = f.location.to_string();
  return fmt::format("{}{}{}", value, f.from_rule ? " from the rule" : " (global)",
                     where.empty() ? "" : " at " + where);
}

nlohmann::ordered_json explain_json(const Compilation& c, const LayerPlan& p) {
  const Layer& l = *p.layer;
  nlohmann::ordered_json j = layer_identity(l);
  nlohmann::ordered_json rules = nlohmann::ordered_json::array();
  for (const auto& rule : c.rules->rules) {
    std::vector<std::string> reasons;
    bool matched = rule_matches(rule, l, &reasons);
    rules.push_back({{"position", rule.position},
                     {"line", rule.location.line},
                     {"name", rule.name},
                     {"matched", matched},
                     {"chosen", rule.position == p.rule},
                     {"reasons", reasons}});
  }
  j["rules"] = std::move(rules);
  j["fallback"] = p.fallback();
  j["plan"] = c.engine->layer_plan(p, c.axes);
  j["shape"] = layer_shape(l);
  j["per_rank"] = c.engine->per_rank(p, c.axes);
  j["comms"] = c.engine->comms(p, c.axes);
  return j;
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
  sub->add_option("--layer", flags->layer, "layer prefix, e.g. model.layers.0.self_attn")->required();
  add_emit_option(*sub, flags->emit, kExplainEmits, "the explanation as text or as json");
  sub->callback([flags, sub] {
    apply_deprecated_format(*sub, "explain", flags->inputs.format, flags->emit, kExplainEmits, std::cerr);
    require_plan_inputs(flags->inputs, "explain");
    auto c = compile(make_request(flags->inputs));
    int code = exit_code_of(*c, flags->inputs.werror);
    if (!c->model || !c->rules || c->plans.empty()) {
      report_diagnostics(*c, flags->inputs, std::cerr, ::isatty(STDERR_FILENO) != 0);
      throw CLI::RuntimeError(code == kExitOk ? kExitInvalid : code);
    }
    const LayerPlan* p = c->find_layer(flags->layer);
    if (p == nullptr) {
      std::vector<std::string> prefixes;
      for (const auto& l : c->model->layers) prefixes.push_back(l.prefix);
      std::string hint = closest_match(flags->layer, prefixes);
      std::cerr << fmt::format("layerplan: error: the model has no layer '{}'{} [layer-not-found]\n",
                               flags->layer, hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint));
      std::cerr << "note: `layerplan layers --config " << flags->inputs.config << "` lists them\n";
      throw CLI::RuntimeError(kExitUsage);
    }
    if (flags->emit == "json") {
      std::cout << dump_json(explain_json(*c, *p)) << "\n";
      throw CLI::RuntimeError(code);
    }
    const Layer& l = *p->layer;
    std::cout << fmt::format("layer {}: kind {}{}{}{}\n", l.prefix, kind_name(l.kind),
                             l.kind == LayerKind::kAttention ? fmt::format(" ({})", flavor_name(l.flavor)) : "",
                             l.index ? fmt::format(", index {}", *l.index) : "", l.mtp ? ", MTP" : "");
    std::cout << "rules, in order (the first match wins):\n";
    for (const auto& rule : c->rules->rules) {
      std::vector<std::string> reasons;
      bool matched = rule_matches(rule, l, &reasons);
      std::cout << fmt::format("  rule {}{} (line {}): {}\n", rule.position,
                               rule.name.empty() ? "" : " '" + rule.name + "'", rule.location.line,
                               rule.position == p->rule ? "matches, CHOSEN"
                               : matched               ? "matches, but an earlier rule won"
                                                       : "does not match");
      for (const auto& r : reasons) std::cout << "      " << r << "\n";
    }
    if (p->fallback()) std::cout << "  no rule matches: the layer keeps the global plan\n";
    std::cout << "plan:\n";
    std::cout << "  tp_size  " << field_origin(p->plan.tp_size) << "\n";
    std::cout << "  dcp_size " << field_origin(p->plan.dcp_size) << "\n";
    std::cout << "  ep_size  " << field_origin(p->plan.ep_size) << "\n";
    std::cout << "shape:    " << layer_shape(l).dump() << "\n";
    if (c->layout) {
      std::cout << "per rank: " << c->engine->per_rank(*p, c->axes).dump() << "\n";
      auto plan = c->engine->layer_plan(*p, c->axes);
      if (plan["tp_group"].is_string()) {
        if (const GroupSet* set = c->layout->find(plan["tp_group"].get<std::string>())) {
          std::cout << fmt::format("tp group set '{}': {} groups, first [{}]\n", set->name,
                                   set->count(), fmt::join(set->group(0), ","));
        }
      }
      for (const auto& comm : c->engine->comms(*p, c->axes)) {
        std::cout << fmt::format("comm:     {} on '{}', {} elements per token: {}\n",
                                 comm["op"].get<std::string>(), comm["group"].get<std::string>(),
                                 comm["elements_per_token"].get<std::int64_t>(),
                                 comm["why"].get<std::string>());
      }
    }
    // Diagnostics that concern this layer (or the plan as a whole).
    Diagnostics mine;
    for (const auto& d : c->diags.all()) {
      if (d.subjects.empty() ||
          std::find(d.subjects.begin(), d.subjects.end(), l.prefix) != d.subjects.end()) {
        Diagnostic copy = d;
        copy.subjects.clear();
        mine.report(std::move(copy));
      }
    }
    if (!mine.all().empty()) {
      std::cout << "diagnostics:\n";
      std::cout << render_text(mine.sorted(), render_options(flags->inputs, ::isatty(STDOUT_FILENO) != 0));
    }
    throw CLI::RuntimeError(code);
  });
}

}  // namespace layerplan::cli
