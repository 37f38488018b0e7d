// Layer expansion of the reference families and the config errors it reports.
#include <cstdio>
#include <fstream>

#include "arch_test_util.h"
#include "catch.h"

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

TEST_CASE(
    "DeepSeek-V3's MTP draft has its own embedding and a head per MTP layer "
    "(vllm/model_executor/models/deepseek_mtp.py::DeepSeekMultiTokenPredictor.__init__, "
    "SharedHead.__init__)") {
  auto c = compile_text(fixture("fixtures/models/deepseek_v3.json"), "");
  REQUIRE(c->model);
  const Model& m = *c->model;
  // prefix=maybe_prefix("model", "embed_tokens") and maybe_prefix("model.layers.61", "head").
  CHECK(count(m, LayerKind::kEmbedding, true) == 1);
  CHECK(count(m, LayerKind::kLmHead, true) == 1);
  CHECK(count(m, LayerKind::kEmbedding) == 1);
  CHECK(count(m, LayerKind::kLmHead) == 1);
  const Layer* embed = nullptr;
  const Layer* head = nullptr;
  for (const auto& l : m.layers) {
    if (l.mtp && l.kind == LayerKind::kEmbedding) embed = &l;
    if (l.mtp && l.kind == LayerKind::kLmHead) head = &l;
  }
  REQUIRE(embed != nullptr);
  REQUIRE(head != nullptr);
  CHECK(embed->prefix == "model.embed_tokens");
  CHECK(embed->index == 61);
  CHECK(embed->vocab_size.value == 129280);
  CHECK(head->prefix == "model.layers.61.head");
  CHECK(head->index == 61);
  CHECK_FALSE(head->tied);
  // Order: the draft's embedding, its eh_proj head, its block, its LM head, then the model's.
  CHECK(m.layers[m.layers.size() - 2].prefix == "model.layers.61.head");
  CHECK(m.layers.back().prefix == "lm_head");
  CHECK_FALSE(m.layers.back().mtp);
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
    "num_hidden_layers": 2, "vocab_size": 10, "intermediate_size": 8})",
                        "");
  CHECK_FALSE(c->model);
  const Diagnostic* d = test::find_code(*c, "config-missing-field");
  REQUIRE(d != nullptr);
  CHECK(d->message.find("num_attention_heads") != std::string::npos);
  CHECK(d->location.line == 1);
}

TEST_CASE("absurd numbers are refused before anything is allocated") {
  for (const char* bad :
       {"1000000000", "0", "-4", "NaN", "Infinity", "\"32\"", "[32]", "3.5", "true"}) {
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
  std::string decl =
      temp_file("fancy.yaml",
                "family: fancy\nverified: false\narchitectures: [FancyForCausalLM]\nffn: dense\n");
  CompileRequest request;
  request.config =
      make_source("config.json", R"({"architectures": ["FancyForCausalLM"], "hidden_size": 512,
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

// ---- Where vLLM's model code, not config.json, decides (issue 10 item 7) ----

const std::string kGptOss = R"({"architectures": ["GptOssForCausalLM"], "model_type": "gpt_oss",
  "hidden_size": 2880, "num_hidden_layers": 4, "num_attention_heads": 64,
  "num_key_value_heads": 8, "head_dim": 64, "sliding_window": 128,
  "max_position_embeddings": 131072, "intermediate_size": 2880, "num_local_experts": 32,
  "num_experts_per_tok": 4, "vocab_size": 201088)";

TEST_CASE(
    "gpt-oss slides on even layers whatever layer_types says "
    "(vllm/model_executor/models/gpt_oss.py::OAIAttention._build_attention)") {
  auto c = compile_text(kGptOss + "}", "");
  REQUIRE(c->model);
  CHECK(test::find_layer(*c, "model.layers.0.attn")->flavor == Flavor::kSliding);
  CHECK(test::find_layer(*c, "model.layers.0.attn")->sliding_window.value == 128);
  CHECK(test::find_layer(*c, "model.layers.1.attn")->flavor == Flavor::kGqa);
  CHECK_FALSE(test::has_code(*c, "config-ignored"));
  // vLLM's module names: GptOssModel.embedding, TransformerBlock.attn, MLPBlock at .mlp.
  CHECK(c->model->layers.front().prefix == "model.embedding");
  CHECK(test::find_layer(*c, "model.layers.3.mlp")->kind == LayerKind::kMoe);

  SECTION("a layer_types list that agrees is silent") {
    auto a = compile_text(kGptOss + R"(, "layer_types": ["sliding_attention", "full_attention",
      "sliding_attention", "full_attention"]})",
                          "");
    REQUIRE(a->model);
    CHECK_FALSE(test::has_code(*a, "config-ignored"));
  }
  SECTION("a layer_types list that disagrees is ignored, with a warning at it") {
    auto d = compile_text(kGptOss + R"(,
      "layer_types": ["full_attention", "full_attention", "full_attention", "full_attention"]})",
                          "");
    REQUIRE(d->model);
    CHECK(test::find_layer(*d, "model.layers.0.attn")->flavor == Flavor::kSliding);
    CHECK(test::find_layer(*d, "model.layers.2.attn")->flavor == Flavor::kSliding);
    const Diagnostic* w = test::find_code(*d, "config-ignored");
    REQUIRE(w != nullptr);
    CHECK(w->severity == Severity::kWarning);
    CHECK(w->location.line == 6);
    CHECK(w->message.find("layer_types") != std::string::npos);
    CHECK(w->message.find("2 of 4 layers") != std::string::npos);
    CHECK(w->message.find("layer 0: full_attention by layer_types, sliding_attention in vLLM") !=
          std::string::npos);
    REQUIRE(w->notes.size() == 1);
    CHECK(w->notes[0].message.find("gpt_oss.py::OAIAttention._build_attention") !=
          std::string::npos);
    CHECK_FALSE(d->diags.has_errors());
  }
}

