// End-to-end: vLLM's launch line in (--vllm-args) and out (the manifest's launch.vllm and
// `compile --emit vllm-args`), the round trip over every good fixture, and nodes.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "catch.h"
#include "run_binary.h"

namespace {

using layerplan::test::contains;
using layerplan::test::in_scratch;
using layerplan::test::Result;
using layerplan::test::run;
using layerplan::test::slurp;

namespace fs = std::filesystem;

// The `# model:` and `# flags:` header lines of a rules fixture.
struct Fixture {
  std::string name, model;
  bool allow_unverified = false;
};

std::vector<Fixture> good_fixtures() {
  std::vector<Fixture> out;
  for (const auto& e : fs::directory_iterator(fs::path(LAYERPLAN_SOURCE_DIR) / "fixtures/rules")) {
    std::string name = e.path().filename().string();
    if (name.rfind("good_", 0) != 0 || e.path().extension() != ".yaml") continue;
    Fixture f{name, "", false};
    std::ifstream in(e.path());
    for (std::string line; std::getline(in, line) && line.rfind('#', 0) == 0;) {
      if (line.rfind("# model:", 0) == 0) f.model = line.substr(line.find_first_not_of(' ', 8));
      if (line.rfind("# flags:", 0) == 0 && contains(line, "allow-unverified"))
        f.allow_unverified = true;
    }
    f.model = f.model.substr(0, f.model.find(' '));
    out.push_back(f);
  }
  std::sort(out.begin(), out.end(),
            [](const Fixture& a, const Fixture& b) { return a.name < b.name; });
  return out;
}

nlohmann::json manifest_of(std::vector<std::string> args) {
  std::string path = in_scratch("roundtrip.json");
  args.insert(args.begin(), "compile");
  args.insert(args.end(), {"-o", path});
  Result r = run(args);
  INFO(r.all());
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(slurp(path));
}

TEST_CASE("round trip: check --vllm-args \"$(compile --emit vllm-args)\" gives the same plan") {
  int expressible = 0, refused = 0;
  for (const Fixture& f : good_fixtures()) {
    INFO(f.name);
    std::vector<std::string> flags;
    if (f.allow_unverified) flags.push_back("--allow-unverified");
    std::vector<std::string> from_rules = {"--config", "fixtures/models/" + f.model, "--rules",
                                           "fixtures/rules/" + f.name};
    from_rules.insert(from_rules.end(), flags.begin(), flags.end());
    std::vector<std::string> emit = {"compile", "--emit", "vllm-args"};
    emit.insert(emit.end(), from_rules.begin(), from_rules.end());
    Result line = run(emit);
    auto rules_manifest = manifest_of(from_rules);
    const auto& launch = rules_manifest["launch"]["vllm"];
    if (launch["runnable_on"] == "none") {
      // Not expressible: --emit refuses, and says rule by rule why.
      CHECK(line.code == 1);
      CHECK(line.out.empty());
      CHECK(contains(line.err, "not expressible by any flag, rule by rule:"));
      CHECK_FALSE(launch["not_expressible"].empty());
      ++refused;
      continue;
    }
    ++expressible;
    REQUIRE(line.code == 0);
    std::string args = line.out.substr(0, line.out.find('\n'));
    CHECK(args == launch["command"].get<std::string>());
    std::vector<std::string> check = {"check", "--vllm-args", args};
    check.insert(check.end(), flags.begin(), flags.end());
    Result checked = run(check);
    CHECK(checked.code == 0);
    CHECK(contains(checked.out, "OK: "));
    std::vector<std::string> from_args = {"--vllm-args", args};
    from_args.insert(from_args.end(), flags.begin(), flags.end());
    auto args_manifest = manifest_of(from_args);
    // The groups vLLM builds (layerplan's derived attention-TP set follows a declared attn_tp
    // axis, which a rules file may declare without any layer using it).
    for (const char* set : {"world", "tp", "dcp", "pcp", "pp", "dp", "ep"}) {
      INFO(set);
      CHECK(rules_manifest["groups"].value(set, nlohmann::json()) ==
            args_manifest["groups"].value(set, nlohmann::json()));
    }
    REQUIRE(rules_manifest["layers"].size() == args_manifest["layers"].size());
    for (std::size_t i = 0; i < rules_manifest["layers"].size(); ++i) {
      const auto& a = rules_manifest["layers"][i];
      const auto& b = args_manifest["layers"][i];
      INFO(a["prefix"]);
      CHECK(a["prefix"] == b["prefix"]);
      for (const char* field :
           {"tp_size", "dcp_size", "ep_size", "tp_group", "dcp_group", "ep_group"}) {
        CHECK(a["plan"].value(field, nlohmann::json()) == b["plan"].value(field, nlohmann::json()));
      }
      CHECK(a["stage"] == b["stage"]);
    }
    CHECK(rules_manifest["pipeline"] == args_manifest["pipeline"]);
    CHECK(args_manifest["launch"]["vllm"]["command"] == launch["command"]);
  }
  CHECK(expressible > 0);
  CHECK(refused > 0);
}

TEST_CASE("a vLLM error in the launch line points at its column, with a caret") {
  Result r = run({"check", "--vllm-args",
                  "vllm serve fixtures/models/llama3_70b.json -tp 8 -tpa 4 -dcp 4 --port 8000"});
  CHECK(r.code == 1);
  CHECK(contains(r.out,
                 "--vllm-args:1:62: error: attn_tp (4) * dcp (4) = 16 must equal tp (8) "
                 "when attn_tp < tp [tpa-invariant]"));
  CHECK(contains(
      r.out, " | vllm serve fixtures/models/llama3_70b.json -tp 8 -tpa 4 -dcp 4 --port 8000\n"));
  CHECK(contains(r.out, "note: ignored (they shape no rank group): --port [vllm-args-ignored]"));
  Result typo = run(
      {"check", "--vllm-args", "vllm serve fixtures/models/llama3_8b.json --tensor-parallel 2"});
  CHECK(typo.code == 1);
  CHECK(contains(typo.out,
                 "--vllm-args:1:43: error: '--tensor-parallel' is not a vLLM parallel flag; "
                 "did you mean '--tensor-parallel-size'? [unknown-parallel-flag]"));
}

TEST_CASE("MODEL stands for --config: a path works, an HF model id says what it needs") {
  Result path = run({"check", "--vllm-args", "vllm serve fixtures/models -tp 2"});
  CHECK(path.code != 0);  // a directory without config.json: the reader's own error
  Result ok = run({"check", "--vllm-args", "vllm serve fixtures/models/llama3_8b.json -tp 2"});
  CHECK(ok.code == 0);
  // An HF model id is looked up in the local HF cache (lib/model_resolver.h), never downloaded:
  // not there, the error points at MODEL in the line and says how to fetch the config.
  std::string env = "HF_HUB_CACHE=/nonexistent/hub HF_HOME= HOME=/nonexistent";
  Result id = run({"check", "--vllm-args", "vllm serve meta-llama/Llama-3.1-8B -tp 2"}, env);
  CHECK(id.code == 2);
  CHECK(contains(id.out, "--vllm-args:1:12: error: cannot find model 'meta-llama/Llama-3.1-8B'"));
  CHECK(contains(id.out, "huggingface-cli download meta-llama/Llama-3.1-8B config.json"));
  // In a cache, the id resolves: a fake one with Llama-3.1-8B's config under refs/main.
  std::string hub = layerplan::test::scratch() + "/hub";
  std::filesystem::create_directories(hub + "/models--meta-llama--Llama-3.1-8B/refs");
  std::filesystem::create_directories(hub + "/models--meta-llama--Llama-3.1-8B/snapshots/abc");
  layerplan::test::spit(hub + "/models--meta-llama--Llama-3.1-8B/refs/main", "abc");
  std::filesystem::copy_file("fixtures/models/llama3_8b.json",
                             hub + "/models--meta-llama--Llama-3.1-8B/snapshots/abc/config.json",
                             std::filesystem::copy_options::overwrite_existing);
  Result cached = run({"check", "--vllm-args", "vllm serve meta-llama/Llama-3.1-8B -tp 2"},
                      "HF_HUB_CACHE=" + hub + " HOME=/nonexistent");
  INFO(cached.all());
  CHECK(cached.code == 0);
  CHECK(contains(cached.out, "OK: LlamaForCausalLM"));
  Result none = run({"check", "--vllm-args", "-tp 2"});
  CHECK(none.code == 2);
  CHECK(contains(none.out, "no model"));
  Result both = run({"check", "--vllm-args", "-tp 2", "--rules", "fixtures/rules/good_tp2_pp2.yaml",
                     "--config", "fixtures/models/llama3_8b.json"});
  CHECK(both.code == 2);
  Result explain = run({"explain", "--vllm-args",
                        "vllm serve fixtures/models/llama3_8b.json -tp 8 -tpa 4 -dcp 2", "--layer",
                        "model.layers.0.self_attn"});
  CHECK(explain.code == 0);
  CHECK(contains(explain.out, "rule 0 '-tpa' (line 1): matches, CHOSEN"));
}

TEST_CASE("compile: the manifest's launch.vllm, and what no flag can say, rule by rule") {
  auto m = manifest_of({"--config", "fixtures/models/llama3_8b.json", "--rules",
                        "fixtures/rules/good_pp_partition.yaml"});
  const auto& l = m["launch"]["vllm"];
  CHECK(l["runnable_on"] == "vllm-main");
  CHECK(l["env"]["VLLM_PP_LAYER_PARTITION"] == "17,15");
  CHECK(l["argv"][0] == "vllm");
  Result text = run({"compile", "--config", "fixtures/models/llama3_70b.json", "--rules",
                     "fixtures/rules/good_notes.yaml"});
  CHECK(text.code == 0);
  CHECK(contains(text.out, "vllm launch (no vLLM command expresses this plan):"));
  CHECK(contains(text.out,
                 "rule 0 (line 10): tp_size 8 on 4 layers (model.layers.0.mlp, …), the "
                 "command gives 16: vLLM runs every mlp layer at the global tp (16)"));
  Result tpa = run({"compile", "--config", "fixtures/models/llama3_8b.json", "--rules",
                    "fixtures/rules/good_llama8b_tpa.yaml", "--emit", "vllm-args"});
  CHECK(tpa.code == 0);
  CHECK(contains(tpa.out, "--tensor-parallel-size-attention 4"));
}

TEST_CASE("nodes: --gpus-per-node and vLLM's --nnodes list each node's ranks") {
  Result r = run({"compile", "--vllm-args", "vllm serve fixtures/models/llama3_70b.json -tp 16",
                  "--gpus-per-node", "8"});
  CHECK(r.code == 0);
  CHECK(contains(r.err, "warning: 1 of the 1 'tp' groups span nodes"));
  CHECK(contains(r.out, "  node 1: ranks 8-15\n"));
  auto m = manifest_of(
      {"--vllm-args", "vllm serve fixtures/models/llama3_70b.json -tp 8 -dp 2 -n 2 -r 1"});
  CHECK(m["nodes"]["ranks_per_node"] == 8);
  CHECK(m["nodes"]["nodes"][1]["ranks"][0] == 8);
  Result bad =
      run({"check", "--vllm-args", "vllm serve fixtures/models/llama3_70b.json -tp 8 --nnodes 3"});
  CHECK(bad.code == 1);
  CHECK(contains(bad.out,
                 "--vllm-args:1:59: error: --nnodes 3 must evenly divide the world size (8), as "
                 "vLLM requires [nodes-invalid]"));
}

}  // namespace
