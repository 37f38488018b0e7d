#include "lib/layer_facts.h"

#include <fmt/format.h>

#include <iterator>

#include "lib/engine/engine.h"

namespace layerplan {
namespace {

using ojson = nlohmann::ordered_json;
using SizeField = std::optional<std::int64_t> PerRankSizes::*;

struct PerRankKey {
  std::string_view name;
  SizeField field;
};

// The numeric sizes in the manifest's order (no kind has two of them the other way round);
// `eh_proj` goes before `replicas`, which always comes last.
constexpr PerRankKey kPerRankKeys[] = {
    {"q_heads", &PerRankSizes::q_heads},
    {"kv_heads", &PerRankSizes::kv_heads},
    {"kv_head_replicas", &PerRankSizes::kv_head_replicas},
    {"mamba_heads", &PerRankSizes::mamba_heads},
    {"n_groups", &PerRankSizes::n_groups},
    {"inner_size", &PerRankSizes::inner_size},
    {"key_heads", &PerRankSizes::key_heads},
    {"value_heads", &PerRankSizes::value_heads},
    {"kv_elements_per_token", &PerRankSizes::kv_elements_per_token},
    {"o_proj_heads", &PerRankSizes::o_proj_heads},
    {"kv_cache_token_share", &PerRankSizes::kv_cache_token_share},
    {"intermediate_size", &PerRankSizes::intermediate_size},
    {"experts_min", &PerRankSizes::experts_min},
    {"experts_max", &PerRankSizes::experts_max},
    {"expert_tp", &PerRankSizes::expert_tp},
    {"moe_intermediate_size", &PerRankSizes::moe_intermediate_size},
    {"shared_intermediate_size", &PerRankSizes::shared_intermediate_size},
    {"vocab_padded", &PerRankSizes::vocab_padded},
    {"vocab_rows", &PerRankSizes::vocab_rows},
    {"index_heads", &PerRankSizes::index_heads},
    {"index_k_elements_per_token", &PerRankSizes::index_k_elements_per_token},
};

// Each collective's group size, from the set it runs on.
void add_group_sizes(std::vector<Collective>& comms, const Layout& layout) {
  for (auto& c : comms) {
    if (const GroupSet* set = layout.find(c.group)) c.group_size = set->group_size;
  }
}

ojson group_or_null(const std::string& group) {
  return group.empty() ? ojson(nullptr) : ojson(group);
}

}  // namespace

std::vector<PerRankSizes::Entry> PerRankSizes::entries() const {
  std::vector<Entry> out;
  for (const auto& key : kPerRankKeys) {
    if (const auto& value = this->*key.field) out.push_back({key.name, *value, nullptr});
  }
  if (eh_proj_replicated) out.push_back({"eh_proj", 0, "replicated"});
  if (replicas) out.push_back({"replicas", *replicas, nullptr});
  return out;
}

const char* collective_op_name(CollectiveOp op) {
  // In CollectiveOp's order.
  constexpr const char* kNames[] = {"all_reduce", "all_gather", "reduce_scatter", "all_to_all",
                                    "send_recv"};
  static_assert(std::size(kNames) == static_cast<std::size_t>(CollectiveOp::kSendRecv) + 1);
  return kNames[static_cast<std::size_t>(op)];
}

int layer_stage(const Layer& l, const std::vector<Stage>& stages) {
  // The model's embedding runs on the first stage; MTP layers (their own embedding included)
  // and the head on the last (deepseek_mtp.py runs the draft after the last decoder layer).
  return l.kind == LayerKind::kEmbedding && !l.mtp ? 0
         : l.index && !l.mtp                       ? stage_of(stages, *l.index)
                                                   : stages.back().stage;
}

std::vector<std::pair<std::string, std::int64_t>> axis_list(const AxisValues& a) {
  std::vector<std::pair<std::string, std::int64_t>> out = {{"tp", a.tp},   {"attn_tp", a.attn_tp},
                                                           {"dcp", a.dcp}, {"pcp", a.pcp},
                                                           {"pp", a.pp},   {"dp", a.dp}};
  if (a.ep) out.emplace_back("ep", *a.ep);
  for (const auto& [name, value] : a.custom) out.emplace_back(name, value);
  return out;
}

LayerFacts layer_facts(const Engine& engine, const LayerPlan& plan, const AxisValues& axes,
                       const Layout* layout, const std::vector<Stage>* stages) {
  LayerFacts out;
  out.plan = &plan;
  if (stages && !stages->empty()) out.stage = layer_stage(*plan.layer, *stages);
  out.fields = engine.plan_fields(plan, axes);
  out.per_rank = engine.per_rank(plan, axes);
  out.comms = engine.comms(plan, axes);
  if (layout) add_group_sizes(out.comms, *layout);
  return out;
}

PlanFacts plan_facts(const Engine& engine, const Model& model, const AxisValues& axes,
                     const std::vector<LayerPlan>& plans, const Layout& layout) {
  PlanFacts out;
  out.stages = engine.pipeline_stages(model.num_hidden_layers, axes);
  out.layers.reserve(plans.size());
  for (const auto& p : plans)
    out.layers.push_back(layer_facts(engine, p, axes, &layout, &out.stages));
  out.pipeline_comms = engine.pipeline_comms(model, axes);
  add_group_sizes(out.pipeline_comms, layout);
  return out;
}

ojson plan_fields_json(const PlanFields& f) {
  ojson j;
  j["tp_size"] = f.tp_size;
  j["tp_group"] = group_or_null(f.tp_group);
  j["dcp_size"] = f.dcp_size;
  j["dcp_group"] = group_or_null(f.dcp_group);
  j["ep_size"] = f.ep_size;
  j["ep_group"] = group_or_null(f.ep_group);
  return j;
}

ojson per_rank_json(const PerRankSizes& sizes) {
  ojson j = ojson::object();
  for (const auto& e : sizes.entries()) {
    j[std::string(e.name)] = e.word ? ojson(e.word) : ojson(e.number);
  }
  return j;
}

ojson collectives_json(const std::vector<Collective>& comms) {
  ojson out = ojson::array();
  for (const auto& c : comms) {
    ojson j;
    j["op"] = collective_op_name(c.op);
    j["group"] = c.group;
    j["elements_per_token"] = c.elements_per_token;
    j["why"] = c.why;
    out.push_back(std::move(j));
  }
  return out;
}

std::string per_rank_text(const PerRankSizes& sizes) {
  std::string out;
  for (const auto& e : sizes.entries()) {
    if (!out.empty()) out += ' ';
    out += e.word ? fmt::format("{}={}", e.name, e.word) : fmt::format("{}={}", e.name, e.number);
  }
  return out;
}

}  // namespace layerplan
