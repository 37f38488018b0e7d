// The vLLM engine model (lib/engine/): what it says about itself, its parallel-config rules and
// what its model code refuses. Each case names the vLLM function (at f067737b) it pins;
// docs/vllm-fidelity.md lists them all.
#include <string>

#include "catch.h"
#include "lib/engine/vllm.h"
#include "test_util.h"

namespace layerplan {
namespace {

using test::compile_text;
using test::find_code;
using test::has_code;

std::string llama_like(int vocab, int heads = 32, int kv = 8) {  // Llama-3.1-8B by default
  return "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", "
         "\"hidden_size\": 4096, \"intermediate_size\": 14336, \"num_attention_heads\": " +
         std::to_string(heads) + ", \"num_key_value_heads\": " + std::to_string(kv) +
         ", \"num_hidden_layers\": 4, \"vocab_size\": " + std::to_string(vocab) + "}";
}

std::string axes(const std::string& body) {
  return "parallelism_rules:\n  axes:\n" + body + "  rules: []\n";
}

TEST_CASE("the manifest names the engine it models: vLLM main f067737b plus the RFC's PRs") {
  const EngineInfo& info = vllm_engine().info();
  CHECK(info.name == "vllm");
  CHECK(info.commit == "f067737b2a4ba4385f30256baa297200d06300c1");
  CHECK(info.date == "2026-08-11");
  CHECK(info.per_layer == "RFC #42659: PRs #36287, #42674, #48456 (unmerged)");
  auto c = compile_text(llama_like(128256), axes("    tp: 2\n"));
  REQUIRE(c->layout.has_value());
  auto m = c->manifest({"config.json", "rules.yaml"});
  CHECK(m["engine"]["name"] == "vllm");
  CHECK(m["engine"]["commit"] == info.commit);
  CHECK(m["engine"]["date"] == "2026-08-11");
}

TEST_CASE("vocab_parallel_embedding.py::pad_vocab_size pads to a multiple of 64, not 64 * tp") {
  CHECK(vllm_padded_vocab(128256) == 128256);  // Llama-3.1-8B: no padding
  CHECK(vllm_padded_vocab(32064) == 32064);    // Phi-3: 501 * 64
  CHECK(vllm_padded_vocab(32000) == 32000);
  CHECK(vllm_padded_vocab(201088) == 201088);  // gpt-oss
  CHECK(vllm_padded_vocab(100) == 128);
  CHECK(vllm_padded_vocab(65) == 128);
  CHECK(vllm_padded_vocab(64) == 64);
}

TEST_CASE("Llama-3.1-8B at tp 8 keeps 128,256 rows, 16,032 per rank, and earns no padding note") {
  auto c = compile_text(llama_like(128256), axes("    tp: 8\n"));
  REQUIRE(c->layout.has_value());
  CHECK_FALSE(has_code(*c, "vocab-padding"));
  CHECK_FALSE(has_code(*c, "vocab-divides-tp"));
}

TEST_CASE(
    "VocabParallelEmbedding.__init__: a vocab of 32,064 at tp 10 is an error (divide asserts)") {
  // Phi-3-medium's numbers: 40 heads, 10 KV heads, hidden 5120, MLP 17920, vocab 32064.
  auto c = compile_text(
      "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 5120, "
      "\"intermediate_size\": 17920, \"num_attention_heads\": 40, \"num_key_value_heads\": 10, "
      "\"num_hidden_layers\": 4, \"vocab_size\": 32064}",
      axes("    tp: 10\n"));
  CHECK(test::codes(*c) == std::vector<std::string>{"vocab-divides-tp"});
  const Diagnostic* d = find_code(*c, "vocab-divides-tp");
  REQUIRE(d != nullptr);
  CHECK(d->severity == Severity::kError);
  CHECK(d->message.find("32064") != std::string::npos);
  CHECK(d->message.find("tp_size tp (10)") != std::string::npos);
  CHECK(d->subjects == std::vector<std::string>{"model.embed_tokens", "lm_head"});
  bool lists_valid = false;
  for (const auto& n : d->notes) {
    if (n.message.find("valid tp_size values for 32064 rows") != std::string::npos &&
        n.message.find(", 8, ") != std::string::npos) {
      lists_valid = true;
    }
  }
  CHECK(lists_valid);
  CHECK_FALSE(c->layout.has_value());
}

TEST_CASE("a vocabulary that is not a multiple of 64 gets padded rows noted, per tp_size") {
  auto c = compile_text(llama_like(32001), axes("    tp: 2\n"));
  const Diagnostic* d = find_code(*c, "vocab-padding");
  REQUIRE(d != nullptr);
  CHECK(d->message.find("padded to 32064") != std::string::npos);
  CHECK(d->message.find("16032 rows per rank, 63 of them padding") != std::string::npos);
}

TEST_CASE("ParallelConfig._validate_parallel_config: with pcp 1, dcp must divide tp") {
  auto c = compile_text(llama_like(128256), axes("    tp: 8\n    dcp: 3\n"));
  CHECK(has_code(*c, "dcp-divides-tp"));
  CHECK_FALSE(has_code(*c, "dcp-with-pcp"));
}

TEST_CASE("ParallelConfig._validate_parallel_config: with pcp > 1, dcp is 1, pcp or tp*pcp") {
  const std::string mla = test::fixture("fixtures/models/deepseek_v3.json");
  for (int dcp : {1, 2, 8}) {
    auto c =
        compile_text(mla, axes("    tp: 4\n    pcp: 2\n    dcp: " + std::to_string(dcp) + "\n"));
    INFO("dcp " << dcp);
    CHECK_FALSE(has_code(*c, "dcp-with-pcp"));
    CHECK_FALSE(has_code(*c, "dcp-divides-tp"));
  }
  auto c = compile_text(mla, axes("    tp: 4\n    pcp: 2\n    dcp: 4\n"));
  const Diagnostic* d = find_code(*c, "dcp-with-pcp");
  REQUIRE(d != nullptr);
  bool lists = false;
  for (const auto& n : d->notes)
    lists = lists || n.message == "valid dcp values for tp 4 and pcp 2: 1, 2, 8";
  CHECK(lists);
}

TEST_CASE("ParallelConfig._validate_parallel_config refuses pcp with dp; PCPManager refuses pp") {
  const std::string mla = test::fixture("fixtures/models/deepseek_v3.json");
  auto dp = compile_text(mla, axes("    tp: 2\n    pcp: 2\n    dp: 2\n"));
  CHECK(has_code(*dp, "pcp-with-dp"));
  CHECK_FALSE(has_code(*dp, "pcp-with-pp"));
  auto pp = compile_text(mla, axes("    tp: 2\n    pcp: 2\n    pp: 2\n"));
  CHECK(has_code(*pp, "pcp-with-pp"));
  CHECK_FALSE(has_code(*pp, "pcp-with-dp"));
}

TEST_CASE("VllmConfig._get_v2_model_runner_unsupported_features: PCP runs for MLA models only") {
  auto gqa = compile_text(llama_like(128256), axes("    tp: 4\n    pcp: 2\n"));
  CHECK(has_code(*gqa, "pcp-needs-mla"));
  auto mla = compile_text(test::fixture("fixtures/models/deepseek_v3.json"),
                          axes("    tp: 4\n    pcp: 2\n"));
  CHECK_FALSE(has_code(*mla, "pcp-needs-mla"));
  // PCPManager.validate_config refuses speculative decoding: DeepSeek-V3's MTP layer is a warning.
  const Diagnostic* mtp = find_code(*mla, "pcp-with-mtp");
  REQUIRE(mtp != nullptr);
  CHECK(mtp->severity == Severity::kWarning);
}

TEST_CASE("qwen3_moe.py::Qwen3MoeSparseMoeBlock raises when tp exceeds the number of experts") {
  const std::string moe = test::fixture("fixtures/models/small_qwen3_moe.json");
  auto bad = compile_text(moe, axes("    tp: 16\n"));
  const Diagnostic* d = find_code(*bad, "tp-exceeds-experts");
  REQUIRE(d != nullptr);
  CHECK(d->message.find("\"Tensor parallel size 16 is greater than the number of experts 8.\"") !=
        std::string::npos);
  auto ok = compile_text(moe, axes("    tp: 8\n"));
  CHECK_FALSE(has_code(*ok, "tp-exceeds-experts"));
}

TEST_CASE("gpt_oss.py::MLPBlock.__init__: intermediate_size divides the whole world, DP included") {
  const std::string oss = test::fixture("fixtures/models/gpt_oss_120b.json");
  // tp 8 x dp 16 = 128 ranks; 2880 % 128 = 64.
  auto bad = compile_text(oss, axes("    tp: 8\n    dp: 16\n    ep: 128\n"));
  CHECK(has_code(*bad, "mlp-divides-world"));
  // tp 8 x dp 2 = 16 ranks; 2880 % 16 = 0.
  auto ok = compile_text(oss, axes("    tp: 8\n    dp: 2\n    ep: 16\n"));
  CHECK_FALSE(has_code(*ok, "mlp-divides-world"));
}

TEST_CASE("SlidingWindowSpec.max_memory_usage_bytes asserts when DCP shards a sliding window") {
  auto c = compile_text(test::fixture("fixtures/models/mistral_7b_v01.json"),
                        axes("    tp: 16\n    dcp: 2\n"));
  const Diagnostic* d = find_code(*c, "dcp-sliding-window");
  REQUIRE(d != nullptr);
  CHECK(d->severity == Severity::kWarning);
  bool names_flag = false;
  for (const auto& n : d->notes)
    names_flag = names_flag || n.message.find("--disable-sliding-window") != std::string::npos;
  CHECK(names_flag);
  auto no_dcp =
      compile_text(test::fixture("fixtures/models/mistral_7b_v01.json"), axes("    tp: 16\n"));
  CHECK_FALSE(has_code(*no_dcp, "dcp-sliding-window"));
}

}  // namespace
}  // namespace layerplan
