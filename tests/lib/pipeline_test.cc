// lib/pipeline.h's compile(): the whole pipeline from in-memory inputs, a rules file or a vLLM
// launch line as the plan.
#include "lib/pipeline.h"

#include <string>

#include "catch.h"
#include "test_util.h"

namespace layerplan {
namespace {

using test::fixture;
using test::groups_string;
using test::has_code;

CompileRequest pipeline_request_for_llama() {
  CompileRequest request;
  request.config_path = "llama3_8b.json";
  request.config = make_source("llama3_8b.json", fixture("fixtures/models/llama3_8b.json"));
  return request;
}

TEST_CASE("compile: a good plan gives a model, a layout and no errors") {
  CompileRequest request = pipeline_request_for_llama();
  request.rules_path = "rules.yaml";
  request.rules =
      make_source("rules.yaml", "parallelism_rules:\n  axes: {tp: 2, pp: 2}\n  rules: []\n");
  auto c = compile(request);
  REQUIRE(c);
  CHECK(c->diags.count(Severity::kError) == 0);
  CHECK_FALSE(c->failed(false));
  CHECK_FALSE(c->input_unreadable());
  REQUIRE(c->model.has_value());
  CHECK(c->model->architecture == "LlamaForCausalLM");
  CHECK(c->engine != nullptr);
  CHECK(c->axes.world_size == 4);
  REQUIRE(c->layout.has_value());
  // vLLM's order: tp innermost, then pp.
  CHECK(groups_string(*c, "tp") == "[0,1] [2,3]");
  CHECK(groups_string(*c, "pp") == "[0,2] [1,3]");
  CHECK(c->memory.has_value());
  CHECK_FALSE(c->plans.empty());
}

TEST_CASE("compile: a bad rules file gives errors and no layout") {
  CompileRequest request = pipeline_request_for_llama();
  request.rules_path = "rules.yaml";
  request.rules =
      make_source("rules.yaml", "parallelism_rules:\n  axes: {tp: 8, attn_tp: 3}\n  rules: []\n");
  auto c = compile(request);
  REQUIRE(c);
  CHECK(has_code(*c, "attn-tp-divides-tp"));
  CHECK(c->failed(false));
  CHECK_FALSE(c->layout.has_value());
  CHECK_FALSE(c->memory.has_value());
  CHECK(c->model.has_value());  // the model itself was fine
}

TEST_CASE("compile: a rules file that is not YAML gives yaml-syntax and no layout") {
  CompileRequest request = pipeline_request_for_llama();
  request.rules_path = "rules.yaml";
  request.rules = make_source("rules.yaml", "parallelism_rules: [\n");
  auto c = compile(request);
  REQUIRE(c);
  CHECK(has_code(*c, "yaml-syntax"));
  CHECK(c->failed(false));
  CHECK_FALSE(c->layout.has_value());
}

TEST_CASE("compile: a vLLM launch line works as the plan source") {
  CompileRequest request = pipeline_request_for_llama();
  request.vllm_args =
      "vllm serve meta-llama/Llama-3.1-8B --tensor-parallel-size 2 --pipeline-parallel-size 2";
  auto c = compile(request);
  REQUIRE(c);
  CHECK(c->diags.count(Severity::kError) == 0);
  REQUIRE(c->launch.has_value());
  CHECK(c->launch->model == "meta-llama/Llama-3.1-8B");
  CHECK(c->model_arg == "meta-llama/Llama-3.1-8B");
  CHECK(c->axes.world_size == 4);
  REQUIRE(c->layout.has_value());
  CHECK(groups_string(*c, "tp") == "[0,1] [2,3]");
}

TEST_CASE("compile: a launch line that cannot be parsed gives errors and no layout") {
  CompileRequest request = pipeline_request_for_llama();
  request.vllm_args = "vllm serve m --tensor-parallel-size two";
  auto c = compile(request);
  REQUIRE(c);
  CHECK(c->failed(false));
  CHECK_FALSE(c->layout.has_value());
}

TEST_CASE("compile: a model that cannot be found is an unreadable input") {
  CompileRequest request;
  request.config_path = "/nonexistent/layerplan/config.json";
  request.rules_path = "rules.yaml";
  request.rules = make_source("rules.yaml", "parallelism_rules:\n  axes: {tp: 2}\n  rules: []\n");
  auto c = compile(request);
  REQUIRE(c);
  CHECK(c->failed(false));
  CHECK(c->input_unreadable());
  CHECK_FALSE(c->model.has_value());
  CHECK_FALSE(c->layout.has_value());
}

}  // namespace
}  // namespace layerplan
