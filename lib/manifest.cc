#include "lib/manifest.h"

#include <fmt/format.h>

#include <filesystem>
#include <initializer_list>
#include <iterator>
#include <vector>

#include "lib/layer_facts.h"
#include "lib/sha256.h"

namespace layerplan {
namespace {

using ojson = nlohmann::ordered_json;

// A layer's shape keys: the name the manifest gives each and the Layer field it shows.
struct ShapeKey {
  const char* name;
  ConfigValue Layer::*field;
};

// The keys config.json gave, in this order.
void put_shape(ojson& j, const Layer& l, std::initializer_list<ShapeKey> keys) {
  for (const auto& k : keys) {
    if (const ConfigValue& v = l.*k.field; v.present) j[k.name] = v.value;
  }
}

// The keys that open both the manifest's `model` and `layers --format json`.
ojson model_identity(const Model& model) {
  return {{"architecture", model.architecture},
          {"model_type", model.model_type},
          {"family", model.family},
          {"verified", model.verified},
          {"num_hidden_layers", model.num_hidden_layers},
          {"num_mtp_layers", model.num_mtp_layers}};
}

}  // namespace

ojson layer_identity(const Layer& l) {
  ojson j;
  j["prefix"] = l.prefix;
  j["kind"] = kind_name(l.kind);
  j["flavor"] = l.kind == LayerKind::kAttention ? ojson(flavor_name(l.flavor)) : ojson(nullptr);
  j["index"] = l.index ? ojson(*l.index) : ojson(nullptr);
  j["mtp"] = l.mtp;
  return j;
}

ojson layer_shape(const Layer& l) {
  ojson j = ojson::object();
  switch (l.kind) {
    case LayerKind::kAttention:
      put_shape(j, l,
                {{"num_heads", &Layer::num_heads},
                 {"num_kv_heads", &Layer::num_kv_heads},
                 {"head_dim", &Layer::head_dim}});
      if (l.v_head_dim.value != l.head_dim.value)
        put_shape(j, l, {{"v_head_dim", &Layer::v_head_dim}});
      put_shape(j, l,
                {{"kv_lora_rank", &Layer::kv_lora_rank},
                 {"qk_rope_head_dim", &Layer::qk_rope_head_dim},
                 {"sliding_window", &Layer::sliding_window}});
      break;
    case LayerKind::kMlp:
      put_shape(j, l, {{"intermediate_size", &Layer::intermediate_size}});
      break;
    case LayerKind::kMoe:
      put_shape(j, l,
                {{"num_experts", &Layer::num_experts},
                 {"top_k", &Layer::top_k},
                 {"moe_intermediate_size", &Layer::moe_intermediate_size},
                 {"num_shared_experts", &Layer::num_shared_experts},
                 {"shared_intermediate_size", &Layer::shared_intermediate_size}});
      break;
    case LayerKind::kEmbedding:
    case LayerKind::kLmHead:
      put_shape(j, l, {{"vocab_size", &Layer::vocab_size}, {"hidden_size", &Layer::hidden_size}});
      j["tied"] = l.tied;
      break;
    case LayerKind::kMtp:
      put_shape(j, l, {{"hidden_size", &Layer::hidden_size}});
      break;
    case LayerKind::kMamba:
      put_shape(j, l,
                {{"mamba_heads", &Layer::mamba_heads},
                 {"mamba_head_dim", &Layer::mamba_head_dim},
                 {"n_groups", &Layer::mamba_groups},
                 {"inner_size", &Layer::mamba_inner},
                 {"ssm_state_size", &Layer::ssm_state_size}});
      break;
    case LayerKind::kLinearAttention:
      put_shape(j, l,
                {{"key_heads", &Layer::linear_key_heads},
                 {"value_heads", &Layer::linear_value_heads},
                 {"key_head_dim", &Layer::linear_key_head_dim},
                 {"value_head_dim", &Layer::linear_value_head_dim}});
      break;
    case LayerKind::kIndexer:
      put_shape(j, l,
                {{"index_heads", &Layer::index_heads},
                 {"index_head_dim", &Layer::index_head_dim},
                 {"index_topk", &Layer::index_topk}});
      break;
  }
  return j;
}

std::string recorded_path(const std::string& path, const std::string& cwd) {
  if (path.empty()) return path;
  std::filesystem::path p(path);
  if (p.is_absolute() && !cwd.empty()) {
    std::filesystem::path relative =
        p.lexically_normal().lexically_relative(std::filesystem::path(cwd).lexically_normal());
    if (!relative.empty()) return relative.generic_string();
  }
  std::string normal = p.lexically_normal().generic_string();
  return normal.empty() ? path : normal;
}

ojson manifest_layer_json(const LayerFacts& f, const RulesFile& rules) {
  const LayerPlan& p = *f.plan;
  ojson j = layer_identity(*p.layer);
  j["stage"] = f.stage.value_or(0);
  if (p.fallback()) {
    j["rule"] = nullptr;
  } else {
    const Rule& rule = rules.rules[static_cast<std::size_t>(p.rule)];
    ojson r;
    r["position"] = rule.position;
    r["line"] = rule.location.line;
    if (!rule.name.empty()) r["name"] = rule.name;
    j["rule"] = std::move(r);
  }
  j["fallback"] = p.fallback();
  j["plan"] = plan_fields_json(f.fields);
  j["shape"] = layer_shape(*p.layer);
  j["per_rank"] = per_rank_json(f.per_rank);
  j["comms"] = collectives_json(f.comms);
  return j;
}

ojson build_manifest(const Engine& engine, const Model& model, const RulesFile& rules,
                     const AxisValues& axes, const std::vector<LayerPlan>& plans,
                     const Layout& layout, const ManifestInputs& inputs,
                     const PlanFacts* given_facts) {
  ojson m;
  m["schema_version"] = kManifestSchemaVersion;
  m["generator"] = {{"name", "layerplan"}, {"version", LAYERPLAN_VERSION}};
  // Where the inputs were, and exactly what they held.
  ojson in;
  in["config"] = inputs.config_path;
  if (model.config_file) in["config_sha256"] = sha256_hex(model.config_file->text);
  in["rules"] = inputs.rules_path;
  if (!inputs.rules_path.empty() && rules.file) in["rules_sha256"] = sha256_hex(rules.file->text);
  m["inputs"] = std::move(in);
  const EngineInfo& info = engine.info();
  m["engine"] = {{"name", info.name},
                 {"commit", info.commit},
                 {"date", info.date},
                 {"per_layer", info.per_layer}};
  ojson mj = model_identity(model);
  mj["hidden_size"] = model.hidden_size.value;
  mj["vocab_size"] = model.vocab_size.value;
  mj["dtype"] = model.dtype;
  m["model"] = std::move(mj);
  m["world_size"] = axes.world_size;
  ojson ax;
  for (const auto& [name, value] : axis_list(axes)) ax[name] = value;
  m["axes"] = std::move(ax);
  if (!inputs.group_lists) {
    // `group_layout` alone: the file's size no longer grows with the world.
  } else if (inputs.stream_groups) {
    m["groups"] = nullptr;
  } else {
    ojson groups = ojson::object();
    for (const auto& set : layout.sets) groups[set.name] = set.groups();
    m["groups"] = std::move(groups);
  }
  m["group_layout"] = group_layout_json(layout);

  PlanFacts own_facts;
  if (given_facts == nullptr) own_facts = plan_facts(engine, model, axes, plans, layout);
  const PlanFacts& facts = given_facts != nullptr ? *given_facts : own_facts;
  if (inputs.stream_layers) {
    m["layers"] = nullptr;  // write_manifest builds them one at a time
  } else {
    ojson layers = ojson::array();
    for (const auto& f : facts.layers) layers.push_back(manifest_layer_json(f, rules));
    m["layers"] = std::move(layers);
  }

  ojson pipeline;
  ojson st = ojson::array();
  for (const auto& s : facts.stages) {
    st.push_back({{"stage", s.stage},
                  {"first_layer", s.first_layer},
                  {"last_layer", s.last_layer},
                  {"num_layers", s.last_layer - s.first_layer + 1}});
  }
  pipeline["stages"] = std::move(st);
  pipeline["comms"] = collectives_json(facts.pipeline_comms);
  m["pipeline"] = std::move(pipeline);
  return m;
}

ojson launch_json(const LaunchCommand& command) {
  ojson j;
  j["argv"] = command.argv;
  ojson env = ojson::object();
  for (const auto& [name, value] : command.env) env[name] = value;
  j["env"] = std::move(env);
  j["command"] = command.shell_line();
  j["runnable_on"] = command.runnable_on;
  j["needs_prs"] = command.prs;
  ojson wishes = ojson::array();
  for (const auto& w : command.not_expressible) {
    ojson e;
    e["rule"] = w.rule >= 0 ? ojson(w.rule) : ojson(nullptr);
    e["rule_name"] = w.rule_name;
    e["line"] = w.location.line;
    e["field"] = w.field;
    e["value"] = w.value;
    e["command_gives"] = w.flags_value;
    e["layers"] = w.layers;
    e["reason"] = w.reason;
    wishes.push_back(std::move(e));
  }
  j["not_expressible"] = std::move(wishes);
  return j;
}

ojson nodes_json(const NodePlacement& placement) {
  ojson j;
  j["ranks_per_node"] = placement.ranks_per_node;
  j["derived_from"] = placement.derived_from;
  ojson nodes = ojson::array();
  for (std::size_t n = 0; n < placement.nodes.size(); ++n) {
    nodes.push_back({{"node", n}, {"ranks", placement.nodes[n]}});
  }
  j["nodes"] = std::move(nodes);
  return j;
}

ojson group_layout_json(const Layout& layout) {
  ojson out = ojson::object();
  for (const auto& set : layout.sets) {
    ojson j;
    j["group_size"] = set.group_size;
    j["groups"] = set.count();
    ojson steps = ojson::array();
    for (const auto& step : set.steps) {
      steps.push_back({{"axes", step.axes}, {"sizes", step.sizes}, {"strides", step.strides}});
    }
    j["steps"] = std::move(steps);
    out[set.name] = std::move(j);
  }
  return out;
}

ojson layers_json(const Model& model) {
  ojson out = model_identity(model);
  ojson layers = ojson::array();
  for (const auto& l : model.layers) {
    ojson j = layer_identity(l);
    j["shape"] = layer_shape(l);
    layers.push_back(std::move(j));
  }
  out["layers"] = std::move(layers);
  return out;
}

}  // namespace layerplan
