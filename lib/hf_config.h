// HuggingFace config.json: locating the file, the language-model part of multimodal wrappers
// (`text_config`), and reading positioned, validated numbers out of it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lib/diagnostics.h"
#include "lib/json_reader.h"
#include "lib/model.h"

namespace layerplan {

struct HfConfig {
  JsonDocument doc;
  std::string text_pointer;  // "" or "/text_config": where the language-model fields live
  std::string architecture;  // architectures[0], or "" when absent
  std::string model_type;    // of the text config when it has one, else top level

  [[nodiscard]] const nlohmann::json& text() const;
  // The value of `key` in the text config (falling back to the top level), or null.
  [[nodiscard]] const nlohmann::json* find(std::string_view key) const;
  [[nodiscard]] std::string pointer_of(std::string_view key) const;
  [[nodiscard]] Location locate(std::string_view key) const;
  [[nodiscard]] Location locate_pointer(const std::string& pointer) const {
    return doc.locate(pointer);
  }
  [[nodiscard]] Location text_location() const { return doc.locate(text_pointer); }
};

// `path` is a config.json or a directory holding one.
[[nodiscard]] std::optional<HfConfig> load_hf_config(const std::string& path, Diagnostics& diags);
[[nodiscard]] std::optional<HfConfig> parse_hf_config(const SourcePtr& file, Diagnostics& diags);

// Canonical field name -> the config keys that may hold it, first present wins.
using FieldAliases = std::map<std::string, std::vector<std::string>, std::less<>>;
[[nodiscard]] const FieldAliases& default_field_aliases();

inline constexpr std::int64_t kMaxLayers = 10000;
// Largest value of any size read from config.json (2^26, 256x the largest real vocabulary or
// context length): products of two of them, as the manifest computes, stay far from 2^63.
inline constexpr std::int64_t kMaxDimension = std::int64_t{1} << 26;

// Reads numbers out of a config, reporting each bad or missing field once.
class ConfigReader {
 public:
  ConfigReader(const HfConfig& config, Diagnostics& diags, FieldAliases aliases);

  // A positive integer (or >= `min`) under the canonical name `field`. Missing: reports
  // config-missing-field when `needed_by` is non-empty, else returns an absent value.
  ConfigValue integer(std::string_view field, std::string_view needed_by = "", std::int64_t min = 1,
                      std::int64_t max = kMaxDimension);
  // An integer at an explicit JSON pointer (per-layer lists); `label` names it in messages.
  ConfigValue integer_at(const std::string& pointer, std::string_view label, std::int64_t min = 1,
                         std::int64_t max = kMaxDimension);
  // true/false field; `fallback` when absent.
  bool boolean(std::string_view field, bool fallback);
  // The raw value of a canonical field, or null when absent (or JSON null).
  [[nodiscard]] const nlohmann::json* raw(std::string_view field) const;
  // The config key that holds `field`, or the first alias when none does.
  [[nodiscard]] std::string key_of(std::string_view field) const;

  const HfConfig& config() const { return config_; }
  Diagnostics& diagnostics() { return diags_; }

 private:
  ConfigValue convert(const nlohmann::json& value, const std::string& key, Location location,
                      std::int64_t min, std::int64_t max);

  const HfConfig& config_;
  Diagnostics& diags_;
  FieldAliases aliases_;
  std::vector<std::string> reported_;
};

}  // namespace layerplan
