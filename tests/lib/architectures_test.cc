// Architecture declarations: the built-in families, user declarations (--arch-file), the
// declaration format's errors, and each layer encoding on small inline configs.
#include <algorithm>

#include "arch_test_util.h"
#include "catch.h"

namespace layerplan {

// Generated from schemas/architectures/*.yaml (lib/embed_architectures.cmake).
const std::vector<std::pair<std::string, std::string>>& builtin_architecture_files();

namespace {

using test::compile_text;
using test::compile_with_arch;
using test::count_kind;
using test::find_layer;
using test::fixture;
using test::has_code;

std::vector<std::string> decl_errors(const std::string& yaml) {
  ArchRegistry registry;
  Diagnostics diags;
  CHECK_FALSE(registry.add_source(make_source("arch.yaml", yaml), diags));
  std::vector<std::string> messages;
  for (const auto& d : diags.all()) messages.push_back(d.code + ": " + d.message);
  return messages;
}

bool any_contains(const std::vector<std::string>& messages, const std::string& text) {
  for (const auto& m : messages) {
    if (m.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("every built-in declaration parses") {
  for (const auto& [name, text] : builtin_architecture_files()) {
    INFO(name);
    Diagnostics diags;
    auto decls = parse_arch_decls(make_source("builtin:" + name, text), diags);
    for (const auto& d : diags.all()) INFO(d.message);
    CHECK(decls.has_value());
    CHECK(diags.all().empty());
  }
}

TEST_CASE("the whitelist: classes migrated by #42674 or #48456, each naming its PRs") {
  // #42674 verifies the Llama family, #48456 migrates vLLM's LlamaForCausalLM (the
  // SupportsHeteroLayerParallelism marker, inherited by subclasses) and MiniMax-M2. Subclasses of
  // LlamaForCausalLM at vLLM f067737b: mistral.py::MistralForCausalLM, phi3.py::Phi3ForCausalLM,
  // glm.py::GlmForCausalLM, telechat2.py::TeleChat2ForCausalLM; registry.py maps
  // LLaMAForCausalLM to LlamaForCausalLM.
  auto verified = ArchRegistry::builtin().verified_architectures();
  CHECK(verified == std::vector<std::string>{
                        "GlmForCausalLM (#42674, #48456)", "LLaMAForCausalLM (#42674, #48456)",
                        "LlamaForCausalLM (#42674, #48456)", "MiniMaxM2ForCausalLM (#48456)",
                        "MistralForCausalLM (#42674, #48456)", "Phi3ForCausalLM (#42674, #48456)",
                        "TeleChat2ForCausalLM (#42674, #48456)"});
  // On the RFC roadmap but migrated by neither PR, or not a LlamaForCausalLM subclass in vLLM
  // (glm4.py::Glm4ForCausalLM and nemotron_nas.py::DeciLMForCausalLM derive from nn.Module;
  // TelechatForCausalLM is not in vLLM's registry): known, unverified.
  ArchRegistry builtin = ArchRegistry::builtin();
  for (const char* arch :
       {"DeciLMForCausalLM", "Glm4ForCausalLM", "TelechatForCausalLM", "DeepseekV2ForCausalLM",
        "DeepseekV3ForCausalLM", "DeepseekV32ForCausalLM", "Glm4MoeLiteForCausalLM",
        "MistralLarge3ForCausalLM", "NemotronHForCausalLM", "MixtralForCausalLM",
        "PhiMoEForCausalLM", "Qwen3ForCausalLM", "Qwen3MoeForCausalLM", "Qwen3NextForCausalLM",
        "GptOssForCausalLM", "JambaForCausalLM", "Glm4MoeForCausalLM", "GlmMoeDsaForCausalLM"}) {
    INFO(arch);
    const ArchDecl* decl = builtin.find(arch, "");
    REQUIRE(decl != nullptr);
    CHECK(decl->verified_prs(arch).empty());
  }
  CHECK(builtin.find("LlamaForCausalLM", "")->verified_prs("LlamaForCausalLM") ==
        std::vector<std::string>{"#42674", "#48456"});
}

TEST_CASE("a model is verified per architecture class, not per family") {
  auto llama = compile_text(fixture("fixtures/models/llama3_8b.json"), "");
  REQUIRE(llama->model.has_value());
  CHECK(llama->model->verified);
  CHECK(llama->model->verified_by == std::vector<std::string>{"#42674", "#48456"});
  // Glm4ForCausalLM shares the llama declaration but not the whitelist.
  std::string glm4 = fixture("fixtures/models/llama3_8b.json");
  glm4.replace(glm4.find("LlamaForCausalLM"), 16, "Glm4ForCausalLM");
  auto g = compile_text(glm4, "");
  REQUIRE(g->model.has_value());
  CHECK(g->model->family == "llama");
  CHECK_FALSE(g->model->verified);
  CHECK(g->model->verified_by.empty());
  auto deepseek = compile_text(fixture("fixtures/models/deepseek_v3.json"), "");
  REQUIRE(deepseek->model.has_value());
  CHECK_FALSE(deepseek->model->verified);
}

TEST_CASE("the verified key: true, false, or {architecture: [PR, ...]}") {
  ArchRegistry registry;
  Diagnostics diags;
  REQUIRE(registry.add_source(make_source("mine.yaml",
                                          "- family: a\n  verified: true\n  architectures: [A]\n"
                                          "- family: b\n  verified: {B1: [\"#1\", \"#2\"]}\n"
                                          "  architectures: [B1, B2]\n"),
                              diags));
  CHECK(registry.verified_architectures() ==
        std::vector<std::string>{"A (unattributed)", "B1 (#1, #2)"});
  CHECK(any_contains(decl_errors("family: x\narchitectures: [X]\nverified: {Y: [\"#1\"]}\n"),
                     "'verified' names Y, which is not in 'architectures'"));
  CHECK(any_contains(decl_errors("family: x\narchitectures: [X]\nverified: {X: []}\n"),
                     "must name the PRs that verify it"));
  CHECK(any_contains(decl_errors("family: x\narchitectures: [X]\nverified: [X]\n"),
                     "'verified' must be true, false or a mapping"));
}

TEST_CASE("family facts are declaration keys other checks read from Model") {
  // tp_limited_by_experts: vLLM raises ValueError("Tensor parallel size {tp} is greater than
  // the number of experts {n}.") in qwen3_moe.py::Qwen3MoeSparseMoeBlock.__init__,
  // qwen3_next.py::Qwen3NextSparseMoeBlock.__init__ and minimax_m2.py::MiniMaxM2MoE.__init__.
  // mlp_divides_world: gpt_oss.py::MLPBlock.__init__ asserts
  // intermediate_size % dist.get_world_size() == 0 (tp * pp * pcp * dp).
  ArchRegistry builtin = ArchRegistry::builtin();
  for (const char* arch : {"Qwen3MoeForCausalLM", "Qwen3NextForCausalLM", "MiniMaxM2ForCausalLM"}) {
    INFO(arch);
    CHECK(builtin.find(arch, "")->tp_limited_by_experts);
    CHECK_FALSE(builtin.find(arch, "")->mlp_divides_world);
  }
  CHECK(builtin.find("GptOssForCausalLM", "")->mlp_divides_world);
  CHECK_FALSE(builtin.find("GptOssForCausalLM", "")->tp_limited_by_experts);
  for (const char* arch : {"LlamaForCausalLM", "DeepseekV3ForCausalLM", "MixtralForCausalLM",
                           "Qwen3ForCausalLM", "Glm4MoeForCausalLM", "JambaForCausalLM"}) {
    INFO(arch);
    CHECK_FALSE(builtin.find(arch, "")->tp_limited_by_experts);
    CHECK_FALSE(builtin.find(arch, "")->mlp_divides_world);
  }
  CHECK(any_contains(decl_errors("family: x\narchitectures: [X]\ntp_limited_by_experts: maybe\n"),
                     "'tp_limited_by_experts' must be true or false"));
  CHECK(any_contains(decl_errors("family: x\narchitectures: [X]\nmoe_min_experts: -1\n"),
                     "non-negative integer"));
  CHECK(any_contains(decl_errors("family: x\narchitectures: [X]\nignored: [{slot: mixer}]\n"),
                     "needs 'slot', 'source' and 'why'"));
}

TEST_CASE("an unknown architecture is refused with the known ones and a pointer to --arch-file") {
  auto c = compile_text(fixture("fixtures/models/gemma2_9b.json"), "");
  REQUIRE(has_code(*c, "arch-unknown"));
  const Diagnostic* d = test::find_code(*c, "arch-unknown");
  CHECK(d->message.find("Gemma2ForCausalLM") != std::string::npos);
  REQUIRE(d->notes.size() == 2);
  CHECK(d->notes[0].message.find("NemotronHForCausalLM") != std::string::npos);
  CHECK(d->notes[1].message.find("--arch-file") != std::string::npos);
}

TEST_CASE("a user declaration (--arch-file) adds a family that uses a known encoding") {
  std::string arch = std::string(LAYERPLAN_SOURCE_DIR) + "/fixtures/architectures/gemma2.yaml";
  auto c = compile_with_arch(fixture("fixtures/models/gemma2_9b.json"), "", {arch});
  REQUIRE(c->model.has_value());
  CHECK(c->model->family == "gemma2");
  CHECK_FALSE(c->model->verified);
  CHECK(count_kind(*c, LayerKind::kAttention) == 42);
  CHECK(count_kind(*c, LayerKind::kMlp) == 42);
  // interval 2: layers 0, 2, ... slide; 1, 3, ... are full attention.
  CHECK(find_layer(*c, "model.layers.0.self_attn")->flavor == Flavor::kSliding);
  CHECK(find_layer(*c, "model.layers.0.self_attn")->sliding_window.value == 4096);
  CHECK(find_layer(*c, "model.layers.1.self_attn")->flavor == Flavor::kGqa);

  SECTION("an explicit layer_types list overrides the interval") {
    std::string config = fixture("fixtures/models/gemma2_9b.json");
    std::string types = "\"layer_types\": [";
    for (int i = 0; i < 42; ++i) types += std::string(i ? "," : "") + "\"full_attention\"";
    config.replace(config.find("\"hidden_size\""), 0, types + "],\n  ");
    auto e = compile_with_arch(config, "", {arch});
    REQUIRE(e->model.has_value());
    CHECK(find_layer(*e, "model.layers.0.self_attn")->flavor == Flavor::kGqa);
  }
  SECTION("per-layer rules on it are refused by the whitelist gate") {
    auto r = compile_with_arch(fixture("fixtures/models/gemma2_9b.json"),
                               "parallelism_rules:\n  axes: {tp: 8, attn_tp: 4, dcp: 2}\n  rules:\n"
                               "    - match: {kind: attention}\n"
                               "      plan: {tp_size: attn_tp, dcp_size: dcp}\n",
                               {arch});
    CHECK(has_code(*r, "arch-unverified"));
  }
}

TEST_CASE("a user declaration takes precedence over a built-in one") {
  auto c = compile_with_arch(fixture("fixtures/models/llama3_8b.json"), "", {});
  REQUIRE(c->model.has_value());
  CHECK(c->model->verified);
  ArchRegistry registry = ArchRegistry::builtin();
  Diagnostics diags;
  REQUIRE(registry.add_source(make_source("mine.yaml",
                                          "family: my_llama\nverified: false\n"
                                          "architectures: [LlamaForCausalLM]\n"
                                          "prefixes: {layer: \"decoder.{i}\"}\n"),
                              diags));
  const ArchDecl* decl = registry.find("LlamaForCausalLM", "llama");
  REQUIRE(decl != nullptr);
  CHECK(decl->family == "my_llama");
  auto verified = registry.verified_architectures();
  CHECK(std::find(verified.begin(), verified.end(), "LlamaForCausalLM") == verified.end());
  auto config =
      parse_hf_config(make_source("config.json", fixture("fixtures/models/llama3_8b.json")), diags);
  REQUIRE(config.has_value());
  auto model = expand_model(*config, registry, diags);
  REQUIRE(model.has_value());
  CHECK(model->layers[1].prefix == "decoder.0.self_attn");
}

TEST_CASE("malformed declarations are reported with arch-declaration") {
  CHECK(any_contains(decl_errors("architectures: [X]\n"), "needs 'family'"));
  CHECK(any_contains(decl_errors("family: x\n"), "needs 'architectures' or 'model_types'"));
  CHECK(any_contains(decl_errors("family: x\narchitectures: [X]\nmixer: moe\n"),
                     "a uniform value of a mixer source must be one of"));
  CHECK(any_contains(decl_errors("family: x\narchitectures: [X]\nffn: [{encoding: spiral}]\n"),
                     "unknown encoding 'spiral'"));
  CHECK(any_contains(
      decl_errors("family: x\narchitectures: [X]\nmixer: [{encoding: pattern, field: p}]\n"),
      "needs 'values'"));
  CHECK(any_contains(decl_errors("family: x\narchitectures: [X]\n"
                                 "mixer: [{encoding: pattern, field: p, values: {MM: mamba}}]\n"),
                     "single characters"));
  CHECK(any_contains(decl_errors("family: x\narchitectures: [X]\nmixer: dense_then_moe\n"),
                     "cannot be a mixer source"));
  CHECK(any_contains(decl_errors("family: x\narchitectures: [X]\nmtp: {layer: \"m.{j}\"}\n"),
                     "'mtp' needs 'count'"));
  CHECK(any_contains(decl_errors("family: x\narchitectures: [X]\nmamba: mamba3\n"),
                     "mamba1 or mamba2"));
  CHECK(any_contains(decl_errors("family: x\narchitectures: [X]\nverified: maybe\n"),
                     "true or false"));
  CHECK(any_contains(decl_errors("family: x\narchitectures: [X]\nmixer: first_k_dense\n"),
                     "cannot be a mixer source"));
}

TEST_CASE("the earlier declaration shorthands still read") {
  ArchRegistry registry;
  Diagnostics diags;
  REQUIRE(registry.add_source(
      make_source("old.yaml",
                  "family: old_deepseek\nverified: true\n"
                  "architectures: [DeepseekV3ForCausalLM]\n"
                  "prefixes: {ffn: \"model.layers.{i}.ffn\", mtp: \"model.layers.{i}\"}\n"
                  "ffn: dense_then_moe\nmtp_count: num_nextn_predict_layers\n"),
      diags));
  auto config = parse_hf_config(
      make_source("config.json", fixture("fixtures/models/deepseek_v3.json")), diags);
  REQUIRE(config.has_value());
  auto model = expand_model(*config, registry, diags);
  REQUIRE(model.has_value());
  CHECK(model->num_mtp_layers == 1);
  CHECK(model->layers[2].prefix == "model.layers.0.ffn");
  CHECK(model->layers[2].kind == LayerKind::kMlp);
  CHECK(model->layers[8].kind == LayerKind::kMoe);  // layer 3: embedding + 3 * 2 + attention
}

TEST_CASE("weights: which weights vLLM builds, fixed or read from a config field") {
  ArchRegistry registry;
  Diagnostics diags;
  REQUIRE(registry.add_source(make_source("mine.yaml",
                                          "family: x\narchitectures: [X]\nweights:\n"
                                          "  o_bias: false\n"
                                          "  qk_norm: {field: use_qk_norm, default: true}\n"
                                          "  score_bias: {field: topk_method, equals: noaux_tc}\n"
                                          "  sinks: true\n"),
                              diags));
  const WeightFacts& w = registry.find("X", "")->weights;
  CHECK_FALSE(w.o_bias.value);
  CHECK(w.o_bias.field.empty());  // the given form replaces the default {field: attention_bias}
  CHECK(w.qk_norm.field == "use_qk_norm");
  CHECK(w.score_bias.equals == "noaux_tc");
  // Keys left out keep WeightFacts' defaults (llama.py's).
  CHECK(w.gated_mlp.value);
  CHECK(w.gated_mlp.field.empty());
  CHECK_FALSE(w.router_bias.value);
  CHECK(WeightFacts{}.o_bias.field == "attention_bias");

  auto config = [&](const std::string& body) {
    auto c = parse_hf_config(make_source("config.json", "{\"architectures\": [\"X\"]" + body + "}"),
                             diags);
    REQUIRE(c.has_value());
    return *c;
  };
  HfConfig bare = config("");
  CHECK(weight_fact_holds(w.qk_norm, bare));  // absent: the default
  CHECK_FALSE(weight_fact_holds(w.qk_norm, config(", \"use_qk_norm\": false")));
  CHECK(weight_fact_holds(w.qk_norm, config(", \"use_qk_norm\": \"no\"")));  // mistyped: default
  CHECK_FALSE(weight_fact_holds(w.score_bias, bare));
  CHECK(weight_fact_holds(w.score_bias, config(", \"topk_method\": \"noaux_tc\"")));
  CHECK_FALSE(weight_fact_holds(w.score_bias, config(", \"topk_method\": \"greedy\"")));
  CHECK(weight_fact_holds(w.sinks, config(", \"sinks\": false")));  // fixed: no field read
  CHECK_FALSE(weight_fact_holds(WeightFacts{}.o_bias, bare));
  CHECK(weight_fact_holds(WeightFacts{}.o_bias, config(", \"attention_bias\": true")));
  CHECK_FALSE(diags.has_errors());
}

TEST_CASE("weights: unknown keys and malformed values are reported at their position") {
  auto first_error = [](const std::string& yaml) {
    ArchRegistry registry;
    Diagnostics diags;
    CHECK_FALSE(registry.add_source(make_source("arch.yaml", yaml), diags));
    REQUIRE(diags.has_errors());
    return diags.all().front();
  };
  const std::string head = "family: x\narchitectures: [X]\nweights:\n";
  Diagnostic d = first_error(head + "  sinks: true\n  qk_norms: true\n");
  CHECK(d.code == "unknown-key");
  CHECK(d.message == "unknown key 'qk_norms' in weights; did you mean 'qk_norm'?");
  CHECK(d.location.to_string() == "arch.yaml:5:3");
  d = first_error(head + "  qk_norm: {field: use_qk_norm, defualt: true}\n");
  CHECK(d.code == "unknown-key");
  CHECK(d.message == "unknown key 'defualt' in weights.qk_norm; did you mean 'default'?");
  CHECK(d.location.to_string() == "arch.yaml:4:33");

  CHECK(any_contains(decl_errors(head + "  - sinks\n"), "'weights' must be a mapping"));
  CHECK(any_contains(decl_errors(head + "  sinks: maybe\n"), "'sinks' must be true or false"));
  CHECK(any_contains(decl_errors(head + "  qk_norm: [use_qk_norm]\n"),
                     "'qk_norm' must be true, false or {field: <config key>"));
  CHECK(any_contains(decl_errors(head + "  qk_norm: {default: true}\n"),
                     "weights.qk_norm needs 'field'"));
  CHECK(any_contains(decl_errors(head + "  qk_norm: {field: use_qk_norm, default: yes}\n"),
                     "'default' must be true or false"));
  CHECK(any_contains(decl_errors(head + "  qk_norm: {field: \"\"}\n"),
                     "'field' of weights.qk_norm must not be empty"));
  CHECK(any_contains(decl_errors(head + "  score_bias: {field: topk_method, equals: [noaux_tc]}\n"),
                     "'equals' must be a string"));
}

TEST_CASE("a malformed --arch-file is reported at its position") {
  std::string path =
      std::string(LAYERPLAN_SOURCE_DIR) + "/fixtures/architectures/bad_unknown_encoding.yaml";
  auto c = test::compile_with_arch(fixture("fixtures/models/llama3_8b.json"), "", {path});
  REQUIRE(has_code(*c, "arch-declaration"));
  const Diagnostic* d = test::find_code(*c, "arch-declaration");
  CHECK(d->location.line == 5);
  CHECK(d->message.find("unknown encoding 'every_other'") != std::string::npos);
  CHECK(c->diags.has_errors());
}

TEST_CASE("prefix placeholders") {
  CHECK(format_prefix("{layer}.mixer", "model.layers.3", 3, 0) == "model.layers.3.mixer");
  CHECK(format_prefix("mtp.layers.{j}", "", 89, 1) == "mtp.layers.1");
  CHECK(expand_prefix("model.layers.{i}.mlp", 7) == "model.layers.7.mlp");
}

}  // namespace layerplan
