// Checks of the hybrid and sparse kinds (Mamba, linear attention, indexer, shared experts), the
// whitelist gate on known-but-unverified families, and the verdicts of RFC #42659's examples.
#include <optional>
#include <regex>

#include "arch_test_util.h"
#include "catch.h"
#include "lib/engine/vllm_layers.h"

namespace layerplan {
namespace {

using test::compile_text;
using test::fixture;
using test::has_code;

std::vector<std::string> codes_of(const Compilation& c, Severity severity) {
  std::vector<std::string> out;
  for (const auto& d : c.diags.all()) {
    if (d.severity == severity) out.push_back(d.code);
  }
  return out;
}

// Compiles fixtures/rules/NAME against the model its "# model: FILE" line names, with
// --allow-unverified when its "# flags:" line says so (or `allow_unverified` is forced).
std::unique_ptr<Compilation> compile_rules_fixture(const std::string& name,
                                                   std::optional<bool> allow_unverified = {}) {
  std::string rules = fixture("fixtures/rules/" + name);
  std::smatch m;
  REQUIRE(std::regex_search(rules, m, std::regex("# model: (\\S+)")));
  CheckOptions options;
  options.allow_unverified =
      allow_unverified.value_or(rules.find("# flags: allow-unverified") != std::string::npos);
  return compile_text(fixture("fixtures/models/" + m[1].str()), rules, options);
}

std::string rules(const std::string& axes, const std::string& body) {
  return "parallelism_rules:\n  axes: {" + axes + "}\n  rules:\n" + body;
}

const std::string kQwenNext = R"({"architectures": ["Qwen3NextForCausalLM"],
  "hidden_size": 2048, "num_hidden_layers": 4, "full_attention_interval": 4,
  "num_attention_heads": 16, "num_key_value_heads": 2, "head_dim": 256,
  "linear_num_key_heads": 16, "linear_num_value_heads": 32, "num_experts": 64,
  "num_experts_per_tok": 4, "moe_intermediate_size": 512, "intermediate_size": 5120,
  "vocab_size": 151936})";

const std::string kNemotronH = R"({"architectures": ["NemotronHForCausalLM"],
  "hidden_size": 1024, "num_hidden_layers": 4, "hybrid_override_pattern": "M*EM",
  "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128,
  "mamba_num_heads": 48, "mamba_head_dim": 64, "n_groups": 1, "n_routed_experts": 64,
  "num_experts_per_tok": 2, "moe_intermediate_size": 512, "n_shared_experts": 1,
  "moe_shared_expert_intermediate_size": 1000, "vocab_size": 131072})";

}  // namespace

TEST_CASE("RFC §3.1 on Llama-3.1-70B checks clean") {
  auto c = compile_rules_fixture("good_rfc_llama.yaml");
  CHECK(codes_of(*c, Severity::kError).empty());
  CHECK(codes_of(*c, Severity::kWarning).empty());
  CHECK(c->layout.has_value());
}

TEST_CASE(
    "RFC §3.2 on Nemotron-H at tp 8: refused by the whitelist, clean with --allow-unverified") {
  // Neither #42674 nor #48456 migrates Nemotron-H: the attention rule is refused as vLLM would.
  auto strict = compile_rules_fixture("good_rfc_nemotron_h.yaml", false);
  CHECK(codes_of(*strict, Severity::kError) == std::vector<std::string>{"arch-unverified"});
  auto c = compile_rules_fixture("good_rfc_nemotron_h.yaml");
  CHECK(codes_of(*c, Severity::kError).empty());
  CHECK(codes_of(*c, Severity::kWarning) == std::vector<std::string>{"arch-unverified"});
  REQUIRE(c->layout.has_value());
  auto per_rank = layer_per_rank(*c->find_layer("model.layers.0.mixer"), c->axes);
  CHECK(per_rank.mamba_heads == 16);
  CHECK(per_rank.n_groups == 1);
  CHECK(per_rank.inner_size == 1024);
}

