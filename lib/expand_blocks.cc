// DeciLM / Llama-Nemotron NAS `block_configs`: one {attention, ffn} object per layer, with no-op
// attention, per-layer KV heads (n_heads_in_group) and per-layer MLP width (ffn_mult).
// Mirrors vLLM nemotron_nas.py (DeciLMDecoderLayer) and HF modeling_decilm.py.
#include <fmt/format.h>

#include <cmath>

#include "lib/expand_internal.h"

namespace layerplan::expand_detail {
namespace {

bool flag(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

// HF _ffn_mult_to_intermediate_size: round_up(int(2 * ffn_mult * hidden / 3), 256), evaluated in
// the same order as Python so the doubles round alike.
std::int64_t ffn_mult_to_width(double ffn_mult, std::int64_t hidden) {
  double width = 2 * ffn_mult * static_cast<double>(hidden) / 3;
  auto n = static_cast<std::int64_t>(width);
  return n % 256 == 0 ? n : n + 256 - n % 256;
}

Diagnostic unsupported(const Location& where, const std::string& pointer, std::string_view what) {
  Diagnostic d = make_error(
      "config-unsupported", where,
      fmt::format("{}/replace_with_linear is true: this layer's {} is one hidden x hidden linear "
                  "map, which vLLM's DeciLM implementation does not build",
                  pointer.substr(1), what));
  d.notes.push_back({{}, "layerplan plans what vLLM runs; it cannot plan this layer"});
  return d;
}

}  // namespace

std::optional<std::vector<SlotEntry>> resolve_block_configs(const LayerSource& source, bool mixer,
                                                            const std::vector<Position>& at,
                                                            int length, SlotContext& ctx) {
  ConfigReader& r = ctx.reader;
  Diagnostics& diags = r.diagnostics();
  const HfConfig& config = r.config();
  std::string key = r.key_of(source.field);
  const nlohmann::json& blocks = *r.raw(source.field);
  if (!blocks.is_array() || static_cast<std::int64_t>(blocks.size()) != length) {
    diags.report(make_error("config-invalid-field", config.locate(key),
                            blocks.is_array()
                                ? fmt::format("{} has {} entries but the model has {} layers", key,
                                              blocks.size(), length)
                                : fmt::format("{} must be a list of per-layer blocks", key)));
    return std::nullopt;
  }
  int errors_before = diags.count(Severity::kError);
  ConfigValue heads = mixer ? r.integer("num_attention_heads", ctx.who) : ConfigValue{};
  ConfigValue hidden = mixer ? ConfigValue{} : r.integer("hidden_size", ctx.who);
  std::vector<SlotEntry> out;
  out.reserve(at.size());
  for (const auto& p : at) {
    std::string base = config.pointer_of(key) + "/" + std::to_string(p.position);
    const nlohmann::json& block = blocks[static_cast<std::size_t>(p.position)];
    const char* half = mixer ? "attention" : "ffn";
    std::string pointer = base + "/" + half;
    SlotEntry e;
    if (!block.is_object() || !block.contains(half) || !block[half].is_object()) {
      diags.report(make_error("config-invalid-field", config.locate_pointer(base),
                              fmt::format("{}[{}] has no '{}' object", key, p.position, half)));
      out.push_back(e);
      continue;
    }
    const nlohmann::json& part = block[half];
    Location where = config.locate_pointer(pointer);
    if (flag(part, "no_op")) {
      e.part = Part::kNone;
    } else if (flag(part, "replace_with_linear")) {
      diags.report(unsupported(where, pointer, half));
    } else if (mixer) {
      e.part = Part::kAttention;
      std::string label = fmt::format("{}[{}].attention.n_heads_in_group", key, p.position);
      ConfigValue group = r.integer_at(pointer + "/n_heads_in_group", label);
      if (!group) {
        diags.report(
            make_error("config-missing-field", where,
                       fmt::format("{} is missing: a layer with attention needs it", label)));
      } else if (heads && heads.value % group.value != 0) {
        diags.report(make_error("config-invalid-field", group.location,
                                fmt::format("{} ({}) does not divide num_attention_heads ({})",
                                            label, group.value, heads.value)));
      } else if (heads) {
        e.kv_heads =
            ConfigValue{heads.value / group.value, fmt::format("num_attention_heads / {}", label),
                        group.location, true};
      }
      e.sliding_window =
          r.integer_at(pointer + "/window_length",
                       fmt::format("{}[{}].attention.window_length", key, p.position));
      if (e.sliding_window) e.part = Part::kSlidingAttention;
    } else {
      e.part = Part::kMlp;
      std::string label = fmt::format("{}[{}].ffn", key, p.position);
      e.intermediate = r.integer_at(pointer + "/intermediate_size", label + ".intermediate_size");
      auto mult = part.find("ffn_mult");
      if (!e.intermediate && mult != part.end() && mult->is_number() && hidden) {
        double m = mult->get<double>();
        if (!(m > 0) || !std::isfinite(m) || m > 1e6) {
          diags.report(make_error(
              "config-invalid-field", config.locate_pointer(pointer + "/ffn_mult"),
              fmt::format("{}.ffn_mult must be a positive number, got {}", label, mult->dump())));
        } else {
          e.intermediate = ConfigValue{
              ffn_mult_to_width(m, hidden.value),
              fmt::format("{}.ffn_mult {} -> round_up(int(2 * {} * hidden_size / 3), 256)", label,
                          mult->dump(), mult->dump()),
              config.locate_pointer(pointer + "/ffn_mult"), true};
        }
      } else if (!e.intermediate && hidden) {
        diags.report(
            make_error("config-missing-field", where,
                       fmt::format("{} has neither intermediate_size nor ffn_mult", label)));
      }
    }
    out.push_back(e);
  }
  if (diags.count(Severity::kError) != errors_before) return std::nullopt;
  return out;
}

}  // namespace layerplan::expand_detail
