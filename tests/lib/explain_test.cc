// `explain`'s library half (lib/explain.h): the rules' verdicts for one layer, its facts and the
// diagnostics that concern it, on Llama-3.1-8B (fixtures/models/llama3_8b.json) with vLLM PR
// #36287's tp 8 / attn_tp 4 / dcp 2 plan.
#include "lib/explain.h"

#include <algorithm>
#include <string>
#include <vector>

#include "catch.h"
#include "test_util.h"

namespace layerplan {
namespace {

using test::compile_text;
using test::fixture;

const std::string kTpaRules =
    "parallelism_rules:\n"
    "  axes: {tp: 8, attn_tp: 4, dcp: 2}\n"
    "  rules:\n"
    "    - name: attention\n"
    "      match: {kind: attention}\n"
    "      plan: {tp_size: attn_tp, dcp_size: dcp}\n"
    "    - match: {kind: mlp}\n"
    "      plan: {tp_size: tp}\n"
    "    - match: {kind: attention, layers: 0-3}\n"
    "      plan: {tp_size: 2}\n";

std::unique_ptr<Compilation> llama8b(const std::string& rules) {
  return compile_text(fixture("fixtures/models/llama3_8b.json"), rules);
}

TEST_CASE("explain: every rule's verdict, the first match chosen") {
  auto c = llama8b(kTpaRules);
  auto e = explain_layer(*c, "model.layers.3.self_attn");
  REQUIRE(e);
  CHECK(e->plan->layer->prefix == "model.layers.3.self_attn");
  REQUIRE(e->rules.size() == 3);
  CHECK(e->rules[0].rule->name == "attention");
  CHECK(e->rules[0].matched);
  CHECK(e->rules[0].chosen);
  CHECK_FALSE(e->rules[1].matched);  // kind mlp
  CHECK_FALSE(e->rules[1].chosen);
  CHECK(std::find(e->rules[1].reasons.begin(), e->rules[1].reasons.end(),
                  "no:  kind attention != mlp") != e->rules[1].reasons.end());
  CHECK(e->rules[2].matched);  // layers 0-3 matches too, but rule 0 came first
  CHECK_FALSE(e->rules[2].chosen);
  CHECK_FALSE(e->plan->fallback());
}

TEST_CASE("explain: the layer's facts, its tp group set, and no stage") {
  auto c = llama8b(kTpaRules);
  auto e = explain_layer(*c, "model.layers.3.self_attn");
  REQUIRE(e);
  REQUIRE(e->laid_out);
  CHECK_FALSE(e->facts.stage.has_value());
  CHECK(e->facts.fields.tp_size == 4);
  CHECK(e->facts.fields.tp_group == "attn_tp");
  // 32 heads / 4 = 8 a rank; o_proj over full tp: 32 / 8 = 4.
  CHECK(e->facts.per_rank.q_heads == 8);
  CHECK(e->facts.per_rank.o_proj_heads == 4);
  REQUIRE(e->facts.comms.size() == 2);
  CHECK(e->facts.comms[0].op == CollectiveOp::kAllToAll);
  CHECK(e->facts.comms[0].group_size == 2);  // dcp
  // attn_tp 4 in tp 8 with dcp 2 inside: 2 groups, the ranks that share a DCP index.
  REQUIRE(e->tp_group_set);
  CHECK(e->tp_group_set->name == "attn_tp");
  CHECK(e->tp_group_set->count == 2);
  CHECK(e->tp_group_set->first == std::vector<std::int64_t>{0, 2, 4, 6});
  // Rule 2 matches only layers rule 0 took: the warning concerns this layer too.
  REQUIRE(e->diagnostics.all().size() == 1);
  CHECK(e->diagnostics.all()[0].code == "rule-shadowed");
  CHECK(e->diagnostics.all()[0].subjects.empty());
}

TEST_CASE("explain: a layer no rule matches keeps the global plan") {
  auto c = llama8b(kTpaRules);
  auto e = explain_layer(*c, "lm_head");
  REQUIRE(e);
  CHECK(e->plan->fallback());
  CHECK(
      std::none_of(e->rules.begin(), e->rules.end(), [](const RuleMatch& m) { return m.matched; }));
  CHECK(e->facts.fields.tp_group == "tp");
  CHECK(e->facts.per_rank.vocab_rows == 16032);  // 128256 / 8
  auto j = explanation_json(*e);
  CHECK(j["prefix"] == "lm_head");
  CHECK(j["fallback"] == true);
  CHECK(j["rules"].size() == 3);
  CHECK(j["rules"][0]["name"] == "attention");
  CHECK(j["per_rank"]["vocab_rows"] == 16032);
  CHECK(j["comms"][0]["op"] == "all_gather");
}

TEST_CASE("explain: an unknown prefix gives nothing and the nearest one") {
  auto c = llama8b(kTpaRules);
  std::string closest;
  CHECK_FALSE(explain_layer(*c, "model.layers.3.self_atn", &closest));
  CHECK(closest == "model.layers.3.self_attn");
  closest.clear();
  CHECK_FALSE(explain_layer(*c, "nothing.like.it", &closest));
  CHECK(closest.empty());
}

TEST_CASE("explain: a plan that failed its checks: no layout, the layer's diagnostics only") {
  // attn_tp 3 divides neither the 32 heads nor tp 8.
  auto c = llama8b(
      "parallelism_rules:\n  axes: {tp: 8, attn_tp: 3}\n  rules:\n"
      "    - match: {kind: attention, layers: 0}\n      plan: {tp_size: attn_tp}\n");
  REQUIRE(c->diags.has_errors());
  auto attn = explain_layer(*c, "model.layers.0.self_attn");
  auto mlp = explain_layer(*c, "model.layers.0.mlp");
  REQUIRE(attn);
  REQUIRE(mlp);
  CHECK_FALSE(attn->laid_out);
  CHECK_FALSE(attn->tp_group_set);
  CHECK(attn->facts.fields.tp_size == 3);
  CHECK(attn->diagnostics.count(Severity::kError) > mlp->diagnostics.count(Severity::kError));
  for (const auto& d : attn->diagnostics.all()) CHECK(d.subjects.empty());
}

}  // namespace
}  // namespace layerplan