const std::string kQwen3Next = R"({"architectures": ["Qwen3NextForCausalLM"],
  "model_type": "qwen3_next", "hidden_size": 2048, "num_hidden_layers": 8,
  "num_attention_heads": 16, "num_key_value_heads": 2, "head_dim": 256,
  "linear_num_key_heads": 16, "linear_num_value_heads": 32, "linear_key_head_dim": 128,
  "linear_value_head_dim": 128, "num_experts": 512, "num_experts_per_tok": 10,
  "moe_intermediate_size": 512, "shared_expert_intermediate_size": 512,
  "decoder_sparse_step": 1, "intermediate_size": 5120, "vocab_size": 151936)";

TEST_CASE(
    "Qwen3-Next: full attention every 4th layer, full_attention_interval unread "
    "(vllm/transformers_utils/configs/qwen3_next.py::Qwen3NextConfig.__init__)") {
  auto c = compile_text(kQwen3Next + R"(, "full_attention_interval": 4})", "");
  REQUIRE(c->model);
  CHECK(count(*c->model, LayerKind::kAttention) == 2);
  CHECK(count(*c->model, LayerKind::kLinearAttention) == 6);
  CHECK_FALSE(test::has_code(*c, "config-ignored"));

  auto two = compile_text(kQwen3Next + R"(, "full_attention_interval": 2})", "");
  REQUIRE(two->model);
  CHECK(count(*two->model, LayerKind::kAttention) == 2);  // layers 3 and 7, not 1, 3, 5, 7
  CHECK(test::find_layer(*two, "model.layers.3.self_attn") != nullptr);
  CHECK(test::find_layer(*two, "model.layers.1.linear_attn") != nullptr);
  const Diagnostic* w = test::find_code(*two, "config-ignored");
  REQUIRE(w != nullptr);
  CHECK(w->severity == Severity::kWarning);
  CHECK(w->message.find("full_attention_interval") != std::string::npos);
  CHECK(w->message.find("2 of 8 layers") != std::string::npos);

  SECTION("an explicit layer_types list is what vLLM builds from") {
    auto l = compile_text(kQwen3Next + R"(, "layer_types": ["full_attention", "linear_attention",
      "linear_attention", "linear_attention", "full_attention", "linear_attention",
      "linear_attention", "linear_attention"]})",
                          "");
    REQUIRE(l->model);
    CHECK(test::find_layer(*l, "model.layers.0.self_attn") != nullptr);
    CHECK(test::find_layer(*l, "model.layers.3.linear_attn") != nullptr);
    CHECK_FALSE(test::has_code(*l, "config-ignored"));
  }
  SECTION(
      "its MTP draft: mtp.embed_tokens and its own lm_head "
      "(vllm/model_executor/models/qwen3_next_mtp.py::Qwen3NextMTP.__init__)") {
    const Model& m = *c->model;
    CHECK(m.num_mtp_layers == 1);
    CHECK(count(m, LayerKind::kEmbedding, true) == 1);
    CHECK(count(m, LayerKind::kLmHead, true) == 1);
    CHECK(test::find_layer(*c, "mtp.embed_tokens")->mtp);
    CHECK(test::find_layer(*c, "mtp.layers.0.self_attn")->mtp);
  }
}

