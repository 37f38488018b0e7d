#include "lib/report.h"

#include "lib/manifest_file.h"

namespace layerplan {
namespace {

std::optional<std::string> render(const nlohmann::ordered_json& manifest, const SourcePtr& file,
                                  const ReportOptions& options, Diagnostics& diags) {
  std::vector<ManifestProblem> problems;
  auto model = read_report_model(manifest, problems);
  if (!model) {
    report_manifest_problems(problems, file, diags);
    return std::nullopt;
  }
  return render_report_html(*model, options);
}

}  // namespace

ReportResult report_manifest(const ReportRequest& request) {
  ReportResult result;
  auto read = read_manifest_file(request.manifest_path, request.manifest, result.diags,
                                 result.input_unreadable);
  if (!read) return result;
  const SourcePtr& file = read->file;
  const nlohmann::ordered_json& manifest = read->value;
  ReportOptions options = request.options;
  options.diagnostics.reset();
  result.html = render(manifest, file, options, result.diags);
  return result;
}

ReportResult report_compilation(const Compilation& c, const ManifestInputs& inputs,
                                ReportOptions options) {
  ReportResult result;
  options.diagnostics = c.diags.sorted();
  // The groups as formulas (group_layout), not lists: the page draws at most kMaxDrawnRanks
  // ranks, and a manifest value with the lists of a large world would take hundreds of MB.
  ManifestInputs compact = inputs;
  compact.group_lists = false;
  result.html = render(c.manifest(compact), nullptr, options, result.diags);
  return result;
}

}  // namespace layerplan
