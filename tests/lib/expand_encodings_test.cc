// Each layer encoding on small inline configs: period and offset, interval, sparse step,
// explicit lists over patterns, per-MLP width lists, block_configs, MTP patterns -- and the
// errors a config that does not fit its encoding gets.
#include "arch_test_util.h"
#include "catch.h"

namespace layerplan {
namespace {

using test::compile_text;
using test::count_kind;
using test::find_layer;
using test::fixture;
using test::has_code;

const std::string kNemotronH = R"({
  "architectures": ["NemotronHForCausalLM"], "model_type": "nemotron_h",
  "hidden_size": 1024, "num_hidden_layers": 6, "hybrid_override_pattern": "M-M*-E",
  "num_attention_heads": 8, "num_key_value_heads": 2, "head_dim": 128,
  "intermediate_size": [3072, 2048], "mamba_num_heads": 32, "mamba_head_dim": 64, "n_groups": 4,
  "ssm_state_size": 128, "n_routed_experts": 16, "num_experts_per_tok": 2,
  "moe_intermediate_size": 512, "n_shared_experts": 1, "moe_shared_expert_intermediate_size": 1024,
  "vocab_size": 32000)";

std::string nemotron_h(const std::string& extra = "") { return kNemotronH + extra + "}"; }

// `text` with the first `from` replaced by `to`.
std::string edit(std::string text, const std::string& from, const std::string& to) {
  std::size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

std::string decilm(const std::string& blocks) {
  return R"({"architectures": ["DeciLMForCausalLM"], "model_type": "nemotron-nas",
    "hidden_size": 8192, "num_attention_heads": 64, "num_key_value_heads": null,
    "intermediate_size": null, "vocab_size": 128256, "num_hidden_layers": 3,
    "block_configs": [)" +
         blocks + "]}";
}

}  // namespace

TEST_CASE("pattern: one mixer per Nemotron-H layer, MLP widths listed per MLP layer") {
  auto c = compile_text(nemotron_h(), "");
  REQUIRE(c->model.has_value());
  CHECK(count_kind(*c, LayerKind::kMamba) == 2);
  CHECK(count_kind(*c, LayerKind::kMlp) == 2);
  CHECK(count_kind(*c, LayerKind::kAttention) == 1);
  CHECK(count_kind(*c, LayerKind::kMoe) == 1);
  CHECK(find_layer(*c, "model.layers.0.mixer")->kind == LayerKind::kMamba);
  CHECK(find_layer(*c, "model.layers.0.mixer")->mamba_inner.value == 32 * 64);
  CHECK(find_layer(*c, "model.layers.1.mixer")->intermediate_size.value == 3072);
  CHECK(find_layer(*c, "model.layers.3.mixer")->flavor == Flavor::kGqa);
  CHECK(find_layer(*c, "model.layers.4.mixer")->intermediate_size.value == 2048);
  const Layer* moe = find_layer(*c, "model.layers.5.mixer");
  CHECK(moe->kind == LayerKind::kMoe);
  CHECK(moe->shared_intermediate_size.value == 1024);
}

TEST_CASE("list: layers_block_type overrides hybrid_override_pattern") {
  auto c = compile_text(
      nemotron_h(R"(, "layers_block_type": ["attention","mlp","mamba","mlp","mamba","moe"])"), "");
  REQUIRE(c->model.has_value());
  CHECK(find_layer(*c, "model.layers.0.mixer")->kind == LayerKind::kAttention);
  CHECK(find_layer(*c, "model.layers.2.mixer")->kind == LayerKind::kMamba);
}

TEST_CASE("MTP pattern: Nemotron-H MTP modules of sub-layers at mtp.layers.{j}") {
  auto c = compile_text(
      nemotron_h(R"(, "num_nextn_predict_layers": 1, "mtp_hybrid_override_pattern": "*E")"), "");
  REQUIRE(c->model.has_value());
  CHECK(c->model->num_mtp_layers == 2);
  const Layer* head = find_layer(*c, "mtp.layers.0");
  REQUIRE(head != nullptr);
  CHECK(head->kind == LayerKind::kMtp);
  CHECK(find_layer(*c, "mtp.layers.0.mixer")->kind == LayerKind::kAttention);
  CHECK(find_layer(*c, "mtp.layers.0.mixer")->index == 6);
  CHECK(find_layer(*c, "mtp.layers.1.mixer")->kind == LayerKind::kMoe);
  CHECK(find_layer(*c, "mtp.layers.1.mixer")->mtp);
}

TEST_CASE("a pattern that does not fit is refused, naming the key") {
  SECTION("wrong length") {
    auto c = compile_text(
        edit(nemotron_h(), "\"num_hidden_layers\": 6", "\"num_hidden_layers\": 7"), "");
    REQUIRE(has_code(*c, "config-invalid-field"));
    CHECK(test::find_code(*c, "config-invalid-field")
              ->message.find("6 characters but the model has 7") != std::string::npos);
  }
  SECTION("unknown character") {
    auto c = compile_text(edit(nemotron_h(), "M-M*-E", "M-M*-X"), "");
    REQUIRE(has_code(*c, "config-invalid-field"));
    CHECK(test::find_code(*c, "config-invalid-field")
              ->message.find("hybrid_override_pattern[5] is 'X'") != std::string::npos);
  }
  SECTION("a non-ASCII character is named whole, not byte by byte") {
    // U+04F4 is two bytes in UTF-8: the byte length would pass for 7 layers, and the old message
    // quoted a lone lead byte (invalid UTF-8) as the character of layer 4 (found by fuzz_config).
    auto c = compile_text(edit(edit(nemotron_h(), "M-M*-E", "M-M*\u04F4E"),
                               "\"num_hidden_layers\": 6", "\"num_hidden_layers\": 7"),
                          "");
    REQUIRE(test::codes(*c) == std::vector<std::string>{"config-invalid-field"});
    const std::string& message = test::find_code(*c, "config-invalid-field")->message;
    CHECK(message.find("holds the non-ASCII character '\xD3\xB4' at layer 4") != std::string::npos);
    CHECK(find_invalid_utf8(message) == std::string_view::npos);
  }
  SECTION("no pattern at all") {
    auto c = compile_text(edit(nemotron_h(), "\"hybrid_override_pattern\": \"M-M*-E\",", ""), "");
    CHECK(has_code(*c, "config-missing-field"));
    CHECK_FALSE(c->model.has_value());
  }
}

TEST_CASE("period and offset: Jamba attention every 8th layer from 4, MoE on odd layers") {
  auto c = compile_text(fixture("fixtures/models/jamba_v0_1.json"), "");
  REQUIRE(c->model.has_value());
  CHECK(find_layer(*c, "model.layers.4")->kind == LayerKind::kAttention);
  CHECK(find_layer(*c, "model.layers.12")->kind == LayerKind::kAttention);
  CHECK(find_layer(*c, "model.layers.0.mixer")->kind == LayerKind::kMamba);
  CHECK(find_layer(*c, "model.layers.0.mixer")->mamba_inner.value == 2 * 4096);
  CHECK(find_layer(*c, "model.layers.0.feed_forward")->kind == LayerKind::kMlp);
  CHECK(find_layer(*c, "model.layers.1.feed_forward")->kind == LayerKind::kMoe);
  CHECK(find_layer(*c, "model.layers.1.feed_forward")->num_experts.value == 16);

  auto e = compile_text(edit(fixture("fixtures/models/jamba_v0_1.json"), "\"attn_layer_offset\": 4",
                             "\"attn_layer_offset\": 8"),
                        "");
  REQUIRE(has_code(*e, "config-invalid-field"));
  CHECK(test::find_code(*e, "config-invalid-field")->message ==
        "attn_layer_offset (8) must be smaller than attn_layer_period (8)");
}

TEST_CASE("interval and sparse step: Qwen3-Next style layers") {
  std::string config = R"({"architectures": ["Qwen3NextForCausalLM"], "model_type": "qwen3_next",
    "hidden_size": 2048, "num_hidden_layers": 8, "full_attention_interval": 4,
    "num_attention_heads": 16, "num_key_value_heads": 2, "head_dim": 256,
    "linear_num_key_heads": 16, "linear_num_value_heads": 32, "linear_key_head_dim": 128,
    "linear_value_head_dim": 128, "num_experts": 64, "num_experts_per_tok": 4,
    "moe_intermediate_size": 512, "shared_expert_intermediate_size": 512,
    "intermediate_size": 5120, "decoder_sparse_step": 2, "mlp_only_layers": [3],
    "vocab_size": 151936})";
  auto c = compile_text(config, "");
  REQUIRE(c->model.has_value());
  CHECK(find_layer(*c, "model.layers.0.linear_attn")->kind == LayerKind::kLinearAttention);
  CHECK(find_layer(*c, "model.layers.3.self_attn")->flavor == Flavor::kGqa);
  CHECK(find_layer(*c, "model.layers.7.self_attn") != nullptr);
  // (i + 1) % 2 == 0 and i not in mlp_only_layers: 1, 5, 7 MoE; 3 is listed dense.
  CHECK(find_layer(*c, "model.layers.1.mlp")->kind == LayerKind::kMoe);
  CHECK(find_layer(*c, "model.layers.3.mlp")->kind == LayerKind::kMlp);
  CHECK(find_layer(*c, "model.layers.0.mlp")->kind == LayerKind::kMlp);
  CHECK(find_layer(*c, "model.layers.1.mlp")->shared_intermediate_size.value == 512);
  // One MTP layer by default (vLLM qwen3_next_mtp.py), full attention under mtp.layers.0.
  CHECK(c->model->num_mtp_layers == 1);
  CHECK(find_layer(*c, "mtp")->kind == LayerKind::kMtp);
  CHECK(find_layer(*c, "mtp.layers.0.self_attn")->kind == LayerKind::kAttention);
}

