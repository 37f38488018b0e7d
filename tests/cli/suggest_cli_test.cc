// End-to-end: `compile --gpu-memory` and `layerplan suggest` as a user runs them.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "catch.h"
#include "run_binary.h"

namespace {

using layerplan::test::contains;
using layerplan::test::in_scratch;
using layerplan::test::Result;
using layerplan::test::run_shell;
using layerplan::test::slurp;

const std::string kLlama8 = "--config fixtures/models/llama3_8b.json";
const std::string kDeepSeek = "--config fixtures/models/deepseek_v3.json";

TEST_CASE("compile: a weights/rank column, per-stage totals, and the fit with --gpu-memory") {
  Result r = run_shell("compile " + kLlama8 +
                       " --rules fixtures/rules/good_llama8b_tpa.yaml --gpu-memory 80GiB");
  CHECK(r.code == 0);
  CHECK(contains(r.out, "weights/rank (kv B/tok)"));
  CHECK(contains(r.out, "stage 0: weights "));
  CHECK(contains(r.out, "parameters 8030261248"));
  CHECK(contains(r.out, "KV-cache tokens per replica"));
  Result j = run_shell("compile " + kLlama8 +
                       " --rules fixtures/rules/good_llama8b_tpa.yaml --gpu-memory 80GiB -o -");
  REQUIRE(j.code == 0);
  auto m = nlohmann::json::parse(j.out);
  CHECK(m["memory"]["fit"]["fits"] == true);
  CHECK(m["memory"]["params_total"] == 8030261248LL);
  CHECK(m["layers"][1]["memory"]["kv_token_share"] == 2);
}

TEST_CASE("compile: a malformed --gpu-memory is a usage error, and nothing is written") {
  std::string out = in_scratch("bad_gpu_memory.json");
  std::filesystem::remove(out);
  Result r = run_shell("compile " + kLlama8 +
                       " --rules fixtures/rules/good_llama8b_tpa.yaml --gpu-memory 80XB -o " + out);
  CHECK(r.code == 2);
  CHECK(contains(r.err, "--gpu-memory"));
  CHECK_FALSE(std::filesystem::exists(out));
  Result util = run_shell("compile " + kLlama8 +
                          " --rules fixtures/rules/good_llama8b_tpa.yaml --gpu-memory 80GiB "
                          "--gpu-memory-utilization 1.5");
  CHECK(util.code == 2);
}

TEST_CASE("suggest: a ranked table, JSON, --write-rules and --emit vllm-args") {
  Result t = run_shell("suggest " + kLlama8 + " --gpus 8 --gpu-memory 80GiB --top 3");
  CHECK(t.code == 0);
  CHECK(contains(t.out, "kv tokens/replica"));
  CHECK(contains(t.out, "layouts of 8 GPUs enumerated"));
  Result j = run_shell("suggest " + kLlama8 + " --gpus 8 --gpu-memory 80GiB --emit json");
  REQUIRE(j.code == 0);
  auto s = nlohmann::json::parse(j.out);
  REQUIRE(s["suggestions"].size() > 1);
  CHECK(s["valid"].get<int>() >= static_cast<int>(s["suggestions"].size()));
  std::string rules = in_scratch("suggested_rules.yaml");
  Result w = run_shell("suggest " + kLlama8 + " --gpus 8 --gpu-memory 80GiB --write-rules " +
                       rules + " --emit vllm-args");
  CHECK(w.code == 0);
  CHECK(contains(w.out, "vllm serve "));
  CHECK(contains(w.out, "--tensor-parallel-size"));
  // The emitted launch line checks clean when fed back (the round trip of issue 11).
  std::string line = w.out.substr(0, w.out.find('\n'));
  Result line_back = layerplan::test::run({"check", "--vllm-args", line});
  INFO(line);
  CHECK(line_back.code == 0);
  // The written file is the best suggestion's, and it checks clean.
  CHECK(slurp(rules) == s["suggestions"][0]["rules"].get<std::string>());
  Result back = run_shell("check " + kLlama8 + " --rules " + rules);
  CHECK(back.code == 0);
}

TEST_CASE("suggest: nothing fits is exit 1 with a reason; bad flags are exit 2") {
  Result none = run_shell("suggest " + kDeepSeek + " --gpus 2 --gpu-memory 80GiB");
  CHECK(none.code == 1);
  CHECK(contains(none.err, "fits in --gpu-memory"));
  CHECK(run_shell("suggest " + kLlama8 + " --gpus 0").code == 2);
  CHECK(run_shell("suggest " + kLlama8 + " --gpus 8 --emit yaml").code == 2);
  CHECK(run_shell("suggest " + kLlama8 + " --gpus 8 --pick 1000").code == 2);
  CHECK(run_shell("suggest --config fixtures/models/missing.json --gpus 8").code == 2);
}

}  // namespace