TEST_CASE("RFC §3.2 verbatim (tp 16) is refused: Nemotron-H's n_groups 8 does not divide 16") {
  auto c = compile_rules_fixture("bad_rfc_nemotron_h_tp16.yaml");
  CHECK(codes_of(*c, Severity::kError) ==
        std::vector<std::string>{"mamba-groups-divisibility", "arch-unverified"});
  const Diagnostic* d = test::find_code(*c, "mamba-groups-divisibility");
  CHECK(d->subjects.size() == 24);  // every Mamba layer, reported once
  CHECK(d->location.line == 8);     // the tp axis the Mamba rule names
  bool suggests = false;
  for (const auto& n : d->notes)
    suggests |= n.message == "valid Mamba tp_size values with tp 16: 1, 2, 4, 8";
  CHECK(suggests);
}

TEST_CASE("RFC §3.3 on DeepSeek-V3.2 checks clean apart from notes on what vLLM cannot express") {
  auto c = compile_rules_fixture("good_rfc_deepseek_v32.yaml");
  CHECK(codes_of(*c, Severity::kError).empty());
  CHECK(codes_of(*c, Severity::kWarning).empty());
  // 129,280 rows are a multiple of 64: vLLM pads nothing (8,080 rows per rank at tp 16).
  CHECK(codes_of(*c, Severity::kNote) == std::vector<std::string>{"ep-not-expressible"});
  REQUIRE(c->layout.has_value());
  auto indexer = layer_per_rank(*c->find_layer("model.layers.0.self_attn.indexer"), c->axes);
  CHECK(indexer.index_heads == 64);
  CHECK(indexer.replicas == 16);
  auto moe = layer_per_rank(*c->find_layer("model.layers.3.mlp"), c->axes);
  CHECK(moe.experts_min == 32);
  CHECK(moe.expert_tp == 2);
  // The MTP layer carries an indexer too.
  CHECK(c->find_layer("model.layers.61.self_attn.indexer") != nullptr);
}

TEST_CASE("RFC §3.4's mtp_* pattern warns and names DeepSeek's real MTP prefixes") {
  auto c = compile_rules_fixture("good_rfc_mtp.yaml");
  CHECK(codes_of(*c, Severity::kError).empty());
  CHECK(codes_of(*c, Severity::kWarning) == std::vector<std::string>{"rule-matches-nothing"});
  const Diagnostic* d = test::find_code(*c, "rule-matches-nothing");
  bool names = false;
  for (const auto& n : d->notes) names |= n.message.find("model.layers.61") != std::string::npos;
  CHECK(names);
}

TEST_CASE("the indexer: replicated by the global plan, an error when a rule shards it") {
  auto global =
      compile_text(fixture("fixtures/models/deepseek_v32.json"), rules("tp: 8", "    []\n"));
  CHECK_FALSE(global->diags.has_errors());
  CHECK(global->find_layer("model.layers.5.self_attn.indexer")->plan.tp_size.value == 1);

  auto sharded =
      compile_text(fixture("fixtures/models/deepseek_v32.json"),
                   rules("tp: 8", "    - match: {kind: indexer}\n      plan: {tp_size: tp}\n"));
  REQUIRE(has_code(*sharded, "indexer-sharded"));
  CHECK(test::find_code(*sharded, "indexer-sharded")->subjects.size() == 62);
}

TEST_CASE("Mamba-2 heads and groups against the layer's TP (vLLM MambaMixer2)") {
  SECTION("heads") {
    auto c = compile_text(kNemotronH, rules("tp: 32", "    []\n"));
    REQUIRE(has_code(*c, "mamba-tp-divides-heads"));
    CHECK_FALSE(has_code(*c, "mamba-groups-divisibility"));  // n_groups 1 is replicated
  }
  SECTION("one group is replicated: per rank n_groups 1") {
    auto c = compile_text(kNemotronH,
                          rules("tp: 8", "    - match: {kind: moe}\n      plan: {tp_size: 1}\n"));
    CHECK_FALSE(has_code(*c, "mamba-tp-divides-heads"));
    auto per_rank = layer_per_rank(*c->find_layer("model.layers.0.mixer"), c->axes);
    CHECK(per_rank.mamba_heads == 6);
    CHECK(per_rank.n_groups == 1);
  }
}

TEST_CASE("the shared experts' width against the MoE layer's TP") {
  auto c = compile_text(kNemotronH, rules("tp: 16", "    []\n"));
  REQUIRE(has_code(*c, "moe-shared-tp-divides-intermediate"));
  CHECK(test::find_code(*c, "moe-shared-tp-divides-intermediate")->subjects ==
        std::vector<std::string>{"model.layers.2.mixer"});
}

