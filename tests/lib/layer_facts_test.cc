// The facts stage (lib/layer_facts.h) on Llama-3.1-8B (fixtures/models/llama3_8b.json: 32 layers,
// hidden 4096, 32 query heads and 8 KV heads of 128, MLP 14336, vocabulary 128256), every number
// derived by hand in the comments; and the manifest, built from the same structs, agreeing.
#include "lib/layer_facts.h"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "catch.h"
#include "test_util.h"

namespace layerplan {
namespace {

using test::compile_text;
using test::fixture;

std::unique_ptr<Compilation> llama8b(const std::string& axes, const std::string& rules = "[]") {
  return compile_text(fixture("fixtures/models/llama3_8b.json"),
                      "parallelism_rules:\n  axes: {" + axes + "}\n  rules: " + rules + "\n");
}

PlanFacts facts_of(const Compilation& c) {
  REQUIRE(c.layout);
  return plan_facts(*c.engine, *c.model, c.axes, c.plans, *c.layout);
}

// The prefix is a plain C string: with a std::string temporary as argument, GCC 13's
// -Wdangling-reference takes the returned reference for one into that temporary.
const LayerFacts& layer(const PlanFacts& facts, const char* prefix) {
  for (const auto& f : facts.layers) {
    if (f.plan->layer->prefix == prefix) return f;
  }
  FAIL("no layer " << prefix);
  throw std::logic_error("unreachable");
}

// "op group elements/token group_size" for each collective.
std::vector<std::string> comms_of(const LayerFacts& f) {
  std::vector<std::string> out;
  for (const auto& c : f.comms) {
    out.push_back(std::string(collective_op_name(c.op)) + " " + c.group + " " +
                  std::to_string(c.elements_per_token) + " x" + std::to_string(c.group_size));
  }
  return out;
}

TEST_CASE("layer facts: Llama-3.1-8B at tp 8, pp 2") {
  auto c = llama8b("tp: 8, pp: 2");
  PlanFacts facts = facts_of(*c);
  REQUIRE(facts.layers.size() == c->plans.size());

  // 32 layers over 2 stages: 0-15 and 16-31.
  REQUIRE(facts.stages.size() == 2);
  CHECK(facts.stages[1].first_layer == 16);
  CHECK(layer(facts, "model.embed_tokens").stage == 0);
  CHECK(layer(facts, "model.layers.15.mlp").stage == 0);
  CHECK(layer(facts, "model.layers.16.self_attn").stage == 1);
  CHECK(layer(facts, "lm_head").stage == 1);

  // Attention: 32 / 8 = 4 query heads; 8 KV heads / 8 = 1, not replicated; K and V of one head
  // of 128: 256 elements a token; no DCP, so every rank keeps every token.
  const LayerFacts& attn = layer(facts, "model.layers.0.self_attn");
  CHECK(attn.fields.tp_size == 8);
  CHECK(attn.fields.tp_group == "tp");
  CHECK(attn.fields.dcp_group.empty());
  CHECK(attn.fields.ep_group.empty());
  CHECK(attn.per_rank.q_heads == 4);
  CHECK(attn.per_rank.kv_heads == 1);
  CHECK(attn.per_rank.kv_head_replicas == 1);
  CHECK(attn.per_rank.kv_elements_per_token == 256);
  CHECK(attn.per_rank.o_proj_heads == 4);
  CHECK(attn.per_rank.kv_cache_token_share == 1);
  CHECK(attn.per_rank.replicas == 1);
  CHECK_FALSE(attn.per_rank.intermediate_size.has_value());
  // o_proj is row-parallel: an all-reduce of the hidden state (4096) over the 8 ranks of tp.
  CHECK(comms_of(attn) == std::vector<std::string>{"all_reduce tp 4096 x8"});
  CHECK(attn.comms[0].bytes_per_token(2) == 8192);

  // MLP: 14336 / 8 = 1792 columns a rank.
  const LayerFacts& mlp = layer(facts, "model.layers.0.mlp");
  CHECK(mlp.per_rank.intermediate_size == 1792);
  CHECK(per_rank_text(mlp.per_rank) == "intermediate_size=1792 replicas=1");

  // LM head: 128256 is a multiple of 64, so nothing is padded; 128256 / 8 = 16032 rows a rank,
  // and the logits are all-gathered over tp.
  const LayerFacts& head = layer(facts, "lm_head");
  CHECK(head.per_rank.vocab_padded == 128256);
  CHECK(head.per_rank.vocab_rows == 16032);
  CHECK(comms_of(head) == std::vector<std::string>{"all_gather tp 128256 x8"});

  // Between the two stages: the hidden state, sent over pp (groups of 2).
  REQUIRE(facts.pipeline_comms.size() == 1);
  CHECK(facts.pipeline_comms[0].op == CollectiveOp::kSendRecv);
  CHECK(facts.pipeline_comms[0].group == "pp");
  CHECK(facts.pipeline_comms[0].elements_per_token == 4096);
  CHECK(facts.pipeline_comms[0].group_size == 2);
}

TEST_CASE("layer facts: attention at attn_tp 4 with dcp 2 under tp 8 (PR #36287)") {
  auto c = llama8b("tp: 8, attn_tp: 4, dcp: 2",
                   "\n    - {match: {kind: attention}, plan: {tp_size: attn_tp, dcp_size: dcp}}");
  PlanFacts facts = facts_of(*c);
  const LayerFacts& attn = layer(facts, "model.layers.0.self_attn");
  CHECK(attn.fields.tp_size == 4);
  CHECK(attn.fields.tp_group == "attn_tp");
  CHECK(attn.fields.dcp_size == 2);
  CHECK(attn.fields.dcp_group == "dcp");
  // 32 / 4 = 8 query heads, 8 / 4 = 2 KV heads (2 * 2 * 128 = 512 elements a token), each token
  // cached on one of the 2 DCP ranks; o_proj runs over the full tp: 32 / 8 = 4 heads; the tp
  // group of 8 holds the attention shard twice.
  CHECK(per_rank_text(attn.per_rank) ==
        "q_heads=8 kv_heads=2 kv_head_replicas=1 kv_elements_per_token=512 o_proj_heads=4 "
        "kv_cache_token_share=2 replicas=2");
  // DCP combine: 8 heads of 128 values (1024) over dcp; then o_proj's all-reduce over full tp.
  CHECK(comms_of(attn) ==
        std::vector<std::string>{"all_to_all dcp 1024 x2", "all_reduce tp 4096 x8"});
  CHECK(attn.comms[0].why == "DCP combine of attention outputs: heads 8 -> 4 per rank");
  // The MLP keeps the global plan.
  CHECK(layer(facts, "model.layers.0.mlp").fields.tp_group == "tp");
}

TEST_CASE("layer facts: one layer without a layout or stages (a plan that failed its checks)") {
  auto c = llama8b("tp: 3");  // 3 divides neither 32 heads nor 8 KV heads
  REQUIRE(c->diags.has_errors());
  REQUIRE_FALSE(c->layout);
  LayerFacts f =
      layer_facts(*c->engine, test::layer_at(*c, "model.layers.0.mlp"), c->axes, nullptr, nullptr);
  CHECK_FALSE(f.stage.has_value());
  CHECK(f.per_rank.intermediate_size == 14336 / 3);
  REQUIRE(f.comms.size() == 1);
  CHECK(f.comms[0].group_size == 0);  // no layout: the group size is unknown
}

TEST_CASE("the manifest lists exactly the facts") {
  auto c = llama8b("tp: 4, pp: 2");
  PlanFacts facts = facts_of(*c);
  nlohmann::ordered_json m = c->manifest({"config.json", "rules.yaml"});
  REQUIRE(m["layers"].size() == facts.layers.size());
  for (std::size_t i = 0; i < facts.layers.size(); ++i) {
    const LayerFacts& f = facts.layers[i];
    const auto& j = m["layers"][i];
    INFO(j["prefix"]);
    CHECK(j["prefix"] == f.plan->layer->prefix);
    CHECK(j["stage"] == f.stage.value_or(-1));
    CHECK(j["plan"] == plan_fields_json(f.fields));
    CHECK(j["per_rank"] == per_rank_json(f.per_rank));
    CHECK(j["comms"] == collectives_json(f.comms));
  }
  CHECK(m["pipeline"]["comms"] == collectives_json(facts.pipeline_comms));
  // The JSON keeps the manifest's key order: sizes first, replicas last.
  auto keys = per_rank_json(layer(facts, "model.layers.0.self_attn").per_rank);
  CHECK(keys.begin().key() == "q_heads");
  CHECK((--keys.end()).key() == "replicas");
}

TEST_CASE("per-rank entries: a word for eh_proj, numbers elsewhere, in the manifest's order") {
  PerRankSizes mtp;
  mtp.eh_proj_replicated = true;
  mtp.replicas = 1;
  CHECK(per_rank_text(mtp) == "eh_proj=replicated replicas=1");
  CHECK(per_rank_json(mtp).dump() == R"({"eh_proj":"replicated","replicas":1})");
  PerRankSizes mamba;
  mamba.replicas = 2;
  mamba.kv_elements_per_token = 0;
  mamba.inner_size = 4096;
  mamba.mamba_heads = 64;
  CHECK(per_rank_text(mamba) ==
        "mamba_heads=64 inner_size=4096 kv_elements_per_token=0 replicas=2");
  CHECK(per_rank_text(PerRankSizes{}).empty());
}

}  // namespace
}  // namespace layerplan
