#include "lib/explain.h"

#include <algorithm>

#include "lib/manifest.h"

namespace layerplan {

std::optional<LayerExplanation> explain_layer(const Compilation& c, std::string_view prefix,
                                              std::string* closest) {
  if (const LayerPlan* p = c.find_layer(prefix)) return explain_layer(c, *p);
  if (closest && c.model) {
    std::vector<std::string> prefixes;
    for (const auto& l : c.model->layers) prefixes.push_back(l.prefix);
    *closest = closest_match(prefix, prefixes);
  }
  return std::nullopt;
}

LayerExplanation explain_layer(const Compilation& c, const LayerPlan& plan) {
  const Layer& l = *plan.layer;
  LayerExplanation out;
  out.plan = &plan;
  if (c.rules) {
    for (const auto& rule : c.rules->rules) {
      RuleMatch m;
      m.rule = &rule;
      m.matched = rule_matches(rule, l, &m.reasons);
      m.chosen = rule.position == plan.rule;
      out.rules.push_back(std::move(m));
    }
  }
  const Layout* layout = c.layout ? &*c.layout : nullptr;
  out.facts = layer_facts(*c.engine, plan, c.axes, layout, nullptr);
  out.laid_out = layout != nullptr;
  if (layout && !out.facts.fields.tp_group.empty()) {
    if (const GroupSet* set = layout->find(out.facts.fields.tp_group)) {
      out.tp_group_set = GroupSetSummary{set->name, set->count(), set->group(0)};
    }
  }
  for (const auto& d : c.diags.all()) {
    if (d.subjects.empty() ||
        std::find(d.subjects.begin(), d.subjects.end(), l.prefix) != d.subjects.end()) {
      Diagnostic copy = d;
      copy.subjects.clear();
      out.diagnostics.report(std::move(copy));
    }
  }
  return out;
}

nlohmann::ordered_json explanation_json(const LayerExplanation& e) {
  using ojson = nlohmann::ordered_json;
  const Layer& l = *e.plan->layer;
  ojson j = layer_identity(l);
  ojson rules = ojson::array();
  for (const auto& m : e.rules) {
    rules.push_back({{"position", m.rule->position},
                     {"line", m.rule->location.line},
                     {"name", m.rule->name},
                     {"matched", m.matched},
                     {"chosen", m.chosen},
                     {"reasons", m.reasons}});
  }
  j["rules"] = std::move(rules);
  j["fallback"] = e.plan->fallback();
  j["plan"] = plan_fields_json(e.facts.fields);
  j["shape"] = layer_shape(l);
  j["per_rank"] = per_rank_json(e.facts.per_rank);
  j["comms"] = collectives_json(e.facts.comms);
  return j;
}

}  // namespace layerplan
