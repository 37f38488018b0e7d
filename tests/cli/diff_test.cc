// `layerplan diff A.json B.json` through the binary: exit codes 0 same / 1 different / 2
// unreadable, and the three formats checked field by field on the golden manifests.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "catch.h"
#include "run_binary.h"

namespace {

using layerplan::test::contains;
using layerplan::test::Result;
using layerplan::test::run;

const std::string kTpa = "fixtures/golden/llama8b_tpa.json";       // tp 8, attn_tp 4, dcp 2
const std::string kTp4 = "fixtures/golden/llama8b_tp4_tpa2.json";  // tp 4, attn_tp 2, dcp 2
const std::string kPp2 = "fixtures/golden/llama8b_tp2_pp2.json";

TEST_CASE("diff: the same manifest is the same plan, exit 0") {
  Result r = run({"diff", kTpa, kTpa});
  CHECK(r.code == 0);
  CHECK(r.out == "--- A: " + kTpa + "\n+++ B: " + kTpa + "\nsame plan\n");
  CHECK(r.err.empty());
}

TEST_CASE(
    "diff: text names the axes, the group sets, the folded layer ranges and the launch line") {
  Result r = run({"diff", kTpa, kTp4});
  CHECK(r.code == 1);
  CHECK(r.err.empty());
  CHECK(contains(r.out, "world_size: 8 -> 4\naxes:\n  tp: 8 -> 4\n  attn_tp: 4 -> 2\ngroups:\n"));
  CHECK(contains(r.out, "  attn_tp: [[0,2,4,6],[1,3,5,7]] -> [[0,2],[1,3]]\n"));
  CHECK(contains(r.out, "layers: 66 of 66 layers differ\n"));
  CHECK(contains(r.out,
                 "  model.layers.{0-31}.self_attn (attention gqa, 32 layers):\n"
                 "    plan.tp_size: 4 -> 2\n    per_rank.q_heads: 8 -> 16\n"));
  CHECK(contains(r.out, "  model.layers.{0-31}.mlp (mlp, 32 layers):\n    plan.tp_size: 8 -> 4\n"));
  CHECK(contains(r.out, "launch:\n  vllm.argv[4]: 8 -> 4\n"));
  CHECK(contains(r.out,
                 "  vllm.command:\n    - vllm serve fixtures/models/llama3_8b.json "
                 "--tensor-parallel-size 8 "));
  CHECK(contains(r.out,
                 "  inputs.rules: fixtures/rules/good_llama8b_tpa.yaml -> "
                 "fixtures/rules/good_llama8b_tp4_tpa2.yaml\n"));
  CHECK(contains(
      r.out, "\nplans differ: world_size, axes, groups, group_layout, layers, launch, memory\n"));
}

TEST_CASE("diff: a pipeline split shows as the layers' stages and the pipeline") {
  Result r = run({"diff", kTp4, kPp2});
  CHECK(r.code == 1);
  CHECK(contains(r.out, "  pp: 1 -> 2\n"));
  CHECK(contains(r.out, "    stage: 0 -> 1\n"));
  CHECK(contains(r.out, "pipeline:\n"));
}

TEST_CASE("diff --emit json: same, differences, sections and layer ranges as data") {
  Result r = run({"diff", "--emit", "json", kTpa, kTp4});
  CHECK(r.code == 1);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["tool"] == "layerplan");
  CHECK(j["version"].is_string());
  CHECK(j["a"] == kTpa);
  CHECK(j["b"] == kTp4);
  CHECK(j["same"] == false);
  CHECK(j["differences"] == nlohmann::json::array({"world_size", "axes", "groups", "group_layout",
                                                   "layers", "launch", "memory"}));
  CHECK(j["sections"]["world_size"][0]["field"] == "");
  CHECK(j["sections"]["world_size"][0]["a"] == 8);
  CHECK(j["sections"]["world_size"][0]["b"] == 4);
  CHECK(j["sections"]["axes"][0] == nlohmann::json({{"field", "tp"}, {"a", 8}, {"b", 4}}));
  CHECK(j["sections"]["groups"][6]["b"] == nlohmann::json::array({{0, 2}, {1, 3}}));
  CHECK(j["layers"]["count_a"] == 66);
  CHECK(j["layers"]["count_b"] == 66);
  CHECK(j["layers"]["changed"] == 66);
  const auto& attention = j["layers"]["ranges"][1];
  CHECK(attention["label"] == "model.layers.{0-31}.self_attn");
  CHECK(attention["kind"] == "attention");
  CHECK(attention["flavor"] == "gqa");
  CHECK(attention["count"] == 32);
  CHECK(attention["presence"] == "both");
  CHECK(attention["prefixes"].size() == 32);
  CHECK(attention["changes"][0] == nlohmann::json({{"field", "plan.tp_size"}, {"a", 4}, {"b", 2}}));
  CHECK(j["context"][0]["field"] == "inputs.rules");

