#include "lib/hf_config.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>

namespace layerplan {

const nlohmann::json& HfConfig::text() const {
  if (text_pointer.empty()) return doc.value;
  return doc.value.at(nlohmann::json::json_pointer(text_pointer));
}

const nlohmann::json* HfConfig::find(std::string_view key) const {
  for (const nlohmann::json* scope : {&text(), &doc.value}) {
    if (!scope->is_object()) continue;
    auto it = scope->find(std::string(key));
    if (it != scope->end() && !it->is_null()) return &*it;
  }
  return nullptr;
}

std::string HfConfig::pointer_of(std::string_view key) const {
  const nlohmann::json& t = text();
  if (t.is_object() && t.contains(std::string(key))) {
    return text_pointer + "/" + json_pointer_escape(key);
  }
  return "/" + json_pointer_escape(key);
}

Location HfConfig::locate(std::string_view key) const { return doc.locate(pointer_of(key)); }

std::optional<HfConfig> load_hf_config(const std::string& path, Diagnostics& diags) {
  std::string file = path;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    file = path + (path.ends_with('/') ? "" : "/") + "config.json";
    if (::stat(file.c_str(), &st) != 0) {
      diags.report(make_error("input-unreadable", Location{},
                              fmt::format("directory '{}' holds no config.json", path)));
      return std::nullopt;
    }
  }
  ReadError error;
  auto source = read_source(file, error);
  if (!source) {
    diags.report(make_error("input-unreadable", Location{}, error.message));
    return std::nullopt;
  }
  return parse_hf_config(*source, diags);
}

std::optional<HfConfig> parse_hf_config(const SourcePtr& file, Diagnostics& diags) {
  auto doc = parse_json(file, diags);
  if (!doc) return std::nullopt;
  if (!doc->value.is_object()) {
    diags.report(make_error("config-invalid-field", Location{file, 1, 1},
                            "config.json must hold a JSON object at the top level"));
    return std::nullopt;
  }
  HfConfig config;
  config.doc = std::move(*doc);
  const auto& root = config.doc.value;
  if (auto it = root.find("text_config"); it != root.end() && !it->is_null()) {
    if (!it->is_object()) {
      diags.report(make_error("config-invalid-field", config.doc.locate("/text_config"),
                              "text_config must be an object"));
      return std::nullopt;
    }
    config.text_pointer = "/text_config";
  }
  if (auto it = root.find("architectures"); it != root.end() && !it->is_null()) {
    if (!it->is_array() || (!it->empty() && !(*it)[0].is_string())) {
      diags.report(make_error("config-invalid-field", config.doc.locate("/architectures"),
                              "architectures must be a list of class names"));
      return std::nullopt;
    }
    if (!it->empty()) config.architecture = (*it)[0].get<std::string>();
  }
  for (const nlohmann::json* scope : {&config.text(), &root}) {
    auto it = scope->find("model_type");
    if (it != scope->end() && it->is_string()) {
      config.model_type = it->get<std::string>();
      break;
    }
  }
  return config;
}

const FieldAliases& default_field_aliases() {
  static const FieldAliases kAliases = {
      {"num_hidden_layers", {"num_hidden_layers", "n_layer", "num_layers"}},
      {"hidden_size", {"hidden_size", "n_embd", "d_model"}},
      {"num_attention_heads", {"num_attention_heads", "n_head"}},
      {"num_key_value_heads",
       {"num_key_value_heads", "num_kv_heads", "n_head_kv", "multi_query_group_num"}},
      {"head_dim", {"head_dim", "attention_head_dim"}},
      {"intermediate_size", {"intermediate_size", "ffn_hidden_size"}},
      {"vocab_size", {"vocab_size", "padded_vocab_size"}},
      {"num_experts", {"n_routed_experts", "num_local_experts", "num_experts"}},
      {"num_experts_per_tok", {"num_experts_per_tok", "experts_per_token", "moe_topk"}},
      {"moe_intermediate_size", {"moe_intermediate_size"}},
      {"n_shared_experts", {"n_shared_experts", "num_shared_experts"}},
      {"first_k_dense_replace", {"first_k_dense_replace"}},
      {"moe_layer_freq", {"moe_layer_freq"}},
      {"num_nextn_predict_layers", {"num_nextn_predict_layers"}},
      {"kv_lora_rank", {"kv_lora_rank"}},
      {"q_lora_rank", {"q_lora_rank"}},
      {"qk_rope_head_dim", {"qk_rope_head_dim"}},
      {"qk_nope_head_dim", {"qk_nope_head_dim"}},
      {"v_head_dim", {"v_head_dim"}},
      {"sliding_window", {"sliding_window"}},
      {"max_position_embeddings", {"max_position_embeddings"}},
      {"tie_word_embeddings", {"tie_word_embeddings"}},
      {"shared_expert_intermediate_size",
       {"moe_shared_expert_intermediate_size", "shared_expert_intermediate_size",
        "shared_intermediate_size"}},
      {"mamba_num_heads", {"mamba_num_heads", "mamba_n_heads"}},
      {"mamba_head_dim", {"mamba_head_dim", "mamba_d_head"}},
      {"mamba_n_groups", {"n_groups", "mamba_n_groups"}},
      {"ssm_state_size", {"ssm_state_size", "mamba_d_state"}},
      {"mamba_expand", {"mamba_expand"}},
  };
  return kAliases;
}

