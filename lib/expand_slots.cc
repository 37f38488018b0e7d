// The compact and list encodings of a layer slot: uniform, per-layer list, pattern string,
// period and offset, interval, dense-then-MoE (DeepSeek) and sparse step (Qwen MoE).
#include <fmt/format.h>

#include <algorithm>

#include "lib/expand_internal.h"
#include "lib/source.h"
#include "lib/yaml_source.h"

namespace layerplan::expand_detail {
namespace {

// A period, offset or interval written in the declaration as a number rather than a key.
std::optional<std::int64_t> literal(const std::string& field) {
  auto n = parse_integer(field);
  if (n && *n >= 0 && *n <= kMaxLayers) return n;
  return std::nullopt;
}

bool always_applies(const LayerSource& s) {
  Encoding e = s.encoding;
  return e == Encoding::kUniform || e == Encoding::kDenseThenMoe || e == Encoding::kSparseStep ||
         e == Encoding::kFirstKDense ||
         ((e == Encoding::kPeriod || e == Encoding::kInterval) && literal(s.field));
}

// A period, offset or interval: the declaration's number, or the config key's value.
ConfigValue number(ConfigReader& r, const std::string& field, const std::string& who,
                   std::int64_t min) {
  if (auto n = literal(field)) {
    if (*n < min) return ConfigValue{};
    return derived(*n, fmt::format("{} (from the architecture declaration)", *n));
  }
  return r.integer(field, who, min, kMaxLayers);
}

std::string known_values(const LayerSource& source) {
  std::vector<std::string> keys;
  for (const auto& [key, part] : source.values) keys.push_back(fmt::format("'{}'", key));
  return fmt::format("{}", fmt::join(keys, ", "));
}

// The text of one list element as a declaration's `values` key: strings as they are, integers
// in decimal (MiniMax's attn_type_list holds 0/1).
std::optional<std::string> element_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return std::nullopt;
}

std::optional<std::vector<SlotEntry>> list_or_pattern(const LayerSource& s, std::string_view slot,
                                                      const std::vector<Position>& at, int length,
                                                      SlotContext& ctx) {
  ConfigReader& r = ctx.reader;
  Diagnostics& diags = r.diagnostics();
  std::string key = r.key_of(s.field);
  const nlohmann::json& value = *r.raw(s.field);
  Location where = r.config().locate(key);
  bool pattern = s.encoding == Encoding::kPattern;
  if (pattern ? !value.is_string() : !value.is_array()) {
    diags.report(make_error("config-invalid-field", where,
                            fmt::format("{} must be {}, which {} reads as its {} layer by layer",
                                        key, pattern ? "a string" : "a list", ctx.who, slot)));
    return std::nullopt;
  }
  if (pattern) {
    // A pattern holds one ASCII character per layer; anything else would be miscounted (its
    // length is in bytes) and reported one byte at a time, which is not text.
    const std::string& text = value.get_ref<const std::string&>();
    auto bad = std::find_if(text.begin(), text.end(),
                            [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
    if (bad != text.end()) {
      auto at_byte = static_cast<std::size_t>(bad - text.begin());
      std::size_t n = utf8_sequence_length(text, at_byte);
      std::size_t layer = at_byte;  // every byte before it is ASCII, one layer each
      diags.report(make_error(
          "config-invalid-field", where,
          fmt::format("{} holds the non-ASCII character {} at layer {}; it must be one character "
                      "per layer, each one of: {}",
                      key,
                      n > 0 ? fmt::format("'{}'", text.substr(at_byte, n))
                            : fmt::format("byte 0x{:02X}", static_cast<unsigned char>(*bad)),
                      layer, known_values(s))));
      return std::nullopt;
    }
  }
  std::int64_t size = pattern
                          ? static_cast<std::int64_t>(value.get_ref<const std::string&>().size())
                          : static_cast<std::int64_t>(value.size());
  if (size != length) {
    diags.report(make_error("config-invalid-field", where,
                            fmt::format("{} has {} {} but the model has {} layers", key, size,
                                        pattern ? "characters" : "entries", length)));
    return std::nullopt;
  }
  std::vector<SlotEntry> out;
  out.reserve(at.size());
  bool ok = true;
  for (const auto& p : at) {
    auto u = static_cast<std::size_t>(p.position);
    std::optional<std::string> text =
        pattern ? std::optional<std::string>(std::string(1, value.get_ref<const std::string&>()[u]))
                : element_text(value[u]);
    auto it = text ? s.values.find(*text) : s.values.end();
    if (it == s.values.end()) {
      Location element =
          pattern ? where
                  : r.config().locate_pointer(r.config().pointer_of(key) + "/" + std::to_string(u));
      diags.report(make_error(
          "config-invalid-field", element,
          fmt::format("{}[{}] is {}, which {} does not know; known values: {}", key, u,
                      text ? fmt::format("'{}'", *text) : (pattern ? "?" : value[u].dump()),
                      ctx.who, known_values(s))));
      ok = false;
      continue;
    }
    SlotEntry e;
    e.part = it->second;
    out.push_back(e);
  }
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace

const LayerSource* applicable_source(const std::vector<LayerSource>& sources, std::string_view slot,
                                     SlotContext& ctx) {
  std::vector<std::string> tried;
  for (const auto& s : sources) {
    if (always_applies(s) || ctx.reader.raw(s.field) != nullptr) return &s;
    tried.push_back(ctx.reader.key_of(s.field));
  }
  ctx.reader.diagnostics().report(
      make_error("config-missing-field", ctx.reader.config().text_location(),
                 fmt::format("config.json has none of {}, which {} reads its {} layers from",
                             fmt::join(tried, ", "), ctx.who, slot)));
  return nullptr;
}

std::optional<int> source_length(const LayerSource& s, SlotContext& ctx) {
  if (s.encoding != Encoding::kList && s.encoding != Encoding::kPattern) return std::nullopt;
  const nlohmann::json* v = ctx.reader.raw(s.field);
  if (v == nullptr) return std::nullopt;
  if (v->is_string())
    return static_cast<int>(
        std::min<std::size_t>(v->get_ref<const std::string&>().size(), kMaxLayers));
  if (v->is_array()) return static_cast<int>(std::min<std::size_t>(v->size(), kMaxLayers));
  return std::nullopt;
}

std::optional<std::vector<SlotEntry>> resolve_slot(const LayerSource& s, std::string_view slot,
                                                   const std::vector<Position>& at, int length,
                                                   SlotContext& ctx) {
  ConfigReader& r = ctx.reader;
  Diagnostics& diags = r.diagnostics();
  auto each = [&](auto part_of) {
    std::vector<SlotEntry> out;
    out.reserve(at.size());
    for (const auto& p : at) {
      SlotEntry e;
      e.part = part_of(p.index);
      out.push_back(e);
    }
    return std::optional<std::vector<SlotEntry>>(std::move(out));
  };
  switch (s.encoding) {
    case Encoding::kUniform:
      return each([&](int) { return s.value; });
    case Encoding::kList:
    case Encoding::kPattern:
      return list_or_pattern(s, slot, at, length, ctx);
    case Encoding::kPeriod: {
      ConfigValue period = number(r, s.field, ctx.who, 1);
      ConfigValue offset = number(r, s.offset_field, ctx.who, 0);
      if (!period || !offset) return std::nullopt;
      if (offset.value >= period.value) {
        diags.report(make_error("config-invalid-field", offset.location,
                                fmt::format("{} ({}) must be smaller than {} ({})", offset.key,
                                            offset.value, period.key, period.value)));
        return std::nullopt;
      }
      return each([&](int i) { return i % period.value == offset.value ? s.match : s.other; });
    }
    case Encoding::kInterval: {
      ConfigValue interval = number(r, s.field, ctx.who, 1);
      if (!interval) return std::nullopt;
      return each([&](int i) { return (i + 1) % interval.value == 0 ? s.match : s.other; });
    }
    case Encoding::kDenseThenMoe: {
      ConfigValue experts = r.integer("num_experts", "", 0);
      ConfigValue first = r.integer("first_k_dense_replace", "", 0, kMaxLayers);
      ConfigValue freq = r.integer("moe_layer_freq", "", 1, kMaxLayers);
      std::int64_t k = first ? first.value : 0, f = freq ? freq.value : 1;
      bool moe = experts && experts.value > 0;
      return each([&](int i) { return moe && i >= k && i % f == 0 ? Part::kMoe : Part::kMlp; });
    }
    case Encoding::kFirstKDense: {
      // vllm/model_executor/models/glm4_moe.py::Glm4MoeDecoderLayer.__init__: MoE iff
      // n_routed_experts is set and layer_idx >= first_k_dense_replace; moe_layer_freq unread.
      ConfigValue experts = r.integer("num_experts", "", 0);
      ConfigValue first = r.integer("first_k_dense_replace", "", 0, kMaxLayers);
      std::int64_t k = first ? first.value : 0;
      bool moe = experts && experts.value > 0;
      return each([&](int i) { return moe && i >= k ? Part::kMoe : Part::kMlp; });
    }
    case Encoding::kSparseStep: {
      ConfigValue experts = r.integer("num_experts", "", 0);
      ConfigValue step = r.integer("decoder_sparse_step", "", 1, kMaxLayers);
      std::int64_t n = step ? step.value : 1;
      std::vector<std::int64_t> dense_only;
      if (const nlohmann::json* list = r.raw("mlp_only_layers")) {
        if (!list->is_array() || !std::all_of(list->begin(), list->end(), [](const auto& v) {
              return v.is_number_integer();
            })) {
          diags.report(make_error("config-invalid-field",
                                  r.config().locate(r.key_of("mlp_only_layers")),
                                  "mlp_only_layers must be a list of layer indices"));
          return std::nullopt;
        }
        for (const auto& v : *list) dense_only.push_back(v.get<std::int64_t>());
      }
      bool moe = experts && experts.value > 0;
      return each([&](int i) {
        bool listed = std::find(dense_only.begin(), dense_only.end(), i) != dense_only.end();
        return moe && !listed && (i + 1) % n == 0 ? Part::kMoe : Part::kMlp;
      });
    }
    case Encoding::kBlockConfigs:
      return resolve_block_configs(s, slot == "mixer", at, length, ctx);
  }
  return std::nullopt;
}

void warn_ignored(const std::vector<IgnoredSource>& ignored, const std::vector<SlotEntry>& mixer,
                  const std::vector<SlotEntry>& ffn, const std::vector<Position>& at, int length,
                  SlotContext& scratch, Diagnostics& diags) {
  ConfigReader& r = scratch.reader;
  for (const auto& ig : ignored) {
    const LayerSource& s = ig.source;
    bool present = s.field.empty() ? always_applies(s) : r.raw(s.field) != nullptr;
    if (!present) continue;
    auto would = resolve_slot(s, ig.mixer ? "mixer" : "feed-forward", at, length, scratch);
    if (!would) continue;  // unreadable as well as unread: vLLM does not look at it either
    const std::vector<SlotEntry>& built = ig.mixer ? mixer : ffn;
    std::vector<std::size_t> differ;
    for (std::size_t k = 0; k < built.size() && k < would->size(); ++k) {
      if ((*would)[k].part != built[k].part) differ.push_back(k);
    }
    if (differ.empty()) continue;
    std::string key = s.field.empty() ? std::string(encoding_name(s.encoding)) : r.key_of(s.field);
    std::size_t first = differ.front();
    Diagnostic d = make_warning(
        "config-ignored", s.field.empty() ? r.config().text_location() : r.config().locate(key),
        fmt::format("vLLM does not read {} for {}: by it {} of {} layers would differ from what "
                    "vLLM builds (layer {}: {} by {}, {} in vLLM)",
                    key, scratch.who, differ.size(), built.size(), at[first].index,
                    part_name((*would)[first].part), key, part_name(built[first].part)));
    d.notes.push_back({ig.location, ig.why});
    diags.report(std::move(d));
  }
}

}  // namespace layerplan::expand_detail
