// The built-in architecture declarations in a compact binary form, so that a run decodes the
// family it needs instead of parsing its YAML: yaml-cpp took more than half of the instructions
// of a whole `check` (docs/benchmarks.md). The build parses every built-in file with
// parse_arch_decls, once, and embeds the encoding (tools/arch_compile.cc); a run decodes it.
// Locations survive: they point into the embedded YAML text, as the parsed ones do.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/architectures.h"

namespace layerplan {

// Every field of `decls`. Their locations must be in `source` (or have no file); returns nothing
// when one is not (a declaration the encoding cannot rebuild).
[[nodiscard]] std::optional<std::string> encode_arch_decls(const std::vector<ArchDecl>& decls,
                                                           const SourcePtr& source);

// The declarations `encode_arch_decls` encoded, their locations in `source`. Nothing when `data`
// is not such an encoding (truncated, or trailing bytes).
[[nodiscard]] std::optional<std::vector<ArchDecl>> decode_arch_decls(std::string_view data,
                                                                     const SourcePtr& source);

}  // namespace layerplan
