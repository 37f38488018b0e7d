#include "lib/manifest_file.h"

#include <fmt/format.h>

#include "lib/json_reader.h"

namespace layerplan {

std::optional<ManifestFile> read_manifest_file(const std::string& path,
                                               const std::optional<SourcePtr>& given,
                                               Diagnostics& diags, bool& unreadable) {
  SourcePtr file;
  if (given) {
    file = *given;
  } else {
    ReadError error;
    auto read = read_source(path, error, kMaxManifestBytes);
    if (!read) {
      diags.report(make_error("input-unreadable", Location{},
                              fmt::format("cannot read manifest {}: {}", path, error.message)));
      unreadable = true;
      return std::nullopt;
    }
    file = *read;
  }
  try {
    return ManifestFile{file, nlohmann::ordered_json::parse(file->text)};
  } catch (const nlohmann::json::parse_error& e) {
    // The positioned reader says where and why; nlohmann's byte offset is the fallback.
    Diagnostics located;
    if (file->text.size() <= kMaxInputBytes && !parse_json(file, located)) {
      for (const auto& d : located.all()) diags.report(d);
    } else {
      auto [line, column] = file->position_of(e.byte > 0 ? e.byte - 1 : 0);
      diags.report(make_error("json-syntax", Location{file, line, column},
                              "the manifest is not valid JSON"));
    }
    return std::nullopt;
  } catch (const nlohmann::json::exception& e) {
    // A number out of a double's range (11e308) is out_of_range, not parse_error (found by
    // fuzz_manifest: fixtures/fuzz-regressions/manifest/).
    diags.report(make_error("json-syntax", Location{file, 0, 0},
                            fmt::format("the manifest is not valid JSON: {}", e.what())));
    return std::nullopt;
  }
}

void report_manifest_problems(const std::vector<ManifestProblem>& problems, const SourcePtr& file,
                              Diagnostics& diags) {
  std::optional<JsonDocument> doc;
  if (file && file->text.size() <= kMaxInputBytes) {
    Diagnostics scratch;
    JsonLimits limits;
    limits.max_values = std::size_t{1} << 23;
    limits.max_pointer_bytes = std::size_t{1} << 28;
    doc = parse_json(file, scratch, limits);
  }
  for (const auto& p : problems) {
    Location at = doc ? doc->locate(p.pointer) : Location{file, 0, 0};
    std::string where = p.pointer.empty() ? "" : fmt::format("at {}: ", p.pointer);
    diags.report(make_error("manifest-invalid", at, where + p.message));
  }
}

}  // namespace layerplan