TEST_CASE(
    "Jamba: MoE only where layers_num_experts[i] > 1 "
    "(vllm/model_executor/models/jamba.py::JambaMambaDecoderLayer.__init__)") {
  std::string jamba = fixture("fixtures/models/jamba_v0_1.json");
  auto c = compile_text(jamba, "");
  REQUIRE(c->model);
  CHECK(count(*c->model, LayerKind::kMoe) == 16);
  std::string key = "\"num_experts\": 16";
  REQUIRE(jamba.find(key) != std::string::npos);
  auto one = compile_text(jamba.replace(jamba.find(key), key.size(), "\"num_experts\": 1"), "");
  REQUIRE(one->model);
  CHECK(count(*one->model, LayerKind::kMoe) == 0);
  CHECK(count(*one->model, LayerKind::kMlp) == 32);
  CHECK(test::find_layer(*one, "model.layers.1.feed_forward")->kind == LayerKind::kMlp);
}

const std::string kGlm45 = R"({"architectures": ["Glm4MoeForCausalLM"], "model_type": "glm4_moe",
  "hidden_size": 5120, "num_hidden_layers": 8, "num_attention_heads": 96,
  "num_key_value_heads": 8, "head_dim": 128, "intermediate_size": 12288,
  "moe_intermediate_size": 1536, "n_routed_experts": 160, "n_shared_experts": 1,
  "num_experts_per_tok": 8, "first_k_dense_replace": 3, "num_nextn_predict_layers": 1,
  "vocab_size": 151552)";

TEST_CASE(
    "GLM-4.5: MoE iff layer >= first_k_dense_replace, moe_layer_freq unread "
    "(vllm/model_executor/models/glm4_moe.py::Glm4MoeDecoderLayer.__init__)") {
  auto c = compile_text(kGlm45 + "}", "");
  REQUIRE(c->model);
  CHECK(count(*c->model, LayerKind::kMlp) == 3);
  CHECK(count(*c->model, LayerKind::kMoe) == 5);
  CHECK_FALSE(test::has_code(*c, "config-ignored"));
  // The MTP draft (glm4_moe_mtp.py::Glm4MoeMultiTokenPredictor.__init__): layer 8, MoE, its
  // own embedding and SharedHead's head at model.layers.8.head.
  CHECK(count(*c->model, LayerKind::kMoe, true) == 1);
  CHECK(test::find_layer(*c, "model.layers.8.head")->kind == LayerKind::kLmHead);

  auto freq = compile_text(kGlm45 + R"(, "moe_layer_freq": 2})", "");
  REQUIRE(freq->model);
  CHECK(count(*freq->model, LayerKind::kMoe) == 5);  // not 3, 5, 7 only
  CHECK(test::find_layer(*freq, "model.layers.3.mlp")->kind == LayerKind::kMoe);
  const Diagnostic* w = test::find_code(*freq, "config-ignored");
  REQUIRE(w != nullptr);
  CHECK(w->message.find("moe_layer_freq") != std::string::npos);
  CHECK(w->message.find("layer 3: mlp by moe_layer_freq, moe in vLLM") != std::string::npos);
}