TEST_CASE("Mamba-1 inner width against the layer's TP (Jamba, vLLM MambaMixer)") {
  auto c = compile_text(fixture("fixtures/models/jamba_v0_1.json"),
                        rules("tp: 6", "    - match: {kind: mamba}\n      plan: {tp_size: 3}\n"));
  REQUIRE(has_code(*c, "mamba-tp-divides-inner"));
  CHECK(test::find_code(*c, "mamba-tp-divides-inner")
            ->message.find("mamba_expand * hidden_size (8192)") != std::string::npos);
}

TEST_CASE("linear attention key and value heads against the layer's TP (Qwen3-Next)") {
  auto ok = compile_text(kQwenNext, rules("tp: 2", "    []\n"));
  CHECK_FALSE(ok->diags.has_errors());
  auto bad = compile_text(kQwenNext, rules("tp: 32",
                                           "    - match: {kind: linear_attention}\n"
                                           "      plan: {tp_size: tp}\n"));
  REQUIRE(has_code(*bad, "linear-attn-tp-divides-heads"));
  CHECK(test::find_code(*bad, "linear-attn-tp-divides-heads")
            ->message.find("linear_num_key_heads (16)") != std::string::npos);
}

TEST_CASE("DCP on a Mamba layer, which keeps no KV cache, is an error") {
  auto c = compile_text(fixture("fixtures/models/nemotron_h_8b.json"),
                        rules("tp: 8, dcp: 2",
                              "    - match: {kind: mamba}\n"
                              "      plan: {tp_size: tp, dcp_size: dcp}\n"));
  CHECK(has_code(*c, "dcp-on-non-attention"));
}

TEST_CASE("whitelist gate: unverified families run at global TP, per-layer plans are refused") {
  std::string mixtral = R"({"architectures": ["MixtralForCausalLM"], "hidden_size": 4096,
    "num_hidden_layers": 4, "num_attention_heads": 32, "num_key_value_heads": 8,
    "intermediate_size": 14336, "num_local_experts": 8, "num_experts_per_tok": 2,
    "vocab_size": 32000})";
  auto global = compile_text(
      mixtral, rules("tp: 8", "    - match: {kind: moe}\n      plan: {tp_size: tp}\n"));
  CHECK_FALSE(global->diags.has_errors());
  CHECK(global->find_layer("model.layers.0.block_sparse_moe") != nullptr);
  auto narrow = compile_text(mixtral, rules("tp: 8, attn_tp: 4, dcp: 2",
                                            "    - match: {kind: attention}\n"
                                            "      plan: {tp_size: attn_tp, dcp_size: dcp}\n"));
  REQUIRE(has_code(*narrow, "arch-unverified"));
  CHECK(test::find_code(*narrow, "arch-unverified")->message.find("MixtralForCausalLM (mixtral)") !=
        std::string::npos);
  auto allowed = compile_text(mixtral,
                              rules("tp: 8, attn_tp: 4, dcp: 2",
                                    "    - match: {kind: attention}\n"
                                    "      plan: {tp_size: attn_tp, dcp_size: dcp}\n"),
                              CheckOptions{true});
  CHECK_FALSE(allowed->diags.has_errors());
}

TEST_CASE("the expanded table as JSON carries the new kinds' shapes") {
  auto c = compile_text(fixture("fixtures/models/nemotron_h_8b.json"), "");
  REQUIRE(c->model.has_value());
  auto j = layers_json(*c->model);
  CHECK(j["family"] == "nemotron_h");
  CHECK(j["layers"][1]["prefix"] == "model.layers.0.mixer");
  CHECK(j["layers"][1]["kind"] == "mamba");
  CHECK(j["layers"][1]["shape"]["mamba_heads"] == 128);
  CHECK(j["layers"][1]["shape"]["n_groups"] == 8);
  auto v32 = compile_text(fixture("fixtures/models/deepseek_v32.json"), "");
  auto k = layers_json(*v32->model);
  CHECK(k["layers"][2]["kind"] == "indexer");
  CHECK(k["layers"][2]["shape"]["index_topk"] == 2048);
}

}  // namespace layerplan
