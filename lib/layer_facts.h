// The facts stage: what each layer is under its plan, as plain values. For every layer the plan
// fields with the group sets they run on, the sizes one rank holds, the collectives it issues per
// token and its pipeline stage; for the plan the stages and the collectives between them. The
// engine computes the per-layer values (Engine::plan_fields, per_rank, comms); the manifest
// builder (lib/manifest.cc), `compile`'s table (cli/tables.cc) and `explain` (lib/explain.*)
// all read these structs, and only the manifest turns them into JSON.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/engine/vllm_layout.h"
#include "lib/model.h"
#include "lib/resolver.h"

namespace layerplan {

class Engine;

// A layer's plan fields and the group set each runs on (empty: none; `null` in the manifest).
struct PlanFields {
  std::int64_t tp_size = 1;
  std::string tp_group;
  std::int64_t dcp_size = 1;
  std::string dcp_group;
  std::int64_t ep_size = 1;
  std::string ep_group;
};

// What one rank holds of a layer. Each field is set only for the kinds it concerns, and left out
// where the plan gives no whole number (a plan that failed its checks, shown by `explain`).
struct PerRankSizes {
  // attention
  std::optional<std::int64_t> q_heads, kv_heads, kv_head_replicas;
  // mamba, linear attention
  std::optional<std::int64_t> mamba_heads, n_groups, inner_size, key_heads, value_heads;
  // KV cache elements a token adds on this rank (0 for recurrent state)
  std::optional<std::int64_t> kv_elements_per_token;
  std::optional<std::int64_t> o_proj_heads, kv_cache_token_share;
  // mlp, moe
  std::optional<std::int64_t> intermediate_size;
  std::optional<std::int64_t> experts_min, experts_max, expert_tp, moe_intermediate_size,
      shared_intermediate_size;
  // embedding, lm_head
  std::optional<std::int64_t> vocab_padded, vocab_rows;
  // indexer
  std::optional<std::int64_t> index_heads, index_k_elements_per_token;
  bool eh_proj_replicated = false;  // MTP: every rank holds the whole eh_proj
  // How many copies of this layer's shard the full tp group holds (tp / the layer's tp).
  std::optional<std::int64_t> replicas;

  // One size as the manifest lists it: a number, or a word ("replicated") when `word` is set.
  struct Entry {
    std::string_view name;
    std::int64_t number = 0;
    const char* word = nullptr;
  };
  // The sizes that are set, in the manifest's order.
  [[nodiscard]] std::vector<Entry> entries() const;
};

enum class CollectiveOp { kAllReduce, kAllGather, kReduceScatter, kAllToAll, kSendRecv };
[[nodiscard]] const char* collective_op_name(CollectiveOp op);  // "all_reduce", …

// One collective a layer issues for every token.
struct Collective {
  CollectiveOp op = CollectiveOp::kAllReduce;
  std::string group;  // the group set it runs on: a name the layout lists ("tp", "dcp", "ep", …)
  std::int64_t elements_per_token = 0;
  std::string why;
  std::int64_t group_size = 0;  // ranks in each group of that set; 0 when no layout was built

  [[nodiscard]] std::int64_t bytes_per_token(std::int64_t dtype_bytes) const {
    return elements_per_token * dtype_bytes;
  }
};

struct LayerFacts {
  const LayerPlan* plan = nullptr;  // the layer and its resolved plan
  std::optional<int> stage;         // none when the pipeline was not split (see layer_facts)
  PlanFields fields;
  PerRankSizes per_rank;
  std::vector<Collective> comms;
};

// The facts of a whole plan, one LayerFacts per LayerPlan in the same order.
struct PlanFacts {
  std::vector<Stage> stages;
  std::vector<LayerFacts> layers;
  std::vector<Collective> pipeline_comms;  // between consecutive stages
};

// The pipeline stage a layer runs on: the embedding on the first, a decoder layer on its
// stage, MTP layers and the head on the last. `stages` must not be empty.
[[nodiscard]] int layer_stage(const Layer& layer, const std::vector<Stage>& stages);

// The plan's axes as the manifest and the tables list them: tp, attn_tp, dcp, pcp, pp, dp, then
// ep when declared and the custom axes by name.
[[nodiscard]] std::vector<std::pair<std::string, std::int64_t>> axis_list(const AxisValues& axes);

// One layer's facts. `layout` (may be null) gives the collectives their group sizes; `stages`
// (may be null: a plan that failed its checks may have no valid split) gives the stage.
[[nodiscard]] LayerFacts layer_facts(const Engine& engine, const LayerPlan& plan,
                                     const AxisValues& axes, const Layout* layout,
                                     const std::vector<Stage>* stages);

// The facts of a checked plan.
[[nodiscard]] PlanFacts plan_facts(const Engine& engine, const Model& model, const AxisValues& axes,
                                   const std::vector<LayerPlan>& plans, const Layout& layout);

// The manifest's view of the facts: `plan`, `per_rank` and one `comms` entry.
[[nodiscard]] nlohmann::ordered_json plan_fields_json(const PlanFields& fields);
[[nodiscard]] nlohmann::ordered_json per_rank_json(const PerRankSizes& sizes);
[[nodiscard]] nlohmann::ordered_json collectives_json(const std::vector<Collective>& comms);

// "q_heads=8 kv_heads=1 …": the sizes on one line, as the tables print them.
[[nodiscard]] std::string per_rank_text(const PerRankSizes& sizes);

}  // namespace layerplan
