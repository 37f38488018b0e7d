// smoke --memory's plan of allocations, read from compiled manifests (no GPU needed).
#include "smoke/memory_probe.h"

#include <fstream>

#include "catch.h"

namespace layerplan::smoke {
namespace {

nlohmann::ordered_json golden(const std::string& name) {
  std::ifstream f(std::string(LAYERPLAN_SOURCE_DIR) + "/fixtures/golden/" + name + ".json");
  return nlohmann::ordered_json::parse(f);
}

TEST_CASE(
    "memory_probe_plan: the rank's pipeline stage, one buffer per layer, the manifest's totals") {
  auto m = golden("llama8b_tp2_pp2");  // Llama-3.1-8B, tp 2, pp 2: ranks 0, 1 stage 0; 2, 3 stage 1
  auto p0 = memory_probe_plan(m, 0);
  auto p3 = memory_probe_plan(m, 3);
  REQUIRE(std::holds_alternative<MemoryProbePlan>(p0));
  REQUIRE(std::holds_alternative<MemoryProbePlan>(p3));
  const auto& a = std::get<MemoryProbePlan>(p0);
  const auto& b = std::get<MemoryProbePlan>(p3);
  CHECK(a.stage == 0);
  CHECK(b.stage == 1);
  std::int64_t sum = 0;
  for (const auto& w : a.weights) sum += w.bytes;
  CHECK(sum == a.predicted_weight_bytes);
  CHECK(a.predicted_weight_bytes == m["memory"]["stages"][0]["weight_bytes"].get<std::int64_t>());
  CHECK(a.weights.front().prefix == "model.embed_tokens");
  CHECK(b.weights.back().prefix == "lm_head");
  CHECK(a.kv_bytes_per_token.size() == 16);                // 16 attention layers a stage
  CHECK(a.kv_bytes_per_token.front() == 2 * 4 * 128 * 2);  // 4 KV heads a rank at tp 2
  CHECK(a.predicted_kv_tokens == -1);                      // compiled without --gpu-memory
}

TEST_CASE("memory_probe_plan refuses a manifest without memory and a rank outside the world") {
  auto m = golden("llama8b_tp2_pp2");
  auto out = memory_probe_plan(m, 4);
  REQUIRE(std::holds_alternative<std::string>(out));
  CHECK(std::get<std::string>(out).find("outside the world of 4") != std::string::npos);
  m.erase("memory");
  auto none = memory_probe_plan(m, 0);
  REQUIRE(std::holds_alternative<std::string>(none));
  CHECK(std::get<std::string>(none).find("no \"memory\" block") != std::string::npos);
}

TEST_CASE("render_memory_probe names predicted and allocated bytes and the KV tokens") {
  MemoryProbePlan plan;
  plan.predicted_weight_bytes = std::int64_t{4} << 30;
  plan.kv_bytes_per_token = {2048, 2048};
  plan.kv_token_share = 2;
  MemoryProbeResult r;
  r.total = std::int64_t{141} << 30;
  r.free_before = std::int64_t{140} << 30;
  r.allocated_weight_bytes = (std::int64_t{4} << 30) + (std::int64_t{2} << 20);
  r.kv_blocks = 1000;
  std::string text = render_memory_probe(plan, r);
  CHECK(text.find("4.000") != std::string::npos);
  CHECK(text.find("4.002") != std::string::npos);
  CHECK(text.find("1000 blocks") != std::string::npos);
  CHECK(text.find("32000 tokens per replica") != std::string::npos);  // 1000 * 16 * dcp 2
}

}  // namespace
}  // namespace layerplan::smoke
