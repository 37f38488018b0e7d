// Rank groups against the worked examples of vllm-semantics.md §2.3 (computed from vLLM's
// initialize_model_parallel and the TPA rank mapping of PR #42674).
#include "lib/engine/vllm_layout.h"

#include <array>

#include "catch.h"
#include "lib/engine/vllm_layers.h"
#include "lib/manifest.h"
#include "test_util.h"

namespace layerplan {
namespace {

using test::compile_text;
using test::fixture;
using test::groups_string;
using test::layer_at;

std::string tpa_rules(int tp, int attn_tp, int dcp) {
  return "parallelism_rules:\n  axes: {tp: " + std::to_string(tp) +
         ", attn_tp: " + std::to_string(attn_tp) + ", dcp: " + std::to_string(dcp) +
         "}\n  rules:\n    - match: {kind: attention}\n      plan: {tp_size: attn_tp, dcp_size: "
         "dcp}\n"
         "    - match: {kind: mlp}\n      plan: {tp_size: tp}\n";
}

TEST_CASE("example A: tp=16 attn_tp=4 dcp=4 on 64 heads / 8 KV heads") {
  auto c = compile_text(fixture("fixtures/models/llama3_70b.json"), tpa_rules(16, 4, 4));
  REQUIRE_FALSE(c->diags.has_errors());
  CHECK(groups_string(*c, "tp") == "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]");
  CHECK(groups_string(*c, "dcp") == "[0,1,2,3] [4,5,6,7] [8,9,10,11] [12,13,14,15]");
  CHECK(groups_string(*c, "attn_tp") == "[0,4,8,12] [1,5,9,13] [2,6,10,14] [3,7,11,15]");
  auto per_rank = layer_per_rank(layer_at(*c, "model.layers.0.self_attn"), c->axes);
  CHECK(per_rank.q_heads == 16);
  CHECK(per_rank.kv_heads == 2);
  CHECK(per_rank.o_proj_heads == 4);
  CHECK(per_rank.kv_cache_token_share == 4);
}

TEST_CASE("example B: tp=8 attn_tp=4 dcp=2 on Llama-3.1-8B") {
  auto c = compile_text(fixture("fixtures/models/llama3_8b.json"), tpa_rules(8, 4, 2));
  REQUIRE_FALSE(c->diags.has_errors());
  CHECK(groups_string(*c, "dcp") == "[0,1] [2,3] [4,5] [6,7]");
  CHECK(groups_string(*c, "attn_tp") == "[0,2,4,6] [1,3,5,7]");
  auto per_rank = layer_per_rank(layer_at(*c, "model.layers.31.self_attn"), c->axes);
  CHECK(per_rank.q_heads == 8);
  CHECK(per_rank.kv_heads == 2);
  CHECK(per_rank.kv_head_replicas == 1);
  CHECK(per_rank.o_proj_heads == 4);
}

TEST_CASE("example B without TPA fails vLLM's standard DCP rule tp > kv heads") {
  auto c = compile_text(fixture("fixtures/models/llama3_8b.json"),
                        "parallelism_rules:\n  axes: {tp: 8, dcp: 2}\n  rules: []\n");
  REQUIRE(test::has_code(*c, "dcp-gqa-kv-heads"));
  const Diagnostic* d = test::find_code(*c, "dcp-gqa-kv-heads");
  CHECK(d->subjects.size() == 32);  // one diagnostic for all attention layers
  bool suggests_tpa = false;
  for (const auto& n : d->notes)
    suggests_tpa |= n.message.find("attn_tp 4 with dcp 2") != std::string::npos;
  CHECK(suggests_tpa);
}

TEST_CASE("example C: dp=2 pp=2 tp=4 dcp=2 attn_tp=2") {
  auto c = compile_text(
      fixture("fixtures/models/deepseek_v3.json"),
      "parallelism_rules:\n  axes: {dp: 2, pp: 2, tp: 4, dcp: 2, attn_tp: 2, ep: 8}\n"
      "  rules:\n    - match: {kind: attention}\n      plan: {tp_size: tp, dcp_size: dcp}\n"
      "    - match: {kind: moe}\n      plan: {tp_size: tp, ep_size: ep}\n");
  REQUIRE_FALSE(c->diags.has_errors());
  CHECK(c->axes.world_size == 16);
  CHECK(groups_string(*c, "tp") == "[0,1,2,3] [4,5,6,7] [8,9,10,11] [12,13,14,15]");
  CHECK(groups_string(*c, "dcp") == "[0,1] [2,3] [4,5] [6,7] [8,9] [10,11] [12,13] [14,15]");
  CHECK(groups_string(*c, "pp") == "[0,4] [1,5] [2,6] [3,7] [8,12] [9,13] [10,14] [11,15]");
  CHECK(groups_string(*c, "dp") == "[0,8] [4,12] [1,9] [5,13] [2,10] [6,14] [3,11] [7,15]");
  CHECK(groups_string(*c, "ep") == "[0,1,2,3,8,9,10,11] [4,5,6,7,12,13,14,15]");
  CHECK(groups_string(*c, "attn_tp") == "[0,2] [1,3] [4,6] [5,7] [8,10] [9,11] [12,14] [13,15]");
}

TEST_CASE("example D: pcp=2 tp=4") {
  auto c = compile_text(fixture("fixtures/models/deepseek_v3.json"),
                        "parallelism_rules:\n  axes: {pcp: 2, tp: 4, ep: 8}\n  rules:\n"
                        "    - match: {kind: moe}\n      plan: {ep_size: ep}\n");
  REQUIRE_FALSE(c->diags.has_errors());
  CHECK(groups_string(*c, "tp") == "[0,1,2,3] [4,5,6,7]");
  CHECK(groups_string(*c, "pcp") == "[0,4] [1,5] [2,6] [3,7]");
  CHECK(groups_string(*c, "ep") == "[0,1,2,3,4,5,6,7]");
}

TEST_CASE("expert TP groups when ep is smaller than the expert domain") {
  // vLLM's ep group spans dp*pcp*tp = 8 ranks; an RFC-level ep_size of 4 gets its own ep4/etp4.
  auto c = compile_text(fixture("fixtures/models/deepseek_v3.json"),
                        "parallelism_rules:\n  axes: {tp: 8, ep: 4}\n  rules:\n"
                        "    - match: {kind: moe}\n      plan: {tp_size: tp, ep_size: ep}\n");
  REQUIRE_FALSE(c->diags.has_errors());
  CHECK(groups_string(*c, "ep") == "[0,1,2,3,4,5,6,7]");
  CHECK(groups_string(*c, "ep4") == "[0,1,2,3] [4,5,6,7]");
  CHECK(groups_string(*c, "etp4") == "[0,4] [1,5] [2,6] [3,7]");
  CHECK(test::has_code(*c, "ep-not-expressible"));
  auto plan = layer_plan_fields(layer_at(*c, "model.layers.3.mlp"), c->axes);
  CHECK(plan.ep_group == "ep4");
  auto per_rank = layer_per_rank(layer_at(*c, "model.layers.3.mlp"), c->axes);
  CHECK(per_rank.experts_min == 64);
  CHECK(per_rank.expert_tp == 2);
  CHECK(per_rank.moe_intermediate_size == 1024);
}

std::vector<std::string> set_names(const Compilation& c) {
  std::vector<std::string> names;
  for (const auto& set : c.layout->sets) names.push_back(set.name);
  return names;
}

// parallel_state.py::initialize_model_parallel creates TP, DCP, PCP, PP, DP and, for MoE models,
// EP, in that order and also when their groups hold one rank each.
TEST_CASE("vLLM's sets come first, in its creation order, one-rank groups included") {
  auto dense = compile_text(fixture("fixtures/models/llama3_8b.json"), tpa_rules(8, 4, 2));
  REQUIRE(dense->layout);
  CHECK(set_names(*dense) ==
        std::vector<std::string>{"world", "tp", "dcp", "pcp", "pp", "dp", "attn_tp"});
  CHECK(groups_string(*dense, "pcp") == "[0] [1] [2] [3] [4] [5] [6] [7]");
  auto moe = compile_text(fixture("fixtures/models/deepseek_v3.json"),
                          "parallelism_rules:\n  axes: {tp: 2}\n  rules: []\n");
  REQUIRE(moe->layout);
  CHECK(set_names(*moe) == std::vector<std::string>{"world", "tp", "dcp", "pcp", "pp", "dp", "ep"});
  CHECK(groups_string(*moe, "dcp") == "[0] [1]");
  CHECK(groups_string(*moe, "ep") == "[0,1]");  // built for every MoE model, EP enabled or not
  CHECK(layout_size(moe->axes, moe->plans).sets == 7);
  CHECK(layout_size(moe->axes, moe->plans).entries == 14);
}

// parallel_state.py::initialize_model_parallel since PR #46570: dcp_ranks =
// all_ranks.transpose(-1, -2).reshape(-1, dcp_size), "DCP spans PCP first, then TP".
TEST_CASE("initialize_model_parallel: DCP groups with pcp > 1 span PCP first, then TP") {
  auto layout_of = [](std::int64_t tp, std::int64_t pcp, std::int64_t dcp) {
    AxisValues axes;
    axes.tp = tp;
    axes.attn_tp = tp;
    axes.pcp = pcp;
    axes.dcp = dcp;
    axes.world_size = tp * pcp;
    Layout layout = build_layout(axes, {});
    std::string out;
    for (const auto& g : layout.find("dcp")->groups()) {
      out += out.empty() ? "[" : " [";
      for (std::size_t i = 0; i < g.size(); ++i) out += (i ? "," : "") + std::to_string(g[i]);
      out += "]";
    }
    return out;
  };
  CHECK(layout_of(4, 2, 2) == "[0,4] [1,5] [2,6] [3,7]");  // the worked example: = PCP groups
  CHECK(layout_of(4, 2, 8) == "[0,4,1,5,2,6,3,7]");        // dcp = tp*pcp
  CHECK(layout_of(4, 2, 1) == "[0] [1] [2] [3] [4] [5] [6] [7]");
  CHECK(layout_of(4, 1, 2) == "[0,1] [2,3]");          // pcp = 1: consecutive chunks, as before
  CHECK(layout_of(4, 2, 4) == "[0,4,1,5] [2,6,3,7]");  // invalid for vLLM, laid out all the same
  CHECK(layout_of(4, 2, 3) == "[0,4,1] [5,2,6]");      // does not divide: whole chunks only
}

TEST_CASE("DeepSeek-V3 at tp 2, pcp 2, dcp 2: transposed DCP groups and the ep set") {
  auto c = compile_text(fixture("fixtures/models/deepseek_v3.json"),
                        "parallelism_rules:\n  axes: {tp: 2, pcp: 2, dcp: 2}\n  rules: []\n");
  REQUIRE(c->layout);
  CHECK(groups_string(*c, "dcp") == "[0,2] [1,3]");
  CHECK(groups_string(*c, "pcp") == "[0,2] [1,3]");
  CHECK(groups_string(*c, "ep") == "[0,1,2,3]");
}

TEST_CASE("pipeline stages split the way vLLM's get_pp_indices does") {
  auto stages = pipeline_stages(61, 4);  // 15 each, one extra on stage -2
  REQUIRE(stages.size() == 4);
  CHECK(stages[0].first_layer == 0);
  CHECK(stages[0].last_layer == 14);
  CHECK(stages[2].last_layer - stages[2].first_layer + 1 == 16);
  CHECK(stages[3].last_layer == 60);
  auto three = pipeline_stages(10, 4);  // remainder 2 -> stages 2 and 1
  CHECK(three[0].last_layer - three[0].first_layer + 1 == 2);
  CHECK(three[1].last_layer - three[1].first_layer + 1 == 3);
  CHECK(three[2].last_layer - three[2].first_layer + 1 == 3);
  CHECK(three[3].last_layer - three[3].first_layer + 1 == 2);
}

TEST_CASE("every group set partitions the world") {
  auto c =
      compile_text(fixture("fixtures/models/deepseek_v3.json"),
                   "parallelism_rules:\n  axes: {dp: 2, pp: 3, tp: 8, dcp: 8, attn_tp: 1, ep: 16}\n"
                   "  rules:\n    - match: {kind: moe}\n      plan: {ep_size: ep}\n");
  REQUIRE(c->layout);
  for (const auto& set : c->layout->sets) {
    std::vector<int> seen(static_cast<std::size_t>(c->axes.world_size), 0);
    for (const auto& g : set.groups())
      for (auto r : g) ++seen[static_cast<std::size_t>(r)];
    for (int count : seen) CHECK(count == 1);
  }
}

TEST_CASE("every step is a permutation, and locate inverts rank on every set") {
  // Plans with pcp, transposed DCP groups, tp sub-groups, and expert sets of one and two steps.
  for (const char* rules :
       {"parallelism_rules:\n  axes: {dp: 2, pp: 3, tp: 8, dcp: 8, attn_tp: 1, ep: 16}\n"
        "  rules:\n    - match: {kind: moe}\n      plan: {ep_size: ep}\n",
        "parallelism_rules:\n  axes: {pcp: 2, tp: 4, dcp: 2}\n  rules: []\n",
        "parallelism_rules:\n  axes: {dp: 2, pp: 3, tp: 8, attn_tp: 2, dcp: 4, ep: 4}\n  rules:\n"
        "    - match: {kind: moe}\n      plan: {ep_size: ep}\n"}) {
    INFO(rules);
    auto c = compile_text(fixture("fixtures/models/deepseek_v3.json"), rules);
    REQUIRE(c->layout);
    for (const auto& set : c->layout->sets) {
      INFO(set.name);
      for (const auto& step : set.steps) CHECK(step.is_permutation());
      for (std::int64_t g = 0; g < set.count(); ++g) {
        for (std::int64_t i = 0; i < set.group_size; ++i) {
          CHECK(set.locate(set.rank(g, i)) == std::pair<std::int64_t, std::int64_t>{g, i});
        }
      }
    }
  }
  // Walks that repeat or skip elements are not permutations; a size-1 dimension's stride is
  // not looked at.
  CHECK(GroupStep{{"a", "b"}, {2, 4}, {4, 1}}.is_permutation());
  CHECK(GroupStep{{"a", "b", "c"}, {2, 1, 4}, {4, 4, 1}}.is_permutation());
  CHECK_FALSE(GroupStep{{"a", "b"}, {2, 4}, {2, 1}}.is_permutation());  // 2 and 3 visited twice
  CHECK_FALSE(GroupStep{{"a", "b"}, {2, 4}, {8, 1}}.is_permutation());  // 4 to 7 skipped
  CHECK_FALSE(GroupStep{{"a", "b"}, {2, 4}, {4, 2}}.is_permutation());  // no stride of 1
}

// The manifest streams its groups from the formulas: byte for byte what the listed value gives.
TEST_CASE("the streamed manifest equals the listed one, and --group-lists none drops the lists") {
  const char* plans[] = {
      "parallelism_rules:\n  axes: {dp: 2, pp: 3, tp: 8, dcp: 8, attn_tp: 1, ep: 16}\n"
      "  rules:\n    - match: {kind: moe}\n      plan: {ep_size: ep}\n",
      "parallelism_rules:\n  axes: {dp: 2, pp: 2, tp: 4, dcp: 4, attn_tp: 1, ep: 4}\n"
      "  rules:\n    - match: {kind: moe}\n      plan: {ep_size: ep}\n",
  };
  for (const char* rules : plans) {
    INFO(rules);
    auto c = compile_text(fixture("fixtures/models/deepseek_v3.json"), rules);
    REQUIRE(c->layout);
    ManifestInputs listed{"config.json", "rules.yaml"};
    std::string want = dump_json(c->manifest(listed)) + "\n";
    ManifestInputs streamed = listed;
    streamed.stream_groups = true;
    std::string got;
    CHECK(write_manifest(c->manifest(streamed), *c->layout, [&](std::string_view piece) {
      got.append(piece);
      return true;
    }));
    CHECK(got == want);
    // A failing sink stops the write and says so.
    CHECK_FALSE(
        write_manifest(c->manifest(streamed), *c->layout, [](std::string_view) { return false; }));
    streamed.group_lists = false;
    auto compact = c->manifest(streamed);
    CHECK_FALSE(compact.contains("groups"));
    REQUIRE(compact.contains("group_layout"));
    CHECK(compact["group_layout"].size() == c->layout->sets.size());
  }
}

// Every set's formula against vLLM's definition, rank by rank: tp, pcp, pp and dp groups hold
// the ranks equal in every other coordinate of (d, p, c, t), in ascending order.
TEST_CASE("grid sets vary exactly one coordinate") {
  AxisValues a;
  a.dp = 3;
  a.pp = 2;
  a.tp = 4;
  a.attn_tp = 4;
  a.pcp = 2;
  a.dcp = 2;
  a.world_size = 48;
  Layout layout = build_layout(a, {});
  auto coords = [&](std::int64_t r) {
    return std::array<std::int64_t, 4>{r / (a.pp * a.pcp * a.tp), r / (a.pcp * a.tp) % a.pp,
                                       r / a.tp % a.pcp, r % a.tp};
  };
  const std::pair<const char*, int> sets[] = {{"tp", 3}, {"pcp", 2}, {"pp", 1}, {"dp", 0}};
  for (auto [name, dim] : sets) {
    INFO(name);
    const GroupSet* set = layout.find(name);
    REQUIRE(set != nullptr);
    CHECK(set->count() * set->group_size == a.world_size);
    for (std::int64_t g = 0; g < set->count(); ++g) {
      auto group = set->group(g);
      for (std::size_t i = 0; i < group.size(); ++i) {
        auto x = coords(group[i]);
        auto y = coords(group[0]);
        CHECK(x[static_cast<std::size_t>(dim)] == static_cast<std::int64_t>(i));
        x[static_cast<std::size_t>(dim)] = y[static_cast<std::size_t>(dim)] = 0;
        CHECK(x == y);
      }
    }
  }
}

}  // namespace
}  // namespace layerplan
