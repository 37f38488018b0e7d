// Per-layer facts against vLLM main at f067737b: vocabulary padding
// (vocab_parallel_embedding.py::pad_vocab_size, VocabParallelEmbedding.__init__), the logits
// gather (logits_processor.py::LogitsProcessor._gather_logits) and the MoE layer's sizes and
// collectives (fused_moe/config.py::FusedMoEParallelConfig.make, runner/moe_runner.py,
// device_communicators/all2all.py::AgRsAll2AllManager).
#include "lib/engine/vllm_layers.h"

#include <set>

#include "catch.h"
#include "lib/engine/vllm_layout.h"
#include "test_util.h"

namespace layerplan {
namespace {

using test::compile_text;
using test::fixture;
using test::layer_at;

std::unique_ptr<Compilation> deepseek(const std::string& axes, const std::string& rules = "[]") {
  return compile_text(fixture("fixtures/models/deepseek_v3.json"),
                      "parallelism_rules:\n  axes: {" + axes + "}\n  rules: " + rules + "\n");
}

// "op group elements" for each collective of a layer.
std::vector<std::string> comms_of(const Compilation& c, const char* prefix) {
  std::vector<std::string> out;
  for (const auto& comm : layer_comms(layer_at(c, prefix), c.axes)) {
    out.push_back(std::string(collective_op_name(comm.op)) + " " + comm.group + " " +
                  std::to_string(comm.elements_per_token));
  }
  return out;
}

// Every set a layer's comms or plan names is one the layout lists.
void check_names_exist(const Compilation& c) {
  REQUIRE(c.layout);
  std::set<std::string> sets;
  for (const auto& s : c.layout->sets) sets.insert(s.name);
  for (const auto& p : c.plans) {
    for (const auto& comm : layer_comms(p, c.axes)) {
      INFO(p.layer->prefix);
      CHECK(sets.count(comm.group) == 1);
    }
    PlanFields plan = layer_plan_fields(p, c.axes);
    for (const std::string* group : {&plan.tp_group, &plan.dcp_group, &plan.ep_group}) {
      if (!group->empty()) CHECK(sets.count(*group) == 1);
    }
  }
}

TEST_CASE("pad_vocab_size pads to 64 rows in all, not per rank: Llama-3.1-8B at tp 8") {
  auto c = compile_text(fixture("fixtures/models/llama3_8b.json"),
                        "parallelism_rules:\n  axes: {tp: 8}\n  rules: []\n");
  auto per_rank = layer_per_rank(layer_at(*c, "lm_head"), c->axes);
  CHECK(per_rank.vocab_padded == 128256);
  CHECK(per_rank.vocab_rows == 16032);
  CHECK(layer_per_rank(layer_at(*c, "model.embed_tokens"), c->axes).vocab_rows == 16032);
  // LogitsProcessor._gather_logits: all-gather over TP (Platform.use_all_gather is True).
  CHECK(comms_of(*c, "lm_head") == std::vector<std::string>{"all_gather tp 128256"});
}

TEST_CASE("VocabParallelEmbedding: tp not dividing the padded vocabulary gives no rows per rank") {
  std::string config = fixture("fixtures/models/llama3_8b.json");
  auto at = config.find("128256");
  REQUIRE(at != std::string::npos);
  config.replace(at, 6, "32064");  // padded 32064 = 64 * 501; 501 is odd: tp 10 does not divide
  auto c = compile_text(config, "parallelism_rules:\n  axes: {tp: 10}\n  rules: []\n");
  auto per_rank = layer_per_rank(layer_at(*c, "lm_head"), c->axes);
  CHECK(per_rank.vocab_padded == 32064);
  CHECK_FALSE(per_rank.vocab_rows.has_value());
  CHECK(layer_comms(layer_at(*c, "lm_head"), c->axes).empty());
}

TEST_CASE(
    "FusedMoEParallelConfig.make: TP only, no EP: experts tensor-sharded, one TP all-reduce") {
  auto c = deepseek("tp: 2");
  check_names_exist(*c);
  const auto& moe = layer_at(*c, "model.layers.3.mlp");
  auto plan = layer_plan_fields(moe, c->axes);
  CHECK(plan.ep_size == 1);
  CHECK(plan.ep_group == "ep");  // vLLM builds the EP group for every MoE model
  auto per_rank = layer_per_rank(moe, c->axes);
  CHECK(per_rank.experts_min == 256);
  CHECK(per_rank.expert_tp == 2);
  CHECK(per_rank.moe_intermediate_size == 1024);
  CHECK(comms_of(*c, "model.layers.3.mlp") == std::vector<std::string>{"all_reduce tp 7168"});
}

TEST_CASE(
    "MoE with dp 2, no EP: all-gather/reduce-scatter over DP, moe tp = dp*tp, TP all-reduce") {
  // moe_runner.py::_maybe_dispatch -> AgRsAll2AllManager._get_comm_group: the DP group.
  auto c = deepseek("tp: 2, dp: 2");
  check_names_exist(*c);
  auto per_rank = layer_per_rank(layer_at(*c, "model.layers.3.mlp"), c->axes);
  CHECK(per_rank.expert_tp == 4);
  CHECK(per_rank.moe_intermediate_size == 512);
  CHECK(comms_of(*c, "model.layers.3.mlp") == std::vector<std::string>{"all_gather dp 14336",
                                                                       "reduce_scatter dp 14336",
                                                                       "all_reduce tp 7168"});
}

TEST_CASE("MoE with dp 2 and EP over dp*tp: sequence-parallel dispatch over ep, TP all-gather") {
  // ParallelConfig.use_sequence_parallel_moe (EP, tp > 1, dp > 1): AgRsAll2AllManager over the
  // EP group; the model all-gathers over TP after (deepseek_v2.py), shared experts replicated.
  auto c = deepseek("tp: 2, dp: 2, ep: 4", "\n    - match: {kind: moe}\n      plan: {ep_size: ep}");
  check_names_exist(*c);
  const auto& moe = layer_at(*c, "model.layers.3.mlp");
  CHECK(layer_plan_fields(moe, c->axes).ep_group == "ep");
  auto per_rank = layer_per_rank(moe, c->axes);
  CHECK(per_rank.experts_min == 64);
  CHECK(per_rank.expert_tp == 1);
  CHECK(per_rank.shared_intermediate_size == 2048);
  CHECK(comms_of(*c, "model.layers.3.mlp") == std::vector<std::string>{"all_gather ep 14336",
                                                                       "reduce_scatter ep 14336",
                                                                       "all_gather tp 7168"});
}

TEST_CASE(
    "MoE with pcp 2: PCP all-gather before the experts, reduce-scatter after, TP all-reduce") {
  // moe_runner.py::_maybe_dispatch/_maybe_combine (get_pcp_group().all_gather / reduce_scatter).
  auto c = deepseek("tp: 2, pcp: 2, dcp: 2");
  check_names_exist(*c);
  auto per_rank = layer_per_rank(layer_at(*c, "model.layers.3.mlp"), c->axes);
  CHECK(per_rank.expert_tp == 4);
  CHECK(comms_of(*c, "model.layers.3.mlp") == std::vector<std::string>{"all_gather pcp 14336",
                                                                       "reduce_scatter pcp 14336",
                                                                       "all_reduce tp 7168"});
  // With EP over pcp*tp the AgRsAll2AllManager gathers over PCP (dp = 1): the same collectives.
  auto ep = deepseek("tp: 2, pcp: 2, dcp: 2, ep: 4",
                     "\n    - match: {kind: moe}\n      plan: {ep_size: ep}");
  check_names_exist(*ep);
  CHECK(comms_of(*ep, "model.layers.3.mlp") == std::vector<std::string>{"all_gather pcp 14336",
                                                                        "reduce_scatter pcp 14336",
                                                                        "all_reduce tp 7168"});
  CHECK(layer_per_rank(layer_at(*ep, "model.layers.3.mlp"), ep->axes).experts_min == 64);
}

}  // namespace
}  // namespace layerplan
