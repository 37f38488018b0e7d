#include "lib/pipeline.h"

#include <fmt/format.h>

#include <algorithm>

#include "lib/engine/vllm.h"
#include "lib/layer_facts.h"
#include "lib/manifest_memory.h"
#include "lib/model_resolver.h"

namespace layerplan {

bool Compilation::failed(bool werror) const {
  return diags.has_errors() || (werror && diags.count(Severity::kWarning) > 0);
}

bool Compilation::input_unreadable() const {
  return std::any_of(diags.all().begin(), diags.all().end(), [](const Diagnostic& d) {
    return d.code == "input-unreadable" || d.code == "model-not-found" ||
           d.code == "inputs-swapped";
  });
}

nlohmann::ordered_json Compilation::manifest(const ManifestInputs& inputs,
                                             const PlanFacts* facts) const {
  auto m = build_manifest(*engine, *model, *rules, axes, plans, *layout, inputs, facts);
  if (launch) m["inputs"]["vllm_args"] = launch->rules.file->text;
  m["launch"] = {{engine->info().name, launch_json(launch_command())}};
  if (nodes) m["nodes"] = nodes_json(*nodes);
  if (memory) add_memory(m, *memory, fit ? &*fit : nullptr, fit_request ? &*fit_request : nullptr);
  return m;
}

bool Compilation::write_manifest(const ManifestInputs& inputs, const ChunkSink& write) const {
  ManifestInputs streamed = inputs;
  streamed.stream_groups = true;
  streamed.stream_layers = true;
  const PlanFacts facts = plan_facts(*engine, *model, axes, plans, *layout);
  const nlohmann::ordered_json m = manifest(streamed, &facts);
  StreamedArray layers{facts.layers.size(), [&](std::size_t i) {
                         nlohmann::ordered_json j = manifest_layer_json(facts.layers[i], *rules);
                         if (memory && i < memory->layers.size()) {
                           j["memory"] = layer_memory_json(memory->layers[i]);
                         }
                         return j;
                       }};
  return layerplan::write_manifest(m, *layout, write, &layers, manifest_threads(inputs.threads));
}

LaunchCommand Compilation::launch_command() const {
  return engine->launch_command(*model, *rules, axes, plans, model_arg);
}

const LayerPlan* Compilation::find_layer(std::string_view prefix) const {
  for (const auto& p : plans) {
    if (p.layer->prefix == prefix) return &p;
  }
  return nullptr;
}

namespace {

bool yaml_path(std::string_view path) {
  return path.size() > 5 &&
         (path.substr(path.size() - 5) == ".yaml" || path.substr(path.size() - 4) == ".yml");
}

// `--config rules.yaml --rules config.json`: one error that says so, instead of a JSON syntax
// error about YAML and a YAML error about JSON.
bool swapped_inputs(const CompileRequest& request, Diagnostics& diags) {
  if (!yaml_path(request.config_path)) return false;
  ReadError error;
  auto source = read_source(request.config_path, error);
  if (!source || !looks_like_rules((*source)->text)) return false;
  Diagnostic d =
      make_error("inputs-swapped", Location{*source, 0, 0},
                 fmt::format("--config names a parallelism_rules file; --config takes the model's "
                             "config.json (or a HuggingFace id) and --rules the rules{}",
                             request.rules_path.empty()
                                 ? ""
                                 : fmt::format(": did you mean --config {} --rules {}?",
                                               request.rules_path, request.config_path)));
  diags.report(std::move(d));
  return true;
}

}  // namespace

std::unique_ptr<Compilation> compile(const CompileRequest& request) {
  auto c = std::make_unique<Compilation>();
  c->engine = request.engine != nullptr ? request.engine : &vllm_engine();
  c->registry = ArchRegistry::builtin();
  for (const auto& path : request.arch_files) (void)c->registry.add_file(path, c->diags);

  std::string config_path = request.config_path;
  c->model_arg = config_path;
  NodeRequest nodes = request.nodes;
  bool config_missing = false;
  if (!request.vllm_args.empty()) {
    c->launch = parse_vllm_args(make_source("--vllm-args", request.vllm_args), c->diags);
    if (c->launch) {
      if (!c->launch->model.empty()) c->model_arg = c->launch->model;
      nodes.nnodes = c->launch->nodes.nnodes;
      nodes.node_rank = c->launch->nodes.node_rank;
      nodes.dp_local = c->launch->nodes.dp_local;
      if (config_path.empty() && !request.config) {
        if (c->launch->model.empty()) {
          c->diags.report(make_error("input-unreadable", c->launch->rules.root,
                                     "no model: give `vllm serve MODEL …` or --config PATH"));
        } else {
          // MODEL, as `vllm serve` takes it: a path, or an HF model id found in the local cache.
          ModelResolveError error;
          if (auto path = resolve_model(c->launch->model, "", request.hf, error)) {
            config_path = *path;
          } else {
            Diagnostic d = make_error("model-not-found", c->launch->model_location, error.message);
            for (auto& note : error.notes) d.notes.push_back({{}, std::move(note)});
            c->diags.report(std::move(d));
          }
        }
        config_missing = config_path.empty();
      }
    }
  }
  if (request.config) {
    c->config = parse_hf_config(*request.config, c->diags);
  } else if (config_missing || (!c->launch && !request.vllm_args.empty())) {
    // the launch line named no usable model, or did not parse: reported above
  } else if (swapped_inputs(request, c->diags)) {
    return c;
  } else {
    ModelResolveError error;
    if (auto path = resolve_model(config_path, "", request.hf, error)) {
      c->config = load_hf_config(*path, c->diags);
    } else {
      Diagnostic d = make_error("model-not-found", Location{}, error.message);
      for (auto& note : error.notes) d.notes.push_back({{}, std::move(note)});
      c->diags.report(std::move(d));
    }
  }
  if (c->config) c->model = expand_model(*c->config, c->registry, c->diags);

  RulesFile partial;
  if (c->launch) {
    c->rules = c->launch->rules;
  } else if (request.rules) {
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
    run_axis_checks(context, c->diags);
  }
  if (!c->model || !c->rules) return c;

  c->axes = resolve_axes(*c->rules);
  c->plans = resolve_layers(*c->model, *c->rules, c->axes, *c->engine);
  CheckContext context{*c->model,   *c->rules,  c->axes,       c->plans,
                       c->registry, *c->engine, request.checks};
  run_checks(context, c->diags);
  if (c->diags.has_errors()) return c;
  if (LayoutSize size = c->engine->layout_size(c->axes, c->plans);
      request.group_lists && size.entries > kMaxLayoutEntries) {
    Diagnostic d = make_error(
        "world-size-limit", c->axes.location("tp", c->rules->axes_root),
        fmt::format("the rank groups of this plan would list {} ranks ({} group sets over a "
                    "world of {}), more than layerplan lists ({})",
                    size.entries, size.sets, c->axes.world_size, kMaxLayoutEntries));
    d.notes.push_back({{},
                       "each distinct layer tp_size below tp and each distinct ep_size adds "
                       "group sets that cover the whole world"});
    d.notes.push_back({{},
                       "compile --group-lists none writes only the compact group layout, "
                       "whatever the world size"});
    c->diags.report(std::move(d));
    return c;
  }
  c->layout = c->engine->build_layout(c->axes, c->plans);
  c->nodes = c->engine->place_nodes(nodes, c->axes, *c->layout, c->rules->root, c->diags);
  c->memory = c->engine->memory(*c->config, *c->model, c->plans, c->axes, c->diags);
  if (request.fit) {
    c->fit_request = request.fit;
    c->fit = c->engine->fit(*c->memory, *c->model, c->plans, c->axes, *request.fit);
  }
  return c;
}

}  // namespace layerplan