TEST_CASE(
    "kv_lora_rank makes MLA only for a model_type on vLLM's list "
    "(vllm/transformers_utils/model_arch_config_convertor.py::"
    "ModelArchConfigConvertorBase.is_deepseek_mla, vllm/config/model.py::ModelConfig.use_mla)") {
  std::string config = fixture("fixtures/models/deepseek_v3.json");
  std::string key = "\"model_type\": \"deepseek_v3\"";
  REQUIRE(config.find(key) != std::string::npos);
  config.replace(config.find(key), key.size(), "\"model_type\": \"my_deepseek\"");
  auto c = compile_text(config, "");
  REQUIRE(c->model);
  // deepseek_v2.py::DeepseekV2DecoderLayer.__init__ then builds DeepseekV2Attention: one KV head
  // per query head, qk_nope_head_dim + qk_rope_head_dim wide.
  const Layer* attn = test::find_layer(*c, "model.layers.0.self_attn");
  CHECK(attn->flavor == Flavor::kMha);
  CHECK(attn->num_kv_heads.value == 128);
  CHECK(attn->head_dim.value == 192);
  CHECK(attn->v_head_dim.value == 128);
  CHECK_FALSE(attn->kv_lora_rank);
  const Diagnostic* w = test::find_code(*c, "mla-not-enabled");
  REQUIRE(w != nullptr);
  CHECK(w->severity == Severity::kWarning);
  CHECK(w->message.find("'my_deepseek'") != std::string::npos);
  CHECK(w->location.line > 0);

  auto on_list = compile_text(fixture("fixtures/models/deepseek_v3.json"), "");
  CHECK_FALSE(test::has_code(*on_list, "mla-not-enabled"));
}

// ---- Prefixes are vLLM's prefix= strings (issue 10 item 8) ----

TEST_CASE(
    "MiniMax-M2's MoE is model.layers.{i}.mlp, attn_type_list is unread "
    "(vllm/model_executor/models/minimax_m2.py::MiniMaxM2DecoderLayer.__init__)") {
  std::string m2 = R"({"architectures": ["MiniMaxM2ForCausalLM"], "model_type": "minimax_m2",
    "hidden_size": 3072, "num_hidden_layers": 2, "num_attention_heads": 48,
    "num_key_value_heads": 8, "head_dim": 128, "intermediate_size": 1536,
    "num_local_experts": 256, "num_experts_per_tok": 8, "vocab_size": 200064)";
  auto c = compile_text(m2 + R"(, "attn_type_list": [1, 1]})", "");
  REQUIRE(c->model);
  CHECK(test::find_layer(*c, "model.layers.0.self_attn")->kind == LayerKind::kAttention);
  CHECK(test::find_layer(*c, "model.layers.0.mlp")->kind == LayerKind::kMoe);
  CHECK(test::find_layer(*c, "model.layers.0.block_sparse_moe") == nullptr);
  CHECK_FALSE(test::has_code(*c, "config-ignored"));
  CHECK(c->model->verified_by == std::vector<std::string>{"#48456"});
  CHECK(c->model->tp_limited_by_experts);

  auto lightning = compile_text(m2 + R"(, "attn_type_list": [0, 1]})", "");
  REQUIRE(lightning->model);
  CHECK(test::find_layer(*lightning, "model.layers.0.self_attn")->kind == LayerKind::kAttention);
  CHECK(test::has_code(*lightning, "config-ignored"));
}

TEST_CASE(
    "Nemotron-H's MTP draft has mtp.embed_tokens and lm_head "
    "(vllm/model_executor/models/nemotron_h_mtp.py::NemotronHMTP.__init__)") {
  auto c = compile_text(fixture("fixtures/models/nemotron_h_8b.json"), "");
  REQUIRE(c->model);
  CHECK(count(*c->model, LayerKind::kEmbedding, true) == 0);  // no MTP in Nemotron-H-8B
  std::string config = fixture("fixtures/models/nemotron_h_8b.json");
  config.replace(config.find('{'), 1,
                 R"({"num_nextn_predict_layers": 1, "mtp_hybrid_override_pattern": "*E",
    "n_routed_experts": 8, "num_experts_per_tok": 2, "moe_intermediate_size": 512, )");
  auto mtp = compile_text(config, "");
  for (const auto& d : mtp->diags.all()) INFO(d.code << ": " << d.message);
  REQUIRE(mtp->model);
  CHECK(mtp->model->num_mtp_layers == 2);
  CHECK(test::find_layer(*mtp, "mtp.embed_tokens")->kind == LayerKind::kEmbedding);
  CHECK(test::find_layer(*mtp, "mtp.layers.0.mixer")->kind == LayerKind::kAttention);
  CHECK(test::find_layer(*mtp, "mtp.layers.1.mixer")->kind == LayerKind::kMoe);
  CHECK(count(*mtp->model, LayerKind::kLmHead, true) == 1);
}

}  // namespace
}  // namespace layerplan