TEST_CASE("block_configs: no-op attention, per-layer KV heads and ffn_mult widths") {
  auto c = compile_text(
      decilm(R"({"attention": {"n_heads_in_group": 8, "no_op": false}, "ffn": {"ffn_mult": 5.25}},
                {"attention": {"n_heads_in_group": null, "no_op": true}, "ffn": {"ffn_mult": 1.0}},
                {"attention": {"n_heads_in_group": 16}, "ffn": {"no_op": true}})"),
      "");
  REQUIRE(c->model.has_value());
  CHECK(count_kind(*c, LayerKind::kAttention) == 2);  // the no-op layer has none, and no KV cache
  CHECK(find_layer(*c, "model.layers.1.self_attn") == nullptr);
  CHECK(find_layer(*c, "model.layers.0.self_attn")->num_kv_heads.value == 8);
  CHECK(find_layer(*c, "model.layers.2.self_attn")->num_kv_heads.value == 4);
  CHECK(find_layer(*c, "model.layers.0.mlp")->intermediate_size.value == 28672);
  CHECK(find_layer(*c, "model.layers.1.mlp")->intermediate_size.value == 5632);
  CHECK(find_layer(*c, "model.layers.2.mlp") == nullptr);
}

TEST_CASE("block_configs: replace_with_linear is refused with config-unsupported") {
  auto c =
      compile_text(decilm(R"({"attention": {"n_heads_in_group": 8}, "ffn": {"ffn_mult": 2.625}},
                {"attention": {"replace_with_linear": true}, "ffn": {"ffn_mult": 2.625}},
                {"attention": {"n_heads_in_group": 8}, "ffn": {"ffn_mult": 2.625}})"),
                   "");
  REQUIRE(has_code(*c, "config-unsupported"));
  CHECK(test::find_code(*c, "config-unsupported")->message.find("block_configs/1/attention") !=
        std::string::npos);
  CHECK_FALSE(c->model.has_value());
}

