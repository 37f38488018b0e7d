#include "lib/report.h"

#include <fmt/format.h>

#include "lib/json_reader.h"

namespace layerplan {
namespace {

// Each problem as a manifest-invalid error at its position, found by parsing the file once more
// with positions (only when there are problems, and only for files the positioned reader takes).
void report_problems(const std::vector<ManifestProblem>& problems, const SourcePtr& file,
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

std::optional<std::string> render(const nlohmann::ordered_json& manifest, const SourcePtr& file,
                                  const ReportOptions& options, Diagnostics& diags) {
  std::vector<ManifestProblem> problems;
  auto model = read_report_model(manifest, problems);
  if (!model) {
    report_problems(problems, file, diags);
    return std::nullopt;
  }
  return render_report_html(*model, options);
}

}  // namespace

ReportResult report_manifest(const ReportRequest& request) {
  ReportResult result;
  SourcePtr file;
  if (request.manifest) {
    file = *request.manifest;
  } else {
    ReadError error;
    auto read = read_source(request.manifest_path, error, kMaxManifestBytes);
    if (!read) {
      result.diags.report(make_error("input-unreadable", Location{},
                                     fmt::format("cannot read manifest {}: {}", request.manifest_path,
                                                 error.message)));
      result.input_unreadable = true;
      return result;
    }
    file = *read;
  }
  nlohmann::ordered_json manifest;
  try {
    manifest = nlohmann::ordered_json::parse(file->text);
  } catch (const nlohmann::json::parse_error& e) {
    // The positioned reader says where and why; nlohmann's byte offset is the fallback.
    Diagnostics located;
    if (file->text.size() <= kMaxInputBytes && !parse_json(file, located)) {
      for (const auto& d : located.all()) result.diags.report(d);
    } else {
      auto [line, column] = file->position_of(e.byte > 0 ? e.byte - 1 : 0);
      result.diags.report(make_error("json-syntax", Location{file, line, column},
                                     "the manifest is not valid JSON"));
    }
    return result;
  } catch (const nlohmann::json::exception& e) {
    // A number out of a double's range (1e400) is out_of_range, not parse_error.
    result.diags.report(make_error("json-syntax", Location{file, 0, 0},
                                   fmt::format("the manifest is not valid JSON: {}", e.what())));
    return result;
  }
  ReportOptions options = request.options;
  options.diagnostics.reset();
  result.html = render(manifest, file, options, result.diags);
  return result;
}

ReportResult report_compilation(const Compilation& c, const ManifestInputs& inputs,
                                ReportOptions options) {
  ReportResult result;
  options.diagnostics = c.diags.sorted();
  result.html = render(c.manifest(inputs), nullptr, options, result.diags);
  return result;
}

}  // namespace layerplan
