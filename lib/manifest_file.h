// Reading a plan manifest file (`layerplan compile -o`) for the commands that take one
// (`report`, `diff`): read, parse and check it, every problem reported at file:line:col.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "lib/diagnostics.h"
#include "lib/report_model.h"
#include "lib/source.h"

namespace layerplan {

// Manifests list every rank of every set: the largest world layerplan writes is about 45 MB.
inline constexpr std::size_t kMaxManifestBytes = std::size_t{256} << 20;

struct ManifestFile {
  SourcePtr file;
  nlohmann::ordered_json value;
};

// Reads `path` (or uses `given`) and parses it as JSON. Reports input-unreadable (and sets
// `unreadable`) or json-syntax at its position; returns nothing if and only if it reported.
[[nodiscard]] std::optional<ManifestFile> read_manifest_file(const std::string& path,
                                                             const std::optional<SourcePtr>& given,
                                                             Diagnostics& diags, bool& unreadable);

// Each problem of read_report_model as a manifest-invalid error at its position, found by parsing
// the file once more with positions (only for files the positioned reader takes).
void report_manifest_problems(const std::vector<ManifestProblem>& problems, const SourcePtr& file,
                              Diagnostics& diags);

}  // namespace layerplan