TEST_CASE("sliding windows: global, per layer, and none when as long as the context") {
  auto mistral = compile_text(R"({"architectures": ["MistralForCausalLM"], "hidden_size": 4096,
      "num_hidden_layers": 2, "num_attention_heads": 32, "num_key_value_heads": 8,
      "intermediate_size": 14336, "vocab_size": 32000, "sliding_window": 4096,
      "max_position_embeddings": 32768})",
                              "");
  REQUIRE(mistral->model.has_value());
  CHECK(find_layer(*mistral, "model.layers.1.self_attn")->flavor == Flavor::kSliding);
  auto qwen = compile_text(R"({"architectures": ["Qwen3ForCausalLM"], "hidden_size": 1024,
      "num_hidden_layers": 2, "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 128,
      "intermediate_size": 3072, "vocab_size": 151936, "sliding_window": 4096,
      "use_sliding_window": false, "max_position_embeddings": 40960})",
                           "");
  REQUIRE(qwen->model.has_value());
  CHECK(find_layer(*qwen, "model.layers.1.self_attn")->flavor == Flavor::kGqa);
}

TEST_CASE("dense-then-MoE with an explicit mlp_layer_types list (transformers v5)") {
  std::string config = fixture("fixtures/models/glm_4_7_flash.json");
  std::string list = "\"mlp_layer_types\": [\"dense\"";
  for (int i = 1; i < 47; ++i) list += i == 5 ? ",\"dense\"" : ",\"sparse\"";
  config.replace(config.find("\"hidden_size\""), 0, list + "],\n  ");
  auto c = compile_text(config, "");
  REQUIRE(c->model.has_value());
  CHECK(find_layer(*c, "model.layers.5.mlp")->kind == LayerKind::kMlp);
  CHECK(find_layer(*c, "model.layers.6.mlp")->kind == LayerKind::kMoe);
  // The MTP layer falls back to the compact rule: 47 >= first_k_dense_replace, MoE.
  CHECK(find_layer(*c, "model.layers.47.mlp")->kind == LayerKind::kMoe);
  CHECK(find_layer(*c, "model.layers.47.mlp")->mtp);
}

}  // namespace layerplan
