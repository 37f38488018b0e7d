#include "smoke/manifest_view.h"

#include "catch.h"

namespace layerplan::smoke {
namespace {

using Json = nlohmann::ordered_json;

// A small valid manifest: world 4, tp=4 attn_tp=2 dcp=2.
Json tiny() {
  return Json::parse(R"({
    "world_size": 4,
    "model": {"architecture": "LlamaForCausalLM", "dtype": "bfloat16"},
    "axes": {"tp": 4, "attn_tp": 2, "dcp": 2, "pcp": 1, "pp": 1, "dp": 1},
    "groups": {"world": [[0,1,2,3]], "tp": [[0,1,2,3]], "dcp": [[0,1],[2,3]],
               "attn_tp": [[0,2],[1,3]], "pp": [[0],[1],[2],[3]], "dp": [[0],[1],[2],[3]]},
    "layers": [
      {"prefix": "model.layers.0.self_attn", "kind": "attention", "index": 0,
       "plan": {"tp_size": 2, "tp_group": "attn_tp", "dcp_size": 2, "dcp_group": "dcp",
                "ep_size": 1, "ep_group": null},
       "comms": [{"op": "all_to_all", "group": "dcp", "elements_per_token": 2048},
                 {"op": "all_reduce", "group": "tp", "elements_per_token": 4096}]}],
    "pipeline": {"stages": [], "comms": []}
  })");
}

std::vector<Problem> problems_of(const Json& j) {
  std::vector<Problem> problems;
  auto view = read_manifest(j, problems);
  CHECK(view.has_value() == problems.empty());
  return problems;
}

bool has(const std::vector<Problem>& problems, const std::string& where, const std::string& text) {
  for (const auto& p : problems) {
    if (p.where == where && p.message.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST_CASE("read_manifest keeps group sets in key order and reads comms and plans", "[smoke]") {
  std::vector<Problem> problems;
  auto view = read_manifest(tiny(), problems);
  REQUIRE(view);
  CHECK(problems.empty());
  CHECK(view->world_size == 4);
  CHECK(view->dtype == "bfloat16");
  REQUIRE(view->sets.size() == 6);
  CHECK(view->sets[2].name == "dcp");
  CHECK(view->sets[3].name == "attn_tp");
  CHECK(view->sets[2].uniform_size() == 2);
  CHECK(view->sets[3].locate(3) == std::pair<int, int>{1, 1});
  REQUIRE(view->comms.size() == 2);
  CHECK(view->comms[0].op == Op::kAllToAll);
  CHECK(view->comms[0].set == "dcp");
  CHECK(view->comms[0].elements_per_token == 2048);
  CHECK(view->comms[1].user == "model.layers.0.self_attn");
  REQUIRE(view->plan_sizes.size() == 2);
  CHECK(view->plan_sizes[0].set == "attn_tp");
  CHECK(view->plan_sizes[0].size == 2);
}

TEST_CASE("read_manifest reports every shape problem with its JSON pointer", "[smoke]") {
  Json j = tiny();
  j["groups"]["tp"][0][3] = 4;                        // out of range
  j["groups"]["dcp"] = Json::parse("[[0,1],[1,3]]");  // 1 twice, 2 missing
  j["groups"]["pp"] = Json::parse("[[0],[1],[2]]");   // 3 missing
  j["layers"][0]["comms"][0]["op"] = "all_to_some";
  j["layers"][0]["comms"][1]["group"] = "kvp";
  j["layers"][0]["comms"][1]["elements_per_token"] = 1.5;
  j["axes"]["pp"] = 2;
  const auto problems = problems_of(j);
  CHECK(has(problems, "/groups/tp/0/3", "4 is outside [0, 3]"));
  CHECK(has(problems, "/groups/dcp/1/0", "rank 1 appears twice in this set (also in group 0)"));
  CHECK(has(problems, "/groups/pp", "1 rank(s) in no group (3)"));
  CHECK(has(problems, "/layers/0/comms/0/op", "op must be one of"));
  CHECK(has(problems, "/layers/0/comms/1/group", "group must name a group set"));
  CHECK(has(problems, "/layers/0/comms/1/elements_per_token", "must be an integer"));
  CHECK(has(problems, "/axes", "dp*pp*pcp*tp = 8 but world_size is 4"));
}

TEST_CASE("read_manifest reports missing keys at their parent", "[smoke]") {
  Json j = tiny();
  j.erase("groups");
  j.erase("pipeline");
  j["axes"].erase("dcp");
  j["layers"][0].erase("comms");
  const auto problems = problems_of(j);
  CHECK(has(problems, "/", "missing key \"groups\""));
  CHECK(has(problems, "/", "missing key \"pipeline\""));
  CHECK(has(problems, "/axes", "missing key \"dcp\""));
  CHECK(has(problems, "/layers/0", "missing key \"comms\""));
  CHECK(render_problem({"/", "missing key \"groups\""}) == "manifest: missing key \"groups\"");
  CHECK(render_problem({"/axes", "x"}) == "manifest:/axes: x");
}

TEST_CASE("read_manifest rejects non-objects, empty groups and dangling plan groups", "[smoke]") {
  CHECK(has(problems_of(Json::array()), "/", "must be a JSON object"));
  Json j = tiny();
  j["groups"]["dcp"] = Json::array();
  j["groups"]["attn_tp"] = Json::parse("[[0,2],[]]");
  j["layers"][0]["plan"]["dcp_group"] = "kvp";
  j["world_size"] = 0;
  const auto problems = problems_of(j);
  CHECK(has(problems, "/groups/dcp", "non-empty list of groups"));
  CHECK(has(problems, "/groups/attn_tp/1", "non-empty list of global ranks"));
  CHECK(has(problems, "/layers/0/plan/dcp_group", "names group set \"kvp\""));
  CHECK(has(problems, "/world_size", "0 is outside [1,"));
}

TEST_CASE("read_manifest takes vLLM's DCP sizes with pcp > 1: 1, pcp or tp*pcp", "[smoke]") {
  // config/parallel.py::ParallelConfig._validate_parallel_config
  Json j = tiny();
  j["world_size"] = 8;
  j["axes"] = Json::parse(R"({"tp": 4, "attn_tp": 4, "dcp": 8, "pcp": 2, "pp": 1, "dp": 1})");
  j["groups"] = Json::parse(R"({"world": [[0,1,2,3,4,5,6,7]]})");
  j["layers"] = Json::array();
  CHECK(problems_of(j).empty());
  j["axes"]["dcp"] = 2;
  CHECK(problems_of(j).empty());
  j["axes"]["dcp"] = 4;
  CHECK(has(problems_of(j), "/axes/dcp", "dcp (4) with pcp (2) must be 1, pcp or tp*pcp (8)"));
}

TEST_CASE("op names round-trip and canonical set order follows vLLM", "[smoke]") {
  for (Op op : {Op::kAllReduce, Op::kAllGather, Op::kReduceScatter, Op::kAllToAll, Op::kSendRecv}) {
    CHECK(parse_op(op_name(op)) == op);
  }
  CHECK_FALSE(parse_op("broadcast"));
  CHECK(canonical_set_rank("world") < canonical_set_rank("tp"));
  CHECK(canonical_set_rank("dcp") < canonical_set_rank("pp"));
  // parallel_state.py::initialize_model_parallel creates TP, DCP, PCP, PP, DP, EP in this order;
  // layerplan's own sets (attn_tp, etp, tp_sub<k>) come after vLLM's.
  CHECK(canonical_set_rank("dcp") < canonical_set_rank("pcp"));
  CHECK(canonical_set_rank("dp") < canonical_set_rank("ep"));
  CHECK(canonical_set_rank("ep") < canonical_set_rank("attn_tp"));
  CHECK(canonical_set_rank("etp") < canonical_set_rank("tp_sub2"));
  CHECK(canonical_set_rank("tp_sub2") < canonical_set_rank("custom"));
}

}  // namespace
}  // namespace layerplan::smoke
