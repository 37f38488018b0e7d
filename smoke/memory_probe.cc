#include "smoke/memory_probe.h"

#include <cstdio>
#include <sstream>

namespace layerplan::smoke {
namespace {

std::int64_t int_at(const nlohmann::ordered_json& j, const char* key, std::int64_t fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : fallback;
}

std::string gib(std::int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(bytes) / 1073741824.0);
  return buf;
}

}  // namespace

std::variant<MemoryProbePlan, std::string> memory_probe_plan(const nlohmann::ordered_json& m,
                                                             int rank) {
  if (!m.is_object() || !m.contains("memory") || !m["memory"].is_object()) {
    return std::string("the manifest has no \"memory\" block: compile it with this layerplan");
  }
  if (!m.contains("axes") || !m["axes"].is_object() || !m.contains("layers") ||
      !m["layers"].is_array()) {
    return std::string("the manifest has no axes or layers");
  }
  const auto& ax = m["axes"];
  std::int64_t tp = int_at(ax, "tp", 1), pcp = int_at(ax, "pcp", 1), pp = int_at(ax, "pp", 1);
  std::int64_t world = int_at(m, "world_size", 0);
  if (tp < 1 || pcp < 1 || pp < 1 || world < 1) return std::string("malformed axes or world_size");
  if (rank < 0 || rank >= world) {
    return "rank " + std::to_string(rank) + " is outside the world of " + std::to_string(world);
  }
  MemoryProbePlan plan;
  plan.rank = rank;
  plan.stage = static_cast<int>((rank / (tp * pcp)) % pp);
  const auto& mem = m["memory"];
  plan.kv_token_share = int_at(mem, "kv_token_share", 1);
  if (mem.contains("stages") && mem["stages"].is_array()) {
    for (const auto& s : mem["stages"]) {
      if (int_at(s, "stage", -1) == plan.stage)
        plan.predicted_weight_bytes = int_at(s, "weight_bytes", 0);
    }
  }
  if (mem.contains("fit") && mem["fit"].is_object()) {
    plan.block_size = int_at(mem["fit"], "block_size", 16);
    for (const auto& s : mem["fit"].value("stages", nlohmann::ordered_json::array())) {
      if (int_at(s, "stage", -1) == plan.stage)
        plan.predicted_kv_tokens = int_at(s, "kv_tokens", -1);
    }
  }
  for (const auto& l : m["layers"]) {
    if (!l.is_object() || int_at(l, "stage", -1) != plan.stage || !l.contains("memory")) continue;
    const auto& lm = l["memory"];
    std::int64_t w = int_at(lm, "weight_bytes", -1), kv = int_at(lm, "kv_bytes_per_token", -1);
    if (w < 0 || kv < 0)
      return "layer " + l.value("prefix", std::string("?")) + " has a malformed memory entry";
    if (w > 0) plan.weights.push_back({l.value("prefix", std::string()), w});
    if (kv > 0) plan.kv_bytes_per_token.push_back(kv);
  }
  return plan;
}

std::string render_memory_probe(const MemoryProbePlan& plan, const MemoryProbeResult& r) {
  std::ostringstream o;
  std::int64_t per_block = 0;
  for (auto b : plan.kv_bytes_per_token) per_block += b * plan.block_size;
  o << "layerplan smoke --memory: rank " << plan.rank << ", pipeline stage " << plan.stage << "\n";
  o << "GPU: " << gib(r.total) << " GiB in all, " << gib(r.free_before) << " GiB free before\n";
  o << "what                     predicted GiB   allocated GiB   difference\n";
  o << "weights (" << plan.weights.size() << " buffers)"
    << std::string(plan.weights.size() < 10 ? 6 : 5, ' ') << gib(plan.predicted_weight_bytes)
    << "          " << gib(r.allocated_weight_bytes) << "         "
    << gib(r.allocated_weight_bytes - plan.predicted_weight_bytes) << "\n";
  o << "KV cache: " << plan.kv_bytes_per_token.size() << " layer tensors, " << per_block
    << " bytes per block of " << plan.block_size << " tokens\n";
  o << "largest KV cache that fits in the rest: " << r.kv_blocks << " blocks, "
    << gib(r.kv_allocated_bytes) << " GiB, " << r.kv_blocks * plan.block_size * plan.kv_token_share
    << " tokens per replica";
  if (plan.predicted_kv_tokens >= 0) {
    o << " (the manifest's fit, within gpu_memory_utilization: " << plan.predicted_kv_tokens << ")";
  }
  o << "\nlayerplan smoke --memory: DONE\n";
  return o.str();
}

}  // namespace layerplan::smoke
