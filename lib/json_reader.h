// A JSON reader for HuggingFace config.json files as Python writes them: accepts the
// non-standard tokens Infinity, -Infinity and NaN, and remembers where every key stands so
// diagnostics can point into the file.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>

#include "lib/diagnostics.h"
#include "lib/source.h"

namespace layerplan {

struct JsonLimits {
  int max_depth = 64;
  std::size_t max_string_bytes = 1u << 20;
  std::size_t max_values = 1u << 18;  // real configs hold a few thousand
  // Every value's position is kept under its JSON pointer, whose length grows with the keys
  // above it: a long key over a long array would otherwise take memory quadratic in the input.
  std::size_t max_pointer_bytes = 1u << 26;  // in total
};

struct JsonDocument {
  SourcePtr file;
  nlohmann::json value;
  // JSON pointer ("/text_config/num_attention_heads") -> position of the key, or of the value
  // for array elements and the root.
  std::unordered_map<std::string, Location> positions;

  // Location of `pointer`, or of its nearest ancestor that has one, or the whole file.
  [[nodiscard]] Location locate(const std::string& pointer) const;
};

// Parses `file`. Reports json-syntax / json-limit errors at their position and returns nothing
// when it did.
[[nodiscard]] std::optional<JsonDocument> parse_json(const SourcePtr& file, Diagnostics& diags,
                                                     const JsonLimits& limits = {});

// Escapes a key for use in a JSON pointer ("~" -> "~0", "/" -> "~1").
[[nodiscard]] std::string json_pointer_escape(std::string_view key);

}  // namespace layerplan
