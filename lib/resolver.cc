#include "lib/resolver.h"

#include <fmt/format.h>

#include "lib/engine/engine.h"
#include "lib/glob.h"

namespace layerplan {
namespace {

bool mul_overflows(std::int64_t a, std::int64_t b, std::int64_t& out) {
  return __builtin_mul_overflow(a, b, &out);
}

}  // namespace

ResolvedField axis_field(const AxisValues& axes, const RulesFile& rules, std::string_view axis,
                         std::int64_t value) {
  ResolvedField f;
  f.value = value;
  if (axes.value(axis).has_value() && axes.locations.count(std::string(axis)) != 0) {
    f.axis = std::string(axis);
  }
  f.location = axes.location(axis, rules.axes_root);
  return f;
}

std::optional<std::int64_t> AxisValues::value(std::string_view name) const {
  if (name == "tp") return tp;
  if (name == "attn_tp") return attn_tp;
  if (name == "dcp") return dcp;
  if (name == "pcp") return pcp;
  if (name == "pp") return pp;
  if (name == "dp") return dp;
  if (name == "ep") return ep;
  auto it = custom.find(std::string(name));
  if (it != custom.end()) return it->second;
  return std::nullopt;
}

Location AxisValues::location(std::string_view name, const Location& fallback) const {
  auto it = locations.find(std::string(name));
  return it == locations.end() ? fallback : it->second;
}

AxisValues resolve_axes(const RulesFile& rules) {
  AxisValues a;
  bool attn_tp_declared = false;
  for (const auto& axis : rules.axes) {
    a.locations[axis.name] = axis.location;
    if (axis.name == "tp")
      a.tp = axis.value;
    else if (axis.name == "attn_tp") {
      a.attn_tp = axis.value;
      attn_tp_declared = true;
    } else if (axis.name == "dcp")
      a.dcp = axis.value;
    else if (axis.name == "pcp")
      a.pcp = axis.value;
    else if (axis.name == "pp")
      a.pp = axis.value;
    else if (axis.name == "dp")
      a.dp = axis.value;
    else if (axis.name == "ep")
      a.ep = axis.value;
    else
      a.custom[axis.name] = axis.value;
  }
  if (!attn_tp_declared) a.attn_tp = a.tp;
  if (rules.partition) {
    a.pp_partition = rules.partition->sizes;
    a.pp_partition_location = rules.partition->location;
  }
  std::int64_t w = 1;
  a.world_overflows =
      mul_overflows(a.tp, a.pp, w) || mul_overflows(w, a.dp, w) || mul_overflows(w, a.pcp, w);
  a.world_size = a.world_overflows ? 0 : w;
  return a;
}

bool rule_matches(const Rule& rule, const Layer& layer, std::vector<std::string>* reasons) {
  const Matcher& m = rule.match;
  bool all = true;
  // `text` is only called when reasons are wanted: resolving matches every rule against every
  // layer, and formatting each verdict dominated that.
  auto note = [&](bool ok, const auto& text) {
    if (!ok) all = false;
    if (reasons != nullptr) reasons->push_back(fmt::format("{} {}", ok ? "yes:" : "no: ", text()));
  };
  if (m.kind) {
    bool ok = *m.kind == layer.kind;
    note(ok, [&] {
      return fmt::format("kind {} {} {}", kind_name(layer.kind),
                         ok ? "==" : "!=", kind_name(*m.kind));
    });
  }
  if (m.flavor) {
    bool ok = *m.flavor == layer.flavor;
    note(ok, [&] {
      return fmt::format("attention_flavor {} {} {}", flavor_name(layer.flavor),
                         ok ? "==" : "!=", flavor_name(*m.flavor));
    });
  }
  if (m.prefix_pattern) {
    bool ok = glob_match(*m.prefix_pattern, layer.prefix);
    note(ok, [&] {
      return fmt::format("prefix {} {} \"{}\"", layer.prefix, ok ? "matches" : "does not match",
                         *m.prefix_pattern);
    });
  }
  if (m.layers) {
    bool ok = layer.index && *layer.index >= m.layers->first && *layer.index <= m.layers->second;
    note(ok, [&] {
      return layer.index ? fmt::format("index {} {} {}..{}", *layer.index, ok ? "in" : "not in",
                                       m.layers->first, m.layers->second)
                         : fmt::format("layer has no index, range {}..{}", m.layers->first,
                                       m.layers->second);
    });
  }
  if (m.mtp) {
    note(*m.mtp == layer.mtp,
         [&] { return fmt::format("mtp is {}, wanted {}", layer.mtp, *m.mtp); });
  }
  if (reasons != nullptr && !m.kind && !m.flavor && !m.prefix_pattern && !m.layers && !m.mtp) {
    reasons->push_back("yes: empty match takes every layer");
  }
  return all;
}

std::vector<LayerPlan> resolve_layers(const Model& model, const RulesFile& rules,
                                      const AxisValues& axes, const Engine& engine) {
  std::vector<LayerPlan> plans;
  plans.reserve(model.layers.size());
  for (const auto& layer : model.layers) {
    LayerPlan lp;
    lp.layer = &layer;
    for (const auto& rule : rules.rules) {
      if (rule_matches(rule, layer)) lp.matched.push_back(rule.position);
    }
    lp.plan = engine.global_plan(layer, axes, rules);
    if (!lp.matched.empty()) {
      lp.rule = lp.matched.front();
      const Rule& rule = rules.rules[static_cast<std::size_t>(lp.rule)];
      auto apply = [&](const PlanValue& v, ResolvedField& f) {
        if (!v.present) return;
        f.from_rule = true;
        f.location = v.location;
        f.axis = v.axis;
        f.value = v.axis.empty() ? v.literal : axes.value(v.axis).value_or(1);
      };
      apply(rule.plan.tp_size, lp.plan.tp_size);
      apply(rule.plan.dcp_size, lp.plan.dcp_size);
      apply(rule.plan.ep_size, lp.plan.ep_size);
    }
    plans.push_back(std::move(lp));
  }
  return plans;
}

}  // namespace layerplan
