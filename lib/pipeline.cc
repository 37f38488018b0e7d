#include "lib/pipeline.h"

#include <algorithm>

#include <fmt/format.h>

#include "lib/engine/vllm.h"
#include "lib/manifest_memory.h"

namespace layerplan {

bool Compilation::failed(bool werror) const {
  return diags.has_errors() || (werror && diags.count(Severity::kWarning) > 0);
}

bool Compilation::input_unreadable() const {
  return std::any_of(diags.all().begin(), diags.all().end(),
                     [](const Diagnostic& d) { return d.code == "input-unreadable"; });
}

nlohmann::ordered_json Compilation::manifest(const ManifestInputs& inputs) const {
  nlohmann::ordered_json m = build_manifest(*engine, *model, *rules, axes, plans, *layout, inputs);
  if (memory) add_memory(m, *memory, fit ? &*fit : nullptr, fit_request ? &*fit_request : nullptr);
  return m;
}

const LayerPlan* Compilation::find_layer(std::string_view prefix) const {
  for (const auto& p : plans) {
    if (p.layer->prefix == prefix) return &p;
  }
  return nullptr;
}

std::unique_ptr<Compilation> compile(const CompileRequest& request) {
  auto c = std::make_unique<Compilation>();
  c->engine = request.engine != nullptr ? request.engine : &vllm_engine();
  c->registry = ArchRegistry::builtin();
  for (const auto& path : request.arch_files) (void)c->registry.add_file(path, c->diags);

  if (request.config) {
    c->config = parse_hf_config(*request.config, c->diags);
  } else {
    c->config = load_hf_config(request.config_path, c->diags);
  }
  if (c->config) c->model = expand_model(*c->config, c->registry, c->diags);

  RulesFile partial;
  if (request.rules) {
    c->rules = parse_rules(*request.rules, c->diags, &partial);
  } else if (!request.rules_path.empty()) {
    c->rules = load_rules(request.rules_path, c->diags, &partial);
  }
  if (c->model && !c->rules && partial.file) {
    // The rules file has errors of its own: still check the axes that did parse, so one run
    // reports both kinds. Per-layer checks would only echo the broken rules, so they wait.
    AxisValues axes = resolve_axes(partial);
    std::vector<LayerPlan> none;
    CheckContext context{*c->model, partial, axes, none, c->registry, *c->engine, request.checks};
    c->engine->check_parallel_config(context, c->diags);
  }
  if (!c->model || !c->rules) return c;

  c->axes = resolve_axes(*c->rules);
  c->plans = resolve_layers(*c->model, *c->rules, c->axes, *c->engine);
  CheckContext context{*c->model, *c->rules, c->axes, c->plans, c->registry, *c->engine,
                       request.checks};
  run_checks(context, c->diags);
  if (c->diags.has_errors()) return c;
  if (LayoutSize size = c->engine->layout_size(c->axes, c->plans); size.entries > kMaxLayoutEntries) {
    Diagnostic d = make_error(
        "world-size-limit", c->axes.location("tp", c->rules->axes_root),
        fmt::format("the rank groups of this plan would list {} ranks ({} group sets over a "
                    "world of {}), more than layerplan writes ({})",
                    size.entries, size.sets, c->axes.world_size, kMaxLayoutEntries));
    d.notes.push_back({{}, "each distinct layer tp_size below tp and each distinct ep_size adds "
                           "group sets that cover the whole world"});
    c->diags.report(std::move(d));
    return c;
  }
  c->layout = c->engine->build_layout(c->axes, c->plans);
  c->memory = c->engine->memory(*c->config, *c->model, c->plans, c->axes, c->diags);
  if (request.fit) {
    c->fit_request = request.fit;
    c->fit = c->engine->fit(*c->memory, *c->model, c->plans, c->axes, *request.fit);
  }
  return c;
}

}  // namespace layerplan
