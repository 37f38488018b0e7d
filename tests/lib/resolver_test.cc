// The resolver: first match wins, omitted fields and unmatched layers keep the global plan.
#include "catch.h"
#include "test_util.h"

namespace layerplan {
namespace {

using test::compile_text;
using test::fixture;
using test::layer_at;

TEST_CASE("the first matching rule wins and every match is recorded") {
  auto c = compile_text(fixture("fixtures/models/deepseek_v3.json"),
                        "parallelism_rules:\n  axes: {tp: 8, dcp: 8, attn_tp: 1, ep: 8}\n  rules:\n"
                        "    - match: {mtp: true}\n      plan: {tp_size: 1, dcp_size: 1}\n"
                        "    - match: {kind: attention}\n      plan: {tp_size: tp, dcp_size: dcp}\n"
                        "    - match: {layers: \"0-2\"}\n      plan: {tp_size: 4}\n"
                        "    - match: {kind: moe}\n      plan: {ep_size: ep}\n");
  const LayerPlan& mtp_attn = layer_at(*c, "model.layers.61.self_attn");
  CHECK(mtp_attn.rule == 0);
  CHECK(mtp_attn.matched == std::vector<int>{0, 1});
  CHECK(mtp_attn.plan.tp_size.value == 1);
  CHECK(mtp_attn.plan.dcp_size.value == 1);
  const LayerPlan& dense = layer_at(*c, "model.layers.1.mlp");
  CHECK(dense.rule == 2);
  CHECK(dense.plan.tp_size.value == 4);
  CHECK(dense.plan.tp_size.from_rule);
  const LayerPlan& moe = layer_at(*c, "model.layers.30.mlp");
  CHECK(moe.rule == 3);
  CHECK(moe.plan.ep_size.value == 8);
  CHECK(moe.plan.tp_size.value == 8);  // omitted: keeps the global tp
  CHECK_FALSE(moe.plan.tp_size.from_rule);
  CHECK(moe.plan.tp_size.axis == "tp");
}

TEST_CASE("unmatched layers fall back to vLLM's global wiring") {
  auto c =
      compile_text(fixture("fixtures/models/deepseek_v3.json"),
                   "parallelism_rules:\n  axes: {tp: 8, dcp: 8, attn_tp: 1, ep: 8}\n  rules: []\n");
  const LayerPlan& attn = layer_at(*c, "model.layers.0.self_attn");
  CHECK(attn.fallback());
  CHECK(attn.plan.tp_size.value == 8);
  CHECK(attn.plan.dcp_size.value == 8);  // DCP applies to every attention layer
  const LayerPlan& moe = layer_at(*c, "model.layers.5.mlp");
  CHECK(moe.plan.ep_size.value == 8);
  CHECK(moe.plan.dcp_size.value == 1);
  const LayerPlan& dense = layer_at(*c, "model.layers.0.mlp");
  CHECK(dense.plan.ep_size.value == 1);
}

TEST_CASE("explain reasons name each matcher's verdict") {
  auto c = compile_text(fixture("fixtures/models/llama3_8b.json"), "");
  REQUIRE(c->model);
  Rule rule;
  rule.match.kind = LayerKind::kAttention;
  rule.match.prefix_pattern = "model.layers.1*";
  rule.match.layers = std::make_pair(10, 19);
  std::vector<std::string> reasons;
  const Layer& l = c->model->layers[2 * 12 + 1];  // model.layers.12.self_attn
  REQUIRE(l.prefix == "model.layers.12.self_attn");
  CHECK(rule_matches(rule, l, &reasons));
  REQUIRE(reasons.size() == 3);
  CHECK(reasons[2] == "yes: index 12 in 10..19");
  reasons.clear();
  CHECK_FALSE(rule_matches(rule, c->model->layers[2 * 12 + 2], &reasons));
  CHECK(reasons[0] == "no:  kind mlp != attention");
}

}  // namespace
}  // namespace layerplan
