#include "lib/architectures.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace layerplan {

namespace {

constexpr std::array<std::pair<Part, std::string_view>, 8> kParts = {{
    {Part::kNone, "none"},
    {Part::kAttention, "attention"},
    {Part::kFullAttention, "full_attention"},
    {Part::kSlidingAttention, "sliding_attention"},
    {Part::kMamba, "mamba"},
    {Part::kLinearAttention, "linear_attention"},
    {Part::kMlp, "mlp"},
    {Part::kMoe, "moe"},
}};

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  std::size_t at = text.find(from);
  while (at != std::string::npos) {
    text.replace(at, from.size(), to);
    at = text.find(from, at + to.size());
  }
}

}  // namespace

std::string_view part_name(Part part) {
  for (const auto& [p, name] : kParts) {
    if (p == part) return name;
  }
  return "none";
}

std::optional<Part> parse_part(std::string_view name) {
  for (const auto& [p, n] : kParts) {
    if (n == name) return p;
  }
  return std::nullopt;
}

bool is_mixer_part(Part part) {
  return part == Part::kAttention || part == Part::kFullAttention ||
         part == Part::kSlidingAttention || part == Part::kMamba || part == Part::kLinearAttention;
}

bool is_ffn_part(Part part) { return part == Part::kMlp || part == Part::kMoe; }

const std::vector<std::string>& encoding_names() {
  // In the order of enum class Encoding.
  static const std::vector<std::string> kNames = {"uniform",     "list",          "pattern",
                                                  "period",      "interval",      "dense_then_moe",
                                                  "sparse_step", "block_configs", "first_k_dense"};
  return kNames;
}

std::string_view encoding_name(Encoding encoding) {
  return encoding_names()[static_cast<std::size_t>(encoding)];
}

std::string expand_prefix(std::string_view pattern, int index) {
  return format_prefix(pattern, "", index, 0);
}

std::string format_prefix(std::string_view pattern, std::string_view layer_root, int index,
                          int ordinal) {
  std::string out(pattern);
  replace_all(out, "{layer}", layer_root);
  replace_all(out, "{i}", std::to_string(index));
  replace_all(out, "{j}", std::to_string(ordinal));
  return out;
}

std::vector<std::string> ArchDecl::verified_prs(std::string_view architecture) const {
  if (verified_all) return {"unattributed"};
  auto it = verified_by.find(architecture);
  return it == verified_by.end() ? std::vector<std::string>{} : it->second;
}

bool weight_fact_holds(const WeightFact& fact, const HfConfig& config) {
  if (fact.field.empty()) return fact.value;
  const nlohmann::json* v = config.find(fact.field);
  if (!fact.equals.empty()) {
    return v != nullptr && v->is_string() ? v->get<std::string>() == fact.equals : fact.value;
  }
  return v != nullptr && v->is_boolean() ? v->get<bool>() : fact.value;
}

}  // namespace layerplan
