// Rule hygiene (rules that match nothing, rules shadowed by earlier ones) and the whitelist gate.
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>

#include "lib/checks_list.h"
#include "lib/engine/engine.h"

namespace layerplan {

using namespace check_util;

namespace {

std::string rule_label(const Rule& rule) {
  return rule.name.empty() ? fmt::format("rule {}", rule.position)
                           : fmt::format("rule {} '{}'", rule.position, rule.name);
}

ModelSummary summarize_model_layers(const Model& model) {
  ModelSummary s;
  std::set<std::string> seen;
  for (const auto& layer : model.layers) {
    std::string shape = prefix_shape(layer) + (layer.mtp ? " (MTP)" : "");
    if (seen.insert(shape).second) s.shapes.push_back(shape);
    std::string k(kind_name(layer.kind));
    if (std::find(s.kinds.begin(), s.kinds.end(), k) == s.kinds.end()) s.kinds.push_back(k);
    if (layer.kind == LayerKind::kAttention) {
      std::string f(flavor_name(layer.flavor));
      if (std::find(s.flavors.begin(), s.flavors.end(), f) == s.flavors.end())
        s.flavors.push_back(f);
    }
    if (layer.mtp) s.mtp_prefixes.push_back(layer.prefix);
  }
  return s;
}

void explain_no_match(const Rule& rule, const Model& model, const ModelSummary& summary,
                      Diagnostic& d) {
  const Matcher& m = rule.match;
  const auto& [shapes, kinds, flavors, mtp_prefixes] = summary;
  if (m.prefix_pattern) {
    d.notes.push_back({m.prefix_location, fmt::format("prefixes of this model look like: {}",
                                                      fmt::join(shapes, ", "))});
    std::string lower = *m.prefix_pattern;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (lower.find("mtp") != std::string::npos || lower.find("nextn") != std::string::npos) {
      if (mtp_prefixes.empty()) {
        d.notes.push_back({{}, "this model has no MTP layers"});
      } else {
        d.notes.push_back(
            {{},
             fmt::format("no engine prefix contains \"mtp\": this model's MTP layers are {}; "
                         "match them with 'mtp: true' or a prefix_pattern such as \"{}*\"",
                         fmt::join(mtp_prefixes, ", "), mtp_prefixes.front())});
      }
    }
  }
  if (m.kind) {
    d.notes.push_back(
        {m.kind_location, fmt::format("layer kinds of this model: {}", fmt::join(kinds, ", "))});
  }
  if (m.flavor) {
    d.notes.push_back({m.flavor_location, flavors.empty()
                                              ? std::string("this model has no attention layers")
                                              : fmt::format("attention flavors of this model: {}",
                                                            fmt::join(flavors, ", "))});
  }
  if (m.layers) {
    std::string mtp = model.num_mtp_layers > 0
                          ? fmt::format("; MTP layers {}..{}", model.num_hidden_layers,
                                        model.num_hidden_layers + model.num_mtp_layers - 1)
                          : "";
    d.notes.push_back({m.layers_location, fmt::format("decoder layers are 0..{}{}",
                                                      model.num_hidden_layers - 1, mtp)});
  }
  if (m.mtp && *m.mtp && model.num_mtp_layers == 0) {
    d.notes.push_back({m.mtp_location, "this model has no MTP layers"});
  }
}

std::string hygiene_model_label(const Model& model) {
  return model.architecture.empty() ? model.model_type : model.architecture;
}

}  // namespace

const ModelSummary& RuleUse::summary() const {
  if (!summary_cache) summary_cache = summarize_model_layers(model);
  return *summary_cache;
}

void check_rule_matches_nothing(const CheckContext& ctx, const RuleUse& use, Diagnostics& diags) {
  if (use.matched != 0) return;
  Diagnostic d = make_warning("rule-matches-nothing", use.rule.match.location,
                              fmt::format("{} matches no layer of {}", rule_label(use.rule),
                                          hygiene_model_label(ctx.model)));
  explain_no_match(use.rule, ctx.model, use.summary(), d);
  diags.report(std::move(d));
}

void check_rule_shadowed(const CheckContext& ctx, const RuleUse& use, Diagnostics& diags) {
  if (use.matched == 0 || use.won != 0) return;
  Diagnostic d = make_warning(
      "rule-shadowed", use.rule.match.location,
      fmt::format("{} never applies: all {} layers it matches are taken by earlier rules",
                  rule_label(use.rule), use.matched));
  for (int t : use.takers) {
    const Rule& earlier = ctx.rules.rules[static_cast<std::size_t>(t)];
    d.notes.push_back(
        {earlier.match.location, fmt::format("{} takes them first", rule_label(earlier))});
  }
  diags.report(std::move(d));
}

void check_arch_unverified(const CheckContext& ctx, Diagnostics& diags) {
  if (ctx.model.verified) return;
  std::vector<bool> reported(ctx.rules.rules.size(), false);
  for (const auto& p : ctx.plans) {
    if (p.fallback() || reported[static_cast<std::size_t>(p.rule)]) continue;
    ResolvedPlan global = ctx.engine.global_plan(*p.layer, ctx.axes, ctx.rules);
    const ResolvedField* differs = nullptr;
    std::string_view field;
    if (p.plan.tp_size.value != global.tp_size.value) {
      differs = &p.plan.tp_size;
      field = "tp_size";
    } else if (p.plan.dcp_size.value != global.dcp_size.value) {
      differs = &p.plan.dcp_size;
      field = "dcp_size";
    } else if (p.plan.ep_size.value != global.ep_size.value) {
      differs = &p.plan.ep_size;
      field = "ep_size";
    }
    if (differs == nullptr) continue;
    reported[static_cast<std::size_t>(p.rule)] = true;
    const Rule& rule = ctx.rules.rules[static_cast<std::size_t>(p.rule)];
    const ResolvedField& g = field == "tp_size"    ? global.tp_size
                             : field == "dcp_size" ? global.dcp_size
                                                   : global.ep_size;
    std::string model_name = hygiene_model_label(ctx.model);
    std::string message = fmt::format(
        "{} gives {} layers {} where the global plan has {}, but {} ({}) is not verified for "
        "per-layer parallelism",
        rule_label(rule), kind_name(p.layer->kind), describe(field, *differs), g.value, model_name,
        ctx.model.family);
    Diagnostic d = ctx.options.allow_unverified
                       ? make_warning("arch-unverified", differs->location, message)
                       : make_error("arch-unverified", differs->location, message);
    d.notes.push_back({{},
                       fmt::format("verified architectures: {}",
                                   fmt::join(ctx.registry.verified_architectures(), ", "))});
    d.notes.push_back(
        {{},
         ctx.options.allow_unverified
             ? std::string("--allow-unverified made this a warning")
             : std::string("--allow-unverified makes this a warning, for experiments")});
    diags.report(std::move(d));
  }
}

}  // namespace layerplan