ConfigReader::ConfigReader(const HfConfig& config, Diagnostics& diags, FieldAliases aliases)
    : config_(config), diags_(diags), aliases_(std::move(aliases)) {}

std::string ConfigReader::key_of(std::string_view field) const {
  auto it = aliases_.find(field);
  if (it == aliases_.end()) return std::string(field);
  for (const auto& key : it->second) {
    if (config_.find(key) != nullptr) return key;
  }
  return it->second.empty() ? std::string(field) : it->second.front();
}

const nlohmann::json* ConfigReader::raw(std::string_view field) const {
  return config_.find(key_of(field));
}

ConfigValue ConfigReader::convert(const nlohmann::json& value, const std::string& key,
                                  Location location, std::int64_t min, std::int64_t max) {
  auto bad = [&](std::string what) {
    if (std::find(reported_.begin(), reported_.end(), key) == reported_.end()) {
      reported_.push_back(key);
      diags_.report(make_error(
          "config-invalid-field", location,
          fmt::format("{} must be an integer in [{}, {}], got {}", key, min, max, what)));
    }
    return ConfigValue{};
  };
  std::int64_t v = 0;
  if (value.is_number_integer()) {
    if (value.is_number_unsigned() &&
        value.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
      return bad(value.dump());
    }
    v = value.get<std::int64_t>();
  } else if (value.is_number_float()) {
    double d = value.get<double>();
    if (std::isnan(d)) return bad("NaN");
    if (std::isinf(d)) return bad(d > 0 ? "Infinity" : "-Infinity");
    if (d != std::floor(d) || std::fabs(d) > 9.0e15) return bad(value.dump());
    v = static_cast<std::int64_t>(d);
  } else if (value.is_boolean()) {
    return bad(fmt::format("the boolean {}", value.dump()));
  } else if (value.is_string()) {
    return bad(fmt::format("the string {}", value.dump()));
  } else if (value.is_array()) {
    return bad("a list");
  } else if (value.is_object()) {
    return bad("an object");
  } else {
    return bad("null");
  }
  if (v < min || v > max) return bad(std::to_string(v));
  return ConfigValue{v, key, location, true};
}

ConfigValue ConfigReader::integer(std::string_view field, std::string_view needed_by,
                                  std::int64_t min, std::int64_t max) {
  std::string key = key_of(field);
  const nlohmann::json* value = config_.find(key);
  if (value == nullptr) {
    if (!needed_by.empty() &&
        std::find(reported_.begin(), reported_.end(), key) == reported_.end()) {
      reported_.push_back(key);
      auto it = aliases_.find(field);
      std::string tried = key;
      if (it != aliases_.end() && it->second.size() > 1) {
        tried = fmt::format("{} (or {})", it->second.front(),
                            fmt::join(it->second.begin() + 1, it->second.end(), ", "));
      }
      diags_.report(
          make_error("config-missing-field", config_.text_location(),
                     fmt::format("config.json has no {}, which {} needs", tried, needed_by)));
    }
    return ConfigValue{};
  }
  return convert(*value, key, config_.locate(key), min, max);
}

ConfigValue ConfigReader::integer_at(const std::string& pointer, std::string_view label,
                                     std::int64_t min, std::int64_t max) {
  const nlohmann::json& root = config_.doc.value;
  nlohmann::json::json_pointer ptr(pointer);
  if (!root.contains(ptr) || root.at(ptr).is_null()) return ConfigValue{};
  return convert(root.at(ptr), std::string(label), config_.locate_pointer(pointer), min, max);
}

bool ConfigReader::boolean(std::string_view field, bool fallback) {
  std::string key = key_of(field);
  const nlohmann::json* value = config_.find(key);
  if (value == nullptr) return fallback;
  if (!value->is_boolean()) {
    if (std::find(reported_.begin(), reported_.end(), key) == reported_.end()) {
      reported_.push_back(key);
      diags_.report(
          make_error("config-invalid-field", config_.locate(key),
                     fmt::format("{} must be true or false, got {}", key, value->dump())));
    }
    return fallback;
  }
  return value->get<bool>();
}

}  // namespace layerplan
