// Layer expansion of the reference families and the config errors it reports.
#include <cstdio>
#include <fstream>

#include "catch.h"
#include "test_util.h"

namespace layerplan {
namespace {

using test::compile_text;
using test::fixture;

int count(const Model& m, LayerKind kind, bool mtp = false) {
  int n = 0;
  for (const auto& l : m.layers) n += (l.kind == kind && l.mtp == mtp) ? 1 : 0;
  return n;
}

TEST_CASE("Llama-3.1-8B expands to 32 GQA attention and 32 MLP layers") {
  auto c = compile_text(fixture("fixtures/models/llama3_8b.json"), "");
  REQUIRE(c->model);
  const Model& m = *c->model;
  CHECK(m.layers.size() == 66);
  CHECK(count(m, LayerKind::kAttention) == 32);
  CHECK(count(m, LayerKind::kMlp) == 32);
  CHECK(m.layers.front().prefix == "model.embed_tokens");
  CHECK(m.layers[1].prefix == "model.layers.0.self_attn");
  CHECK(m.layers[1].flavor == Flavor::kGqa);
  CHECK(m.layers[1].num_kv_heads.value == 8);
  CHECK(m.layers[1].head_dim.value == 128);
  CHECK(m.layers[2].prefix == "model.layers.0.mlp");
  CHECK(m.layers.back().prefix == "lm_head");
}

TEST_CASE("DeepSeek-V3 expands to MLA, 3 dense, 58 MoE and one MTP layer") {
  auto c = compile_text(fixture("fixtures/models/deepseek_v3.json"), "");
  REQUIRE(c->model);
  const Model& m = *c->model;
  CHECK(count(m, LayerKind::kAttention) == 61);
  CHECK(count(m, LayerKind::kMlp) == 3);
  CHECK(count(m, LayerKind::kMoe) == 58);
  CHECK(count(m, LayerKind::kMtp, true) == 1);
  CHECK(count(m, LayerKind::kAttention, true) == 1);
  CHECK(count(m, LayerKind::kMoe, true) == 1);
  const Layer* mtp = nullptr;
  for (const auto& l : m.layers) {
    if (l.kind == LayerKind::kMtp) mtp = &l;
  }
  REQUIRE(mtp != nullptr);
  CHECK(mtp->prefix == "model.layers.61");
  CHECK(m.layers[1].flavor == Flavor::kMla);
  CHECK(m.layers[1].num_kv_heads.value == 1);
  CHECK(m.layers[1].head_dim.value == 192);
  CHECK(m.layers[8].prefix == "model.layers.3.mlp");
  CHECK(m.layers[8].kind == LayerKind::kMoe);
  CHECK(m.layers[8].shared_intermediate_size.value == 2048);
}

TEST_CASE("multimodal wrappers are read through text_config") {
  std::string config = R"({"architectures": ["LlamaForCausalLM"], "text_config": {
    "model_type": "llama", "hidden_size": 1024, "intermediate_size": 4096,
    "num_attention_heads": 8, "num_key_value_heads": 2, "num_hidden_layers": 2, "vocab_size": 1000}})";
  auto c = compile_text(config, "");
  REQUIRE(c->model);
  CHECK(c->model->num_hidden_layers == 2);
  CHECK(c->model->layers[1].num_heads.location.line == 3);
}

TEST_CASE("a missing field is reported at the object that should hold it") {
  auto c = compile_text(R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 64,
    "num_hidden_layers": 2, "vocab_size": 10, "intermediate_size": 8})", "");
  CHECK_FALSE(c->model);
  const Diagnostic* d = test::find_code(*c, "config-missing-field");
  REQUIRE(d != nullptr);
  CHECK(d->message.find("num_attention_heads") != std::string::npos);
  CHECK(d->location.line == 1);
}

TEST_CASE("absurd numbers are refused before anything is allocated") {
  for (const char* bad : {"1000000000", "0", "-4", "NaN", "Infinity", "\"32\"", "[32]", "3.5", "true"}) {
    std::string config = std::string(R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 64,
      "num_attention_heads": 8, "vocab_size": 10, "intermediate_size": 8, "num_hidden_layers": )") +
                         bad + "}";
    auto c = compile_text(config, "");
    INFO(bad);
    CHECK_FALSE(c->model);
    CHECK(test::has_code(*c, "config-invalid-field"));
  }
}

TEST_CASE("an unknown architecture lists the known ones and points at --arch-file") {
  auto c = compile_text(R"({"architectures": ["FancyNewForCausalLM"], "model_type": "fancy"})", "");
  const Diagnostic* d = test::find_code(*c, "arch-unknown");
  REQUIRE(d != nullptr);
  bool lists = false, points = false;
  for (const auto& n : d->notes) {
    lists |= n.message.find("LlamaForCausalLM") != std::string::npos;
    points |= n.message.find("--arch-file") != std::string::npos;
  }
  CHECK(lists);
  CHECK(points);
}

std::string temp_file(const std::string& name, const std::string& text) {
  std::string path = "/tmp/layerplan_test_" + name;
  std::ofstream(path) << text;
  return path;
}

TEST_CASE("a user declaration adds a family; an unverified one refuses deviating plans") {
  std::string decl = temp_file("fancy.yaml",
                               "family: fancy\nverified: false\narchitectures: [FancyForCausalLM]\nffn: dense\n");
  CompileRequest request;
  request.config = make_source("config.json", R"({"architectures": ["FancyForCausalLM"], "hidden_size": 512,
    "num_attention_heads": 8, "num_key_value_heads": 8, "num_hidden_layers": 2, "vocab_size": 1024,
    "intermediate_size": 2048})");
  request.rules = make_source("rules.yaml",
                              "parallelism_rules:\n  axes: {tp: 4}\n  rules:\n"
                              "    - match: {kind: mlp}\n      plan: {tp_size: 2}\n");
  request.arch_files.push_back(decl);
  auto c = compile(request);
  REQUIRE(c->model);
  CHECK(c->model->family == "fancy");
  const Diagnostic* d = test::find_code(*c, "arch-unverified");
  REQUIRE(d != nullptr);
  CHECK(d->severity == Severity::kError);
  CHECK(d->location.line == 5);

  request.checks.allow_unverified = true;
  auto relaxed = compile(request);
  REQUIRE(test::find_code(*relaxed, "arch-unverified") != nullptr);
  CHECK(test::find_code(*relaxed, "arch-unverified")->severity == Severity::kWarning);

  // Restating the global plan passes on any architecture.
  request.checks.allow_unverified = false;
  request.rules = make_source("rules.yaml",
                              "parallelism_rules:\n  axes: {tp: 4}\n  rules:\n"
                              "    - match: {kind: mlp}\n      plan: {tp_size: tp}\n");
  auto same = compile(request);
  CHECK_FALSE(same->diags.has_errors());
  std::remove(decl.c_str());
}

TEST_CASE("a malformed declaration file is reported at its line") {
  std::string decl = temp_file("broken.yaml", "family: broken\nverified: maybe\nffn: sparse\n");
  CompileRequest request;
  request.config = make_source("config.json", fixture("fixtures/models/llama3_8b.json"));
  request.arch_files.push_back(decl);
  auto c = compile(request);
  int found = 0;
  for (const auto& d : c->diags.all()) {
    if (d.code == "arch-declaration") ++found;
  }
  CHECK(found == 3);  // verified, ffn, and no architectures
  std::remove(decl.c_str());
}

}  // namespace
}  // namespace layerplan
