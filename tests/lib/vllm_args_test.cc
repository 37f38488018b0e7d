// vLLM's launch line read into a RulesFile (lib/engine/vllm_args.cc): every spelling vLLM's
// argument parser accepts (engine/arg_utils.py::EngineArgs.add_cli_args,
// utils/argparse_utils.py::FlexibleArgumentParser.parse_args at f067737b), the columns
// diagnostics point at, and the values vLLM refuses.
#include "lib/engine/vllm_args.h"

#include <string>

#include "catch.h"
#include "lib/engine/vllm_layout.h"
#include "test_util.h"

namespace layerplan {
namespace {

struct Parsed {
  Diagnostics diags;
  std::optional<VllmLaunch> launch;
};

Parsed parse(const std::string& text) {
  Parsed p;
  p.launch = parse_vllm_args(make_source("--vllm-args", text), p.diags);
  return p;
}

std::int64_t axis(const Parsed& p, const char* name) {
  REQUIRE(p.launch);
  const Axis* a = p.launch->rules.find_axis(name);
  return a == nullptr ? 0 : a->value;
}

const Diagnostic* first(const Parsed& p, const std::string& code) {
  for (const auto& d : p.diags.all()) {
    if (d.code == code) return &d;
  }
  return nullptr;
}

TEST_CASE("arg_utils.py::EngineArgs.add_cli_args: every spelling of a parallel flag") {
  for (const char* line : {"-tp 8", "--tensor-parallel-size 8", "--tensor-parallel-size=8",
                           "--tensor_parallel_size 8", "-tp=8", "vllm serve m -tp 4 -tp 8"}) {
    INFO(line);
    Parsed p = parse(line);
    CHECK(axis(p, "tp") == 8);
  }
  Parsed p = parse("-pp 2 -dp 3 -dcp 4 -pcp 2 -tpa 2 -tp 8");
  CHECK(axis(p, "pp") == 2);
  CHECK(axis(p, "dp") == 3);
  CHECK(axis(p, "dcp") == 4);
  CHECK(axis(p, "pcp") == 2);
  CHECK(axis(p, "attn_tp") == 2);
  Parsed longs = parse(
      "--pipeline-parallel-size 2 --data-parallel-size 3 "
      "--decode-context-parallel-size 4 --prefill-context-parallel-size 2 "
      "--tensor-parallel-size-attention 2");
  CHECK(axis(longs, "pp") == 2);
  CHECK(axis(longs, "dp") == 3);
  CHECK(axis(longs, "dcp") == 4);
  CHECK(axis(longs, "pcp") == 2);
  CHECK(axis(longs, "attn_tp") == 2);
}

TEST_CASE("--enable-expert-parallel / -ep: EP = dp * pcp * tp (FusedMoEParallelConfig.make)") {
  CHECK(axis(parse("-tp 4 -dp 2 -ep"), "ep") == 8);
  CHECK(axis(parse("--enable-expert-parallel -tp 4"), "ep") == 4);
  CHECK(axis(parse("-ep -tp 4 --no-enable-expert-parallel"), "ep") == 0);  // BooleanOptionalAction
  Parsed bad = parse("--enable-expert-parallel=1");
  CHECK_FALSE(bad.launch);
  CHECK(first(bad, "invalid-value") != nullptr);
}

TEST_CASE("vllm serve MODEL: the model, from the positional or from --model") {
  Parsed p = parse("vllm serve deepseek-ai/DeepSeek-V3 -tp 8 --max-model-len 4096");
  REQUIRE(p.launch);
  CHECK(p.launch->model == "deepseek-ai/DeepSeek-V3");
  CHECK(p.launch->model_location.column == 12);
  Parsed flag = parse("vllm serve -tp 2 --model=/models/llama");
  REQUIRE(flag.launch);
  CHECK(flag.launch->model == "/models/llama");
  Parsed quoted = parse("vllm serve '/my models/llama' -tp 2");
  REQUIRE(quoted.launch);
  CHECK(quoted.launch->model == "/my models/llama");
  CHECK_FALSE(parse("vllm bench m -tp 2").launch);
}

TEST_CASE("flags that shape no rank group are listed once, in one note") {
  Parsed p = parse(
      "vllm serve m -tp 2 --max-model-len 4096 --enforce-eager --port 8000 "
      "--data-parallel-backend mp");
  REQUIRE(p.launch);
  const Diagnostic* note = first(p, "vllm-args-ignored");
  REQUIRE(note != nullptr);
  CHECK(note->severity == Severity::kNote);
  CHECK(note->message.find("--max-model-len, --enforce-eager, --port, --data-parallel-backend") !=
        std::string::npos);
  CHECK(axis(p, "tp") == 2);
}

TEST_CASE("a flag that looks like a parallel flag but is not one: did you mean, at its column") {
  Parsed p = parse("vllm serve m --tensor-paralel-size 8 -tpp 2 --expert-parallel-size 4");
  CHECK_FALSE(p.launch);
  std::vector<const Diagnostic*> found;
  for (const auto& d : p.diags.all()) {
    if (d.code == "unknown-parallel-flag") found.push_back(&d);
  }
  REQUIRE(found.size() == 3);
  CHECK(found[0]->location.column == 14);
  CHECK(found[0]->message.find("did you mean '--tensor-parallel-size'?") != std::string::npos);
  CHECK(found[1]->message.find("did you mean '-tp'") != std::string::npos);
  CHECK(found[2]->message.find("'--expert-parallel-size' is not a vLLM parallel flag") !=
        std::string::npos);
}

TEST_CASE("values vLLM's ParallelConfig rejects are errors at the value's column") {
  Parsed dcp0 = parse("vllm serve m -tp 8 -dcp 0");
  CHECK_FALSE(dcp0.launch);
  const Diagnostic* d = first(dcp0, "invalid-value");
  REQUIRE(d != nullptr);
  CHECK(d->location.column == 25);
  CHECK(d->message.find("divide by zero") != std::string::npos);
  CHECK(first(parse("-tp eight"), "invalid-value") != nullptr);
  CHECK(first(parse("-tp"), "invalid-value") != nullptr);
  CHECK(first(parse("-pp -1"), "invalid-value") != nullptr);
  CHECK(first(parse("vllm serve 'unterminated -tp 2"), "vllm-args-syntax") != nullptr);
}

TEST_CASE("VLLM_PP_LAYER_PARTITION as a leading assignment (utils.py::get_pp_indices)") {
  Parsed p = parse("VLLM_PP_LAYER_PARTITION=17,15 vllm serve m -pp 2");
  REQUIRE(p.launch);
  REQUIRE(p.launch->rules.partition);
  CHECK(p.launch->rules.partition->sizes == std::vector<std::int64_t>{17, 15});
  CHECK(p.launch->rules.partition->location.column == 25);
  Parsed bad = parse("VLLM_PP_LAYER_PARTITION=17,x vllm serve m -pp 2");
  const Diagnostic* d = first(bad, "invalid-value");
  REQUIRE(d != nullptr);
  CHECK(d->location.column == 28);
  // The split itself: the partition when it fits, vLLM's own split otherwise.
  auto stages = pipeline_stages(32, 2, {17, 15});
  CHECK(stages[0].last_layer == 16);
  CHECK(pipeline_stages(32, 2, {17, 16, 1})[0].last_layer == 15);
}

TEST_CASE("-tpa makes every attention layer run at the attention TP (PR #36287)") {
  std::string llama = test::fixture("fixtures/models/llama3_8b.json");
  CompileRequest request;
  request.config = make_source("llama.json", llama);
  request.vllm_args = "-tp 8 -tpa 4 -dcp 2";
  auto c = compile(request);
  REQUIRE(c->layout);
  CHECK(test::layer_at(*c, "model.layers.0.self_attn").plan.tp_size.value == 4);
  CHECK(test::layer_at(*c, "model.layers.0.mlp").plan.tp_size.value == 8);
  LaunchCommand cmd = c->launch_command();
  CHECK(cmd.runnable_on == "rfc-prs");
  CHECK(cmd.prs == std::vector<std::string>{"#36287"});
}

TEST_CASE("nodes: consecutive ranks a node (MultiprocExecutor), groups that span nodes warn") {
  std::string llama = test::fixture("fixtures/models/llama3_8b.json");
  auto run = [&](const std::string& args, std::optional<std::int64_t> gpus) {
    CompileRequest request;
    request.config = make_source("llama.json", llama);
    request.vllm_args = args;
    request.nodes.gpus_per_node = gpus;
    return compile(request);
  };
  auto two = run("-tp 4 -dp 2 --nnodes 2", std::nullopt);
  REQUIRE(two->nodes);
  CHECK(two->nodes->ranks_per_node == 4);
  CHECK(two->nodes->nodes[1] == std::vector<std::int64_t>{4, 5, 6, 7});
  CHECK_FALSE(test::has_code(*two, "group-spans-nodes"));
  auto dpl = run("-tp 2 -dp 4 -dpl 2", std::nullopt);
  REQUIRE(dpl->nodes);
  CHECK(dpl->nodes->ranks_per_node == 4);
  auto spans = run("-tp 8", 4);
  REQUIRE(spans->nodes);
  const Diagnostic* w = test::find_code(*spans, "group-spans-nodes");
  REQUIRE(w != nullptr);
  CHECK(w->message.find("'tp' groups span nodes: [0, 1, 2, 3, 4, 5, 6, 7] runs on nodes 0, 1") !=
        std::string::npos);
  CHECK(w->location.column == 5);  // the value of -tp
  auto bad = run("-dp 3 --nnodes 2 --node-rank 2", std::nullopt);
  CHECK_FALSE(bad->nodes);
  int invalid = 0;
  for (const auto& d : bad->diags.all()) invalid += d.code == "nodes-invalid" ? 1 : 0;
  CHECK(invalid == 2);  // 3 ranks do not split over 2 nodes, and node ranks are 0 and 1
}

}  // namespace
}  // namespace layerplan
