// Positioned YAML: loading a document with its errors at file:line:col, and the checks every
// YAML input of layerplan shares (nesting and alias limits, duplicate and unknown keys, types).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/diagnostics.h"
#include "lib/source.h"

namespace layerplan {

struct YamlLimits {
  int max_depth = 32;
  std::size_t max_nodes = 100000;  // counted through aliases, so alias bombs stop here
  std::size_t max_scalar_bytes = 4096;
};

// Parses `file`. Reports yaml-syntax / yaml-limit and returns nothing when it did.
[[nodiscard]] std::optional<YAML::Node> load_yaml(const SourcePtr& file, Diagnostics& diags,
                                                  const YamlLimits& limits = {});

// yaml-cpp marks are 0-based; Locations are 1-based.
[[nodiscard]] Location location_of(const SourcePtr& file, const YAML::Node& node);

// Walks a mapping: reports duplicate keys, non-scalar keys and keys not in `allowed` (with a
// "did you mean"), and returns the (key, key node, value node) triples that are allowed.
struct YamlEntry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};
std::vector<YamlEntry> map_entries(const SourcePtr& file, const YAML::Node& map,
                                   std::string_view context,
                                   const std::vector<std::string>& allowed, Diagnostics& diags);

// Reads a positive integer (1 .. max) from a scalar. Reports invalid-value / wrong-type.
[[nodiscard]] std::optional<std::int64_t> read_positive_int(const SourcePtr& file,
                                                            const YAML::Node& node,
                                                            std::string_view what, std::int64_t max,
                                                            Diagnostics& diags);

// Parses a decimal integer scalar exactly (no floats, no hex, no overflow); nullopt otherwise.
[[nodiscard]] std::optional<std::int64_t> parse_integer(std::string_view text);

[[nodiscard]] std::string_view yaml_type_name(const YAML::Node& node);

}  // namespace layerplan
