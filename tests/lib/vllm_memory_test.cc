// Memory per rank (lib/engine/vllm_memory.cc, vllm_quant.cc, vllm_fit.cc) against published
// numbers and against arithmetic done by hand from the module shapes of vLLM's model code (at
// f067737b). docs/memory.md lists the formulas; docs/vllm-fidelity.md the vLLM functions.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "arch_test_util.h"
#include "catch.h"
#include "lib/engine/vllm_quant.h"
#include "lib/glob.h"

namespace layerplan {
namespace {

using test::compile_text;

std::string axes(const std::string& body) {
  return "parallelism_rules:\n  axes:\n" + body + "  rules: []\n";
}

std::int64_t kv_total(const Compilation& c) {
  std::int64_t t = 0;
  for (const auto& s : c.memory->stages) t += s.kv_bytes_per_token;
  return t;
}

const LayerMemory& memory_of(const Compilation& c, const char* prefix) {
  for (std::size_t i = 0; i < c.plans.size(); ++i) {
    if (c.plans[i].layer->prefix == prefix) return c.memory->layers[i];
  }
  throw std::runtime_error(std::string("no layer ") + prefix);
}

bool within(double value, double published, double tolerance = 0.005) {
  return std::fabs(value - published) <= tolerance * published;
}

TEST_CASE("Llama-3.1-8B: 8,030,261,248 parameters and 131,072 KV bytes per token in bf16") {
  auto c = compile_text(test::fixture("fixtures/models/llama3_8b.json"), axes("    tp: 1\n"));
  REQUIRE(c->memory.has_value());
  CHECK(c->memory->params_total == 8030261248);
  CHECK(kv_total(*c) == 131072);
  // tp 1, bf16: every parameter twice, nothing padded (128,256 = 2,004 * 64).
  CHECK(c->memory->stages.at(0).weight_bytes == 2 * 8030261248);
  CHECK(c->memory->quant.format == QuantFormat::kNone);
}

TEST_CASE("stages follow the pipeline partition (VLLM_PP_LAYER_PARTITION), not the even split") {
  std::string model = test::fixture("fixtures/models/llama3_8b.json");
  auto even = compile_text(model, axes("    tp: 2\n    pp: 2\n"));
  auto uneven = compile_text(model,
                             "parallelism_rules:\n  axes: {tp: 2, pp: 2}\n"
                             "  pipeline: {partition: [17, 15]}\n  rules: []\n");
  REQUIRE(even->memory.has_value());
  REQUIRE(uneven->memory.has_value());
  const LayerMemory& attention = memory_of(*even, "model.layers.0.self_attn");
  const LayerMemory& mlp = memory_of(*even, "model.layers.0.mlp");
  std::int64_t layer = attention.weight_bytes + mlp.weight_bytes;
  // Layer 16 moves from stage 1 to stage 0.
  CHECK(uneven->memory->stages.at(0).weight_bytes ==
        even->memory->stages.at(0).weight_bytes + layer);
  CHECK(uneven->memory->stages.at(1).weight_bytes ==
        even->memory->stages.at(1).weight_bytes - layer);
  CHECK(uneven->memory->stages.at(0).kv_bytes_per_token ==
        even->memory->stages.at(0).kv_bytes_per_token + attention.kv_bytes_per_token);
}

TEST_CASE("linear.py::QKVParallelLinear: Llama-3.1-8B at tp 8 and tp 16 (KV heads replicated)") {
  auto tp8 = compile_text(test::fixture("fixtures/models/llama3_8b.json"), axes("    tp: 8\n"));
  REQUIRE(tp8->memory.has_value());
  // One KV head of 128 per rank, K and V, 2 bytes, 32 layers.
  CHECK(kv_total(*tp8) == 2 * 1 * 128 * 2 * 32);
  const LayerMemory& attn = memory_of(*tp8, "model.layers.0.self_attn");
  // q 512 rows, k and v 128 rows each, of 4096; o 4096 x 512; input_layernorm 4096.
  CHECK(attn.weight_bytes == 2 * (512 * 4096 + 2 * 128 * 4096 + 4096 * 512 + 4096));
  CHECK(attn.params == 4096 * 4096 * 2 + 2 * 1024 * 4096 + 4096);
  const LayerMemory& mlp = memory_of(*tp8, "model.layers.0.mlp");
  CHECK(mlp.weight_bytes == 2 * (3 * 4096 * 1792 + 4096));
  // tp 16 > 8 KV heads: each KV head on two ranks; a rank still holds one whole head.
  auto tp16 = compile_text(test::fixture("fixtures/models/llama3_8b.json"), axes("    tp: 16\n"));
  REQUIRE(tp16->memory.has_value());
  const LayerMemory& a16 = memory_of(*tp16, "model.layers.0.self_attn");
  CHECK(a16.weight_bytes == 2 * (256 * 4096 + 2 * 128 * 4096 + 4096 * 256 + 4096));
  CHECK(kv_total(*tp16) == kv_total(*tp8));
  CHECK(tp16->memory->params_total == 8030261248);  // sharding does not change the count
}

TEST_CASE(
    "MLAAttentionSpec: DeepSeek-V3 caches kv_lora_rank + qk_rope_head_dim = 576 values, 1,152 "
    "bytes") {
  auto c = compile_text(test::fixture("fixtures/models/deepseek_v3.json"), axes("    tp: 8\n"));
  REQUIRE(c->memory.has_value());
  const LayerMemory& attn = memory_of(*c, "model.layers.0.self_attn");
  CHECK(attn.kv_bytes_per_token == 1152);
  CHECK(attn.kv_token_share == 1);
  // 61 decoder layers and the MTP layer's attention.
  CHECK(kv_total(*c) == 62 * 1152);
  // DCP 8 shards the tokens, not the latent: the same bytes per cached token, one token in 8.
  auto dcp = compile_text(test::fixture("fixtures/models/deepseek_v3.json"),
                          axes("    tp: 8\n    dcp: 8\n"));
  REQUIRE(dcp->memory.has_value());
  CHECK(memory_of(*dcp, "model.layers.0.self_attn").kv_bytes_per_token == 1152);
  CHECK(memory_of(*dcp, "model.layers.0.self_attn").kv_token_share == 8);
}

TEST_CASE("DeepSeek-V3: 671 B parameters and 14 B of MTP, 685 B in the checkpoint (within 0.5 %)") {
  auto c = compile_text(test::fixture("fixtures/models/deepseek_v3.json"), axes("    tp: 1\n"));
  REQUIRE(c->memory.has_value());
  double total = static_cast<double>(c->memory->params_total);
  double mtp = static_cast<double>(c->memory->params_mtp);
  CHECK(within(total - mtp, 671e9));
  CHECK(within(total, 685e9));
  // The MTP layer's own embedding and head are the target's in vLLM
  // (spec_decode/llm_base_proposer.py::_maybe_share_embeddings, _maybe_share_lm_head).
  CHECK(memory_of(*c, "model.layers.61.head").shared);
  CHECK(memory_of(*c, "model.layers.61.head").weight_bytes == 2 * 7168);  // shared_head.norm only
}

TEST_CASE(
    "vllm_fit: requested = ceil(total * utilization), blocks of 16 tokens from what is left") {
  FitRequest r;
  r.gpu_memory = std::int64_t{80} << 30;
  r.max_model_len = 131072;
  CompileRequest request;
  request.config_path = "llama3_8b.json";
  request.config = make_source("llama3_8b.json", test::fixture("fixtures/models/llama3_8b.json"));
  request.rules_path = "rules.yaml";
  request.rules = make_source("rules.yaml", axes("    tp: 1\n"));
  request.fit = r;
  auto c = compile(request);
  REQUIRE(c->fit.has_value());
  const FitResult& f = *c->fit;
  CHECK(f.requested_bytes == static_cast<std::int64_t>(std::ceil(80.0 * 0.9 * 1073741824.0)));
  CHECK(f.max_num_seqs == 1024);  // EngineArgs.get_batch_defaults: >= 70 GiB
  CHECK(f.max_num_batched_tokens == 8192);
  const StageFit& s = f.stages.at(0);
  CHECK(s.kv_cache_bytes == f.requested_bytes - s.weight_bytes - s.activation_bytes);
  CHECK(f.kv_tokens_per_replica % 16 == 0);
  CHECK(f.kv_tokens_per_replica * 131072 <= s.kv_cache_bytes);
  CHECK((f.kv_tokens_per_replica + 16) * 131072 > s.kv_cache_bytes);
  CHECK(f.weights_fit);
  CHECK(f.fits);
  CHECK(f.exact);
  CHECK(f.largest_max_model_len == 131072);  // bounded by max_position_embeddings

  // A 20 GiB GPU holds the 14.96 GiB of weights but not a 131,072-token request (16 GiB of KV).
  request.fit->gpu_memory = std::int64_t{20} << 30;
  auto small = compile(request);
  REQUIRE(small->fit.has_value());
  CHECK(small->fit->weights_fit);
  CHECK_FALSE(small->fit->fits);
  std::int64_t len = small->fit->largest_max_model_len;
  CHECK(len > 0);
  CHECK(len < 131072);
  // estimate_max_model_len: the longest request whose blocks fit, and one block more does not.
  std::int64_t avail = small->fit->stages.at(0).kv_cache_bytes;
  CHECK((len + 15) / 16 * 16 * 131072 <= avail);
  CHECK(((len + 1) + 15) / 16 * 16 * 131072 > avail);
  request.fit->gpu_memory = std::int64_t{8} << 30;
  auto tiny = compile(request);
  REQUIRE(tiny->fit.has_value());
  CHECK_FALSE(tiny->fit->weights_fit);
  CHECK(tiny->fit->kv_tokens_per_replica == 0);
}

TEST_CASE("FullAttentionSpec.max_memory_usage_bytes: DCP multiplies the tokens a replica caches") {
  FitRequest r;
  r.gpu_memory = std::int64_t{141} << 30;
  auto run = [&](const std::string& ax) {
    CompileRequest request;
    request.config_path = "deepseek_v3.json";
    request.config =
        make_source("deepseek_v3.json", test::fixture("fixtures/models/deepseek_v3.json"));
    request.rules_path = "rules.yaml";
    request.rules = make_source("rules.yaml", axes(ax));
    request.fit = r;
    return compile(request);
  };
  auto plain = run("    tp: 16\n");
  auto dcp = run("    tp: 16\n    dcp: 4\n");
  REQUIRE(plain->fit.has_value());
  REQUIRE(dcp->fit.has_value());
  // Same weights per rank; each rank caches one token in four.
  CHECK(plain->memory->stages[0].weight_bytes == dcp->memory->stages[0].weight_bytes);
  std::int64_t per_rank = plain->fit->kv_tokens_per_replica;
  CHECK(dcp->fit->kv_tokens_per_replica == 4 * per_rank);
}

TEST_CASE("quantization_config: fp8 blocks, fbgemm fp8, mxfp4, nvfp4 bytes of one matrix") {
  QuantScheme s;
  s.block_n = s.block_k = 128;
  // Fp8LinearMethod: fp8 weight + float32 weight_scale_inv [cdiv(r,128), cdiv(c,128)].
  CHECK(matrix_bytes(s, QuantFormat::kFp8Block, 1536, 7168, 2) == 1536 * 7168 + 4 * 12 * 56);
  CHECK(matrix_bytes(s, QuantFormat::kFp8Block, 576, 7168, 2) == 576 * 7168 + 4 * 5 * 56);
  CHECK(matrix_bytes(s, QuantFormat::kFp8Channel, 1024, 4096, 2) == 1024 * 4096 + 4 * 1024);
  // Mxfp4MoEMethod: two values a byte, a uint8 scale per 32.
  CHECK(matrix_bytes(s, QuantFormat::kMxfp4, 5760, 2880, 2) == 5760 * 2880 / 2 + 5760 * 2880 / 32);
  // NVFP4: two values a byte, an fp8 scale per 16, float32 global and input scales.
  CHECK(matrix_bytes(s, QuantFormat::kNvfp4, 1024, 4096, 2) ==
        1024 * 4096 / 2 + 1024 * 4096 / 16 + 8);
  CHECK(matrix_bytes(s, QuantFormat::kNone, 3, 5, 2) == 30);
}

std::string llama_with_quant(const std::string& quant) {
  return "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", "
         "\"hidden_size\": 4096, \"intermediate_size\": 14336, \"num_attention_heads\": 32, "
         "\"num_key_value_heads\": 8, \"num_hidden_layers\": 2, \"vocab_size\": 128256, "
         "\"quantization_config\": " +
         quant + "}";
}

TEST_CASE("fbgemm_fp8 with modules_to_not_convert: listed projections stay bf16") {
  auto c = compile_text(
      llama_with_quant("{\"quant_method\": \"fbgemm_fp8\", \"modules_to_not_convert\": "
                       "[\"model.layers.0.mlp.down_proj\"]}"),
      axes("    tp: 1\n"));
  REQUIRE(c->memory.has_value());
  CHECK(c->memory->quant.name == "fp8-channel");
  const LayerMemory& m0 = memory_of(*c, "model.layers.0.mlp");
  const LayerMemory& m1 = memory_of(*c, "model.layers.1.mlp");
  std::int64_t fp8 = 14336 * 4096 + 4 * 14336;
  CHECK(m1.weight_bytes == 2 * fp8 + (4096 * 14336 + 4 * 4096) + 2 * 4096);
  CHECK(m0.weight_bytes == 2 * fp8 + 2 * 4096 * 14336 + 2 * 4096);
  // Embedding and head are never quantized.
  CHECK(memory_of(*c, "model.embed_tokens").weight_bytes == 2LL * 128256 * 4096);
  CHECK_FALSE(test::has_code(*c, "quant-unknown"));
}

TEST_CASE(
    "an unknown quantization scheme is a warning, and the weights are said to be the model dtype") {
  auto c = compile_text(llama_with_quant("{\"quant_method\": \"awq\", \"bits\": 4}"),
                        axes("    tp: 1\n"));
  REQUIRE(c->memory.has_value());
  const Diagnostic* d = test::find_code(*c, "quant-unknown");
  REQUIRE(d != nullptr);
  CHECK(d->severity == Severity::kWarning);
  CHECK(d->message.find("'awq'") != std::string::npos);
  CHECK(d->location.line > 0);
  CHECK(c->memory->quant.format == QuantFormat::kUnknown);
  CHECK(memory_of(*c, "model.layers.0.mlp").weight_bytes == 2 * (3 * 4096 * 14336 + 4096));
}

TEST_CASE("compressed-tensors nvfp4 (MiniMax-M2.5-NVFP4's scheme) with a glob ignore list") {
  auto c = compile_text(
      llama_with_quant(
          "{\"quant_method\": \"compressed-tensors\", \"config_groups\": {\"group_0\": "
          "{\"weights\": {\"num_bits\": 4, \"type\": \"float\", \"group_size\": 16}}}, "
          "\"ignore\": [\"lm_head\", \"model.layers.0.self_attn*\"]}"),
      axes("    tp: 1\n"));
  REQUIRE(c->memory.has_value());
  CHECK(c->memory->quant.format == QuantFormat::kNvfp4);
  const LayerMemory& a0 = memory_of(*c, "model.layers.0.self_attn");
  const LayerMemory& a1 = memory_of(*c, "model.layers.1.self_attn");
  CHECK(a0.weight_bytes == 2 * (2 * 4096 * 4096 + 2 * 1024 * 4096 + 4096));
  auto nv = [](std::int64_t r, std::int64_t k) { return r * k / 2 + r * k / 16 + 8; };
  CHECK(a1.weight_bytes == 2 * nv(4096, 4096) + 2 * nv(1024, 4096) + 2 * 4096);
}

// The ignore list walked entry by entry, as vLLM's is_layer_skipped variants compare: exactly,
// by suffix at a component boundary, or as a run of whole components; globs over the whole name.
bool walk_ignores(const QuantScheme& scheme, std::string_view module) {
  for (const auto& entry : scheme.ignore) {
    if (entry.rfind("re:", 0) == 0) continue;
    if (entry.find_first_of("*?[") != std::string::npos) {
      if (glob_match(entry, module)) return true;
      continue;
    }
    if (module == entry) return true;
    if (module.size() > entry.size() && module.substr(module.size() - entry.size()) == entry &&
        module[module.size() - entry.size() - 1] == '.') {
      return true;
    }
    std::string inner = "." + entry + ".";
    if (std::string(".").append(module).append(".").find(inner) != std::string::npos) return true;
  }
  return false;
}

TEST_CASE(
    "QuantIgnoreIndex answers as a walk over the list: whole components, globs, re: entries") {
  QuantScheme s;
  s.ignore = {"lm_head",
              "mlp.gate_proj",
              "model.layers.3",
              "re:.*experts.*",
              "model.layers.1*.self_attn.o_proj",
              ""};
  QuantIgnoreIndex index(s.ignore);
  struct Case {
    const char* module;
    bool ignored;
  };
  for (const Case& c : std::vector<Case>{
           {"lm_head", true},                                 // exact
           {"model.lm_head", true},                           // suffix at a boundary
           {"model.layers.0.mlp.gate_proj", true},            // a run of two components
           {"model.layers.0.mlp.gate_proj_x", false},         // not a whole component
           {"model.layers.3.self_attn.qkv_proj", true},       // a prefix run
           {"model.layers.30.self_attn.qkv_proj", false},     // 30 is not 3
           {"model.layers.12.self_attn.o_proj", true},        // glob over the whole name
           {"model.layers.2.self_attn.o_proj", false},        //
           {"model.layers.4.mlp.experts.w13_weight", false},  // re: entries are not matched
           {"model..x", true},                                // "" is an empty component
       }) {
    INFO(c.module);
    CHECK(walk_ignores(s, c.module) == c.ignored);
    CHECK(index.ignores(c.module) == c.ignored);
  }
  // Random lists and names over a few components (empty ones too), both ways.
  std::mt19937 rng(20261202);
  const std::vector<std::string> parts = {"model", "layers", "0", "1", "mlp", "gate_proj", "", "a"};
  auto name = [&](int max_parts) {
    std::string out;
    int n = 1 + static_cast<int>(rng() % static_cast<unsigned>(max_parts));
    for (int i = 0; i < n; ++i) out += (i > 0 ? "." : "") + parts[rng() % parts.size()];
    if (rng() % 8 == 0) out += "*";
    return out;
  };
  int matched = 0, unmatched = 0;
  for (int round = 0; round < 300; ++round) {
    QuantScheme r;
    for (int i = 0; i < 4; ++i) r.ignore.push_back(name(3));
    QuantIgnoreIndex random_index(r.ignore);
    for (int j = 0; j < 20; ++j) {
      std::string module = name(6);
      if (!module.empty() && module.back() == '*') module.pop_back();
      INFO(module);
      bool ignored = walk_ignores(r, module);
      CHECK(random_index.ignores(module) == ignored);
      ++(ignored ? matched : unmatched);
    }
  }
  CHECK(matched > 500);  // the random names exercise both answers
  CHECK(unmatched > 500);
}

TEST_CASE("Mamba-2 and Gated DeltaNet state per sequence: MambaStateShapeCalculator") {
  // Nemotron-H-8B fixture: d_inner 128 heads * 64 = 8192, n_groups 8, state 128, conv kernel 4.
  auto c = compile_text(test::fixture("fixtures/models/nemotron_h_8b.json"), axes("    tp: 2\n"));
  REQUIRE(c->memory.has_value());
  const LayerMemory* mamba = nullptr;
  const Layer* layer = nullptr;
  for (std::size_t i = 0; i < c->plans.size(); ++i) {
    if (c->plans[i].layer->kind == LayerKind::kMamba) {
      mamba = &c->memory->layers[i];
      layer = c->plans[i].layer;
      break;
    }
  }
  REQUIRE(mamba != nullptr);
  std::int64_t inner = layer->mamba_inner.value / 2, groups = layer->mamba_groups.value / 2;
  std::int64_t n = layer->ssm_state_size.value, heads = layer->mamba_heads.value / 2;
  std::int64_t conv = 3 * (inner + 2 * groups * n) * 2;
  std::int64_t ssm = heads * layer->mamba_head_dim.value * n * 2;
  CHECK(mamba->state_bytes_per_seq == conv + ssm);
  CHECK(mamba->kv_bytes_per_token == 0);
}

TEST_CASE("DeepseekV32IndexerCache: 128 fp8 bytes and a float32 scale per token, 132 bytes") {
  auto c = compile_text(test::fixture("fixtures/models/deepseek_v32.json"), axes("    tp: 8\n"));
  REQUIRE(c->memory.has_value());
  CHECK(memory_of(*c, "model.layers.0.self_attn.indexer").kv_bytes_per_token == 132);
  CHECK(memory_of(*c, "model.layers.0.self_attn").kv_bytes_per_token == 1152);
}

TEST_CASE("SlidingWindowSpec: gpt-oss's sliding layers are kept apart and the fit is an estimate") {
  FitRequest r;
  r.gpu_memory = std::int64_t{80} << 30;
  CompileRequest request;
  request.config_path = "gpt_oss_120b.json";
  request.config =
      make_source("gpt_oss_120b.json", test::fixture("fixtures/models/gpt_oss_120b.json"));
  request.rules_path = "rules.yaml";
  request.rules = make_source("rules.yaml", axes("    tp: 1\n"));
  request.fit = r;
  auto c = compile(request);
  REQUIRE(c->memory.has_value());
  const StageMemory& s = c->memory->stages.at(0);
  // 18 full and 18 sliding layers, 8 KV heads of 64, K and V, bf16.
  CHECK(s.kv_bytes_per_token == 18 * 2 * 8 * 64 * 2);
  CHECK(s.sliding_kv_bytes_per_token == 18 * 2 * 8 * 64 * 2);
  REQUIRE(c->fit.has_value());
  CHECK_FALSE(c->fit->exact);
}

// A fixture under fixtures/models/ with some keys set (null: removed).
std::string edited_fixture(const char* path, const nlohmann::json& edits) {
  nlohmann::json j = nlohmann::json::parse(test::fixture(path));
  for (const auto& [key, value] : edits.items()) {
    if (value.is_null()) {
      j.erase(key);
    } else {
      j[key] = value;
    }
  }
  return j.dump();
}

std::unique_ptr<Compilation> compile_unverified(const std::string& config, const char* axes_body) {
  CheckOptions options;
  options.allow_unverified = true;
  auto c = compile_text(config, axes(axes_body), options);
  REQUIRE(c->memory.has_value());
  return c;
}

TEST_CASE("Qwen3, Qwen3-MoE: attention_bias biases q, k, v but never o_proj (Qwen3Attention)") {
  // qwen3.py::Qwen3Attention.__init__ / qwen3_moe.py::Qwen3MoeAttention.__init__:
  // QKVParallelLinear(bias=qkv_bias), RowParallelLinear o_proj bias=False.
  for (const char* arch : {"Qwen3MoeForCausalLM", "Qwen3ForCausalLM"}) {
    INFO(arch);
    std::string type = std::string(arch) == "Qwen3ForCausalLM" ? "qwen3" : "qwen3_moe";
    nlohmann::json base = {{"architectures", {arch}}, {"model_type", type}};
    nlohmann::json biased = base;
    biased["attention_bias"] = true;
    auto plain = compile_unverified(edited_fixture("fixtures/models/small_qwen3_moe.json", base),
                                    "    tp: 1\n");
    auto bias = compile_unverified(edited_fixture("fixtures/models/small_qwen3_moe.json", biased),
                                   "    tp: 1\n");
    REQUIRE(plain->model->family == type);
    const LayerMemory& a = memory_of(*plain, "model.layers.0.self_attn");
    const LayerMemory& b = memory_of(*bias, "model.layers.0.self_attn");
    // q (32 heads) + k and v (4 KV heads each) of head_dim 128; no o_proj bias of 2,048.
    CHECK(b.params - a.params == 32 * 128 + 2 * 4 * 128);
    CHECK(b.weight_bytes - a.weight_bytes == 2 * (32 * 128 + 2 * 4 * 128));
  }
}

TEST_CASE(
    "Qwen3-MoE: a shared expert and its shared_expert_gate iff shared_expert_intermediate_size > "
    "0") {
  // qwen3_moe.py::Qwen3MoeSparseMoeBlock.__init__: Qwen3MoeMLP(hidden, width) and
  // ReplicatedLinear(hidden, 1) shared_expert_gate.
  const char* path = "fixtures/models/small_qwen3_moe.json";
  auto none = compile_unverified(test::fixture(path), "    tp: 1\n");
  auto zero = compile_unverified(edited_fixture(path, {{"shared_expert_intermediate_size", 0}}),
                                 "    tp: 1\n");
  auto with = compile_unverified(edited_fixture(path, {{"shared_expert_intermediate_size", 512}}),
                                 "    tp: 1\n");
  const LayerMemory& n = memory_of(*none, "model.layers.0.mlp");
  CHECK(memory_of(*zero, "model.layers.0.mlp").weight_bytes == n.weight_bytes);
  const LayerMemory& w = memory_of(*with, "model.layers.0.mlp");
  CHECK(w.params - n.params == 3 * 2048 * 512 + 2048);
  CHECK(w.weight_bytes - n.weight_bytes == 2 * (3 * 2048 * 512 + 2048));
}

TEST_CASE(
    "e_score_correction_bias: GLM-4.7-Flash always (Glm4MoE), GLM-5 iff noaux_tc (DeepseekV2MoE)") {
  // glm4_moe_lite.py::Glm4MoeLite is glm4_moe.py::Glm4MoE: the bias whatever topk_method says.
  const char* flash = "fixtures/models/glm_4_7_flash.json";
  auto greedy =
      compile_unverified(edited_fixture(flash, {{"topk_method", "greedy"}}), "    tp: 1\n");
  auto noaux =
      compile_unverified(edited_fixture(flash, {{"topk_method", "noaux_tc"}}), "    tp: 1\n");
  // The same numbers run as DeepSeek-V3 (DeepseekV2MoE) with greedy routing: no bias.
  auto as_deepseek =
      compile_unverified(edited_fixture(flash, {{"topk_method", "greedy"},
                                                {"architectures", {"DeepseekV3ForCausalLM"}},
                                                {"model_type", "deepseek_v3"}}),
                         "    tp: 1\n");
  const LayerMemory& g = memory_of(*greedy, "model.layers.1.mlp");
  CHECK(memory_of(*noaux, "model.layers.1.mlp").weight_bytes == g.weight_bytes);
  const LayerMemory& d = memory_of(*as_deepseek, "model.layers.1.mlp");
  CHECK(g.params - d.params == 64);
  CHECK(g.weight_bytes - d.weight_bytes == 64 * 4);  // 64 experts, float32
  // GLM-5 (GlmMoeDsaForCausalLM, a DeepseekV2ForCausalLM): the bias only with noaux_tc.
  nlohmann::json glm5 = {{"architectures", {"GlmMoeDsaForCausalLM"}},
                         {"model_type", "glm_moe_dsa"}};
  nlohmann::json glm5_noaux = glm5;
  glm5_noaux["topk_method"] = "noaux_tc";
  glm5["topk_method"] = "greedy";
  auto g5 =
      compile_unverified(edited_fixture("fixtures/models/deepseek_v32.json", glm5), "    tp: 1\n");
  auto g5n = compile_unverified(edited_fixture("fixtures/models/deepseek_v32.json", glm5_noaux),
                                "    tp: 1\n");
  REQUIRE(g5->model->family == "glm_moe_dsa");
  CHECK(memory_of(*g5n, "model.layers.3.mlp").weight_bytes -
            memory_of(*g5, "model.layers.3.mlp").weight_bytes ==
        256 * 4);
}

TEST_CASE("parse_byte_size and format_bytes") {
  CHECK(parse_byte_size("141GiB") == std::int64_t{141} << 30);
  CHECK(parse_byte_size("80GB") == std::int64_t{80000000000});
  CHECK(parse_byte_size("1.5TiB") == std::int64_t{3} << 39);
  CHECK(parse_byte_size("1073741824") == std::int64_t{1} << 30);
  CHECK_FALSE(parse_byte_size("").has_value());
  CHECK_FALSE(parse_byte_size("GiB").has_value());
  CHECK_FALSE(parse_byte_size("12XB").has_value());
  CHECK_FALSE(parse_byte_size("0").has_value());
  CHECK_FALSE(parse_byte_size("1.2.3GB").has_value());
  CHECK(format_bytes(512) == "512 B");
  CHECK(format_bytes(std::int64_t{3} << 29) == "1.50 GiB");
}

}  // namespace
}  // namespace layerplan
