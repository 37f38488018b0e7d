#include "lib/manifest_memory.h"

namespace layerplan {

using ojson = nlohmann::ordered_json;

ojson layer_memory_json(const LayerMemory& m) {
  ojson j;
  j["params"] = m.params;
  j["weight_bytes"] = m.weight_bytes;
  j["shared"] = m.shared;
  j["kv_bytes_per_token"] = m.kv_bytes_per_token;
  j["kv_token_share"] = m.kv_token_share;
  j["sliding_window"] = m.sliding_window > 0 ? ojson(m.sliding_window) : ojson(nullptr);
  j["state_bytes_per_seq"] = m.state_bytes_per_seq;
  return j;
}

ojson memory_json(const MemoryPlan& m, const FitResult* fit, const FitRequest* request) {
  ojson j;
  j["dtype"] = m.dtype;
  j["kv_cache_dtype"] = m.kv_cache_dtype;
  j["kv_dtype_bytes"] = m.kv_dtype_bytes;
  ojson q;
  q["method"] = m.quant.method.empty() ? ojson(nullptr) : ojson(m.quant.method);
  q["scheme"] = m.quant.name;
  j["quantization"] = std::move(q);
  j["params_total"] = m.params_total;
  j["params_mtp"] = m.params_mtp;
  j["kv_token_share"] = m.kv_token_share;
  ojson stages = ojson::array();
  for (const auto& s : m.stages) {
    ojson st;
    st["stage"] = s.stage;
    st["weight_bytes"] = s.weight_bytes;
    st["kv_bytes_per_token"] = s.kv_bytes_per_token;
    st["sliding_kv_bytes_per_token"] = s.sliding_kv_bytes_per_token;
    st["state_bytes_per_seq"] = s.state_bytes_per_seq;
    stages.push_back(std::move(st));
  }
  j["stages"] = std::move(stages);
  if (fit != nullptr && request != nullptr) {
    ojson f;
    f["gpu_memory"] = request->gpu_memory;
    f["gpu_memory_utilization"] = request->gpu_memory_utilization;
    f["requested_bytes"] = fit->requested_bytes;
    f["max_model_len"] = fit->max_model_len;
    f["max_num_seqs"] = fit->max_num_seqs;
    f["max_num_batched_tokens"] = fit->max_num_batched_tokens;
    f["block_size"] = request->block_size;
    f["weights_fit"] = fit->weights_fit;
    f["fits"] = fit->fits;
    f["exact"] = fit->exact;
    f["kv_tokens_per_replica"] = fit->kv_tokens_per_replica;
    f["largest_max_model_len"] = fit->largest_max_model_len;
    ojson fs = ojson::array();
    for (const auto& s : fit->stages) {
      fs.push_back({{"stage", s.stage},
                    {"weight_bytes", s.weight_bytes},
                    {"activation_bytes", s.activation_bytes},
                    {"kv_cache_bytes", s.kv_cache_bytes},
                    {"kv_tokens", s.kv_tokens}});
    }
    f["stages"] = std::move(fs);
    j["fit"] = std::move(f);
  }
  return j;
}

void add_memory(ojson& manifest, const MemoryPlan& memory, const FitResult* fit,
                const FitRequest* request) {
  ojson& layers = manifest["layers"];
  for (std::size_t i = 0; i < layers.size() && i < memory.layers.size(); ++i) {
    layers[i]["memory"] = layer_memory_json(memory.layers[i]);
  }
  manifest["memory"] = memory_json(memory, fit, request);
}

}  // namespace layerplan
