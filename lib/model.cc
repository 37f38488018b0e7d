#include "lib/model.h"

#include <array>

namespace layerplan {
namespace {

constexpr std::array<std::pair<LayerKind, std::string_view>, 9> kKinds = {{
    {LayerKind::kEmbedding, "embedding"},
    {LayerKind::kAttention, "attention"},
    {LayerKind::kMlp, "mlp"},
    {LayerKind::kMoe, "moe"},
    {LayerKind::kMamba, "mamba"},
    {LayerKind::kLinearAttention, "linear_attention"},
    {LayerKind::kIndexer, "indexer"},
    {LayerKind::kMtp, "mtp"},
    {LayerKind::kLmHead, "lm_head"},
}};

constexpr std::array<std::pair<Flavor, std::string_view>, 5> kFlavors = {{
    {Flavor::kNone, "none"},
    {Flavor::kGqa, "gqa"},
    {Flavor::kMha, "mha"},
    {Flavor::kMla, "mla"},
    {Flavor::kSliding, "sliding"},
}};

}  // namespace

std::string_view kind_name(LayerKind kind) {
  for (const auto& [k, name] : kKinds) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<LayerKind> parse_kind(std::string_view name) {
  for (const auto& [k, n] : kKinds) {
    if (n == name) return k;
  }
  return std::nullopt;
}

const std::vector<std::string>& kind_names() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const auto& entry : kKinds) names.emplace_back(entry.second);
    return names;
  }();
  return kNames;
}

std::string_view flavor_name(Flavor flavor) {
  for (const auto& [f, name] : kFlavors) {
    if (f == flavor) return name;
  }
  return "none";
}

std::optional<Flavor> parse_flavor(std::string_view name) {
  for (const auto& [f, n] : kFlavors) {
    if (n == name && f != Flavor::kNone) return f;
  }
  return std::nullopt;
}

const std::vector<std::string>& flavor_names() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const auto& entry : kFlavors) {
      if (entry.first != Flavor::kNone) names.emplace_back(entry.second);
    }
    return names;
  }();
  return kNames;
}

std::string prefix_shape(const Layer& layer, std::string_view placeholder) {
  if (!layer.index) return layer.prefix;
  std::string needle = "." + std::to_string(*layer.index);
  std::size_t at = layer.prefix.find(needle);
  while (at != std::string::npos) {
    std::size_t end = at + needle.size();
    if (end == layer.prefix.size() || layer.prefix[end] == '.') {
      return layer.prefix.substr(0, at) + "." + std::string(placeholder) + layer.prefix.substr(end);
    }
    at = layer.prefix.find(needle, at + 1);
  }
  return layer.prefix;
}

}  // namespace layerplan
