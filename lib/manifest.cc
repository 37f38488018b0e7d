#include "lib/manifest.h"

#include <filesystem>
#include <vector>

#include "lib/sha256.h"

namespace layerplan {
namespace {

using ojson = nlohmann::ordered_json;

void put(ojson& j, const char* key, const ConfigValue& v) {
  if (v.present) j[key] = v.value;
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
      put(j, "num_heads", l.num_heads);
      put(j, "num_kv_heads", l.num_kv_heads);
      put(j, "head_dim", l.head_dim);
      if (l.v_head_dim.present && l.v_head_dim.value != l.head_dim.value) put(j, "v_head_dim", l.v_head_dim);
      put(j, "kv_lora_rank", l.kv_lora_rank);
      put(j, "qk_rope_head_dim", l.qk_rope_head_dim);
      put(j, "sliding_window", l.sliding_window);
      break;
    case LayerKind::kMlp:
      put(j, "intermediate_size", l.intermediate_size);
      break;
    case LayerKind::kMoe:
      put(j, "num_experts", l.num_experts);
      put(j, "top_k", l.top_k);
      put(j, "moe_intermediate_size", l.moe_intermediate_size);
      put(j, "num_shared_experts", l.num_shared_experts);
      put(j, "shared_intermediate_size", l.shared_intermediate_size);
      break;
    case LayerKind::kEmbedding:
    case LayerKind::kLmHead:
      put(j, "vocab_size", l.vocab_size);
      put(j, "hidden_size", l.hidden_size);
      j["tied"] = l.tied;
      break;
    case LayerKind::kMtp:
      put(j, "hidden_size", l.hidden_size);
      break;
    case LayerKind::kMamba:
      put(j, "mamba_heads", l.mamba_heads);
      put(j, "mamba_head_dim", l.mamba_head_dim);
      put(j, "n_groups", l.mamba_groups);
      put(j, "inner_size", l.mamba_inner);
      put(j, "ssm_state_size", l.ssm_state_size);
      break;
    case LayerKind::kLinearAttention:
      put(j, "key_heads", l.linear_key_heads);
      put(j, "value_heads", l.linear_value_heads);
      put(j, "key_head_dim", l.linear_key_head_dim);
      put(j, "value_head_dim", l.linear_value_head_dim);
      break;
    case LayerKind::kIndexer:
      put(j, "index_heads", l.index_heads);
      put(j, "index_head_dim", l.index_head_dim);
      put(j, "index_topk", l.index_topk);
      break;
  }
  return j;
}


std::string recorded_path(const std::string& path, const std::string& cwd) {
  if (path.empty()) return path;
  std::filesystem::path p(path);
  if (p.is_absolute() && !cwd.empty()) {
    std::filesystem::path relative = p.lexically_normal().lexically_relative(
        std::filesystem::path(cwd).lexically_normal());
    if (!relative.empty()) return relative.generic_string();
  }
  std::string normal = p.lexically_normal().generic_string();
  return normal.empty() ? path : normal;
}

int layer_stage(const Layer& l, const std::vector<Stage>& stages) {
  // The model's embedding runs on the first stage; MTP layers (their own embedding included)
  // and the head on the last (deepseek_mtp.py runs the draft after the last decoder layer).
  return l.kind == LayerKind::kEmbedding && !l.mtp ? 0
         : l.index && !l.mtp                       ? stage_of(stages, *l.index)
                                                   : stages.back().stage;
}

ojson build_manifest(const Engine& engine, const Model& model, const RulesFile& rules,
                     const AxisValues& axes,
                     const std::vector<LayerPlan>& plans, const Layout& layout,
                     const ManifestInputs& inputs) {
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
  ojson mj;
  mj["architecture"] = model.architecture;
  mj["model_type"] = model.model_type;
  mj["family"] = model.family;
  mj["verified"] = model.verified;
  mj["num_hidden_layers"] = model.num_hidden_layers;
  mj["num_mtp_layers"] = model.num_mtp_layers;
  mj["hidden_size"] = model.hidden_size.value;
  mj["vocab_size"] = model.vocab_size.value;
  mj["dtype"] = model.dtype;
  m["model"] = std::move(mj);
  m["world_size"] = axes.world_size;
  ojson ax;
  ax["tp"] = axes.tp;
  ax["attn_tp"] = axes.attn_tp;
  ax["dcp"] = axes.dcp;
  ax["pcp"] = axes.pcp;
  ax["pp"] = axes.pp;
  ax["dp"] = axes.dp;
  if (axes.ep) ax["ep"] = *axes.ep;
  for (const auto& [name, value] : axes.custom) ax[name] = value;
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

  auto stages = engine.pipeline_stages(model.num_hidden_layers, axes);
  ojson layers = ojson::array();
  for (const auto& p : plans) {
    const Layer& l = *p.layer;
    ojson j = layer_identity(l);
    j["stage"] = layer_stage(l, stages);
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
    j["plan"] = engine.layer_plan(p, axes);
    j["shape"] = layer_shape(l);
    j["per_rank"] = engine.per_rank(p, axes);
    j["comms"] = engine.comms(p, axes);
    layers.push_back(std::move(j));
  }
  m["layers"] = std::move(layers);

  ojson pipeline;
  ojson st = ojson::array();
  for (const auto& s : stages) {
    st.push_back({{"stage", s.stage},
                  {"first_layer", s.first_layer},
                  {"last_layer", s.last_layer},
                  {"num_layers", s.last_layer - s.first_layer + 1}});
  }
  pipeline["stages"] = std::move(st);
  pipeline["comms"] = engine.pipeline_comms(model, axes);
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
  ojson out;
  out["architecture"] = model.architecture;
  out["model_type"] = model.model_type;
  out["family"] = model.family;
  out["verified"] = model.verified;
  out["num_hidden_layers"] = model.num_hidden_layers;
  out["num_mtp_layers"] = model.num_mtp_layers;
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