  Result same = run({"diff", "--emit", "json", kTpa, kTpa});
  CHECK(same.code == 0);
  auto s = nlohmann::json::parse(same.out);
  CHECK(s["same"] == true);
  CHECK(s["differences"].empty());
  CHECK(s["sections"].empty());
}

TEST_CASE("diff --emit markdown: a heading, the verdict and tables") {
  Result r = run({"diff", "--emit", "markdown", kTpa, kTp4});
  CHECK(r.code == 1);
  CHECK(r.out.rfind(
            "### layerplan diff: `" + kTpa + "` → `" + kTp4 +
                "`\n\n**plans differ**: "
                "`world_size`, `axes`, `groups`, `group_layout`, `layers`, `launch`, `memory`\n",
            0) == 0);
  CHECK(contains(r.out,
                 "| section | field | A | B |\n| --- | --- | --- | --- |\n"
                 "| `world_size` |  | `8` | `4` |\n| `axes` | `tp` | `8` | `4` |\n"));
  CHECK(contains(r.out,
                 "| `model.layers.{0-31}.self_attn` (32 layers) | `attention gqa` | "
                 "`plan.tp_size` | `4` | `2` |\n|  | | `per_rank.q_heads` | `8` | `16` |\n"));
}

TEST_CASE("diff: unreadable, not JSON or not a manifest exits 2, each file's problem reported") {
  std::string not_json = layerplan::test::in_scratch("not.json");
  layerplan::test::spit(not_json, "{\"world_size\": 8,\n  oops\n}\n");
  Result r = run({"diff", "/nonexistent/a.json", not_json});
  CHECK(r.code == 2);
  CHECK(r.out.empty());
  CHECK(contains(r.err, "cannot read manifest /nonexistent/a.json"));
  CHECK(contains(r.err, not_json + ":2:3: error: "));
  CHECK(contains(r.err, "[json-syntax]"));

  Result invalid = run({"diff", kTpa, "fixtures/manifests/bad_rank_twice.json"});
  CHECK(invalid.code == 2);
  CHECK(contains(invalid.err,
                 "fixtures/manifests/bad_rank_twice.json:54:5: error: at /groups/dcp/1/0: "
                 "rank 1 is already in group 0 of set \"dcp\" [manifest-invalid]"));

  Result json = run({"diff", "--format", "json", kTpa, "/nonexistent/b.json"});
  CHECK(json.code == 2);
  // --format json alone: the deprecation warning, then the diagnostics as JSON.
  REQUIRE(contains(json.err, "--emit json"));
  json = run({"diff", "--format", "json", "--emit", "json", kTpa, "/nonexistent/b.json"});
  CHECK(json.code == 2);
  auto problems = nlohmann::json::parse(json.err);
  CHECK(problems["valid"] == false);
  CHECK(problems["diagnostics"][0]["code"] == "input-unreadable");

  Result usage = run({"diff", kTpa});
  CHECK(usage.code == 2);
  Result format = run({"diff", "--format", "sarif", kTpa, kTpa});
  CHECK(format.code == 2);
  CHECK(run({"diff", "--emit", "sarif", kTpa, kTpa}).code == 2);
}

TEST_CASE("diff: the old --format json|markdown still selects the diff, with a warning") {
  for (const std::string format : {"json", "markdown"}) {
    Result old = run({"diff", "--format", format, kTpa, kTp4});
    Result now = run({"diff", "--emit", format, kTpa, kTp4});
    INFO(old.err);
    CHECK(old.code == 1);
    CHECK(old.out == now.out);
    CHECK(contains(old.err, "layerplan diff: warning: --format " + format +
                                " selects the diagnostics format only in the next release; use "
                                "--emit " +
                                format + " for the output"));
    CHECK(now.err.empty());
  }
  // Beside --emit, markdown is no diagnostics format: said, and the diagnostics stay text.
  Result both =
      run({"diff", "--format", "markdown", "--emit", "json", kTpa, "/nonexistent/b.json"});
  CHECK(both.code == 2);
  CHECK(contains(both.err, "--format markdown is not a diagnostics format; ignored"));
  CHECK(contains(both.err, "cannot read manifest /nonexistent/b.json"));
  CHECK_FALSE(contains(both.err, "\"diagnostics\""));
}

}  // namespace
