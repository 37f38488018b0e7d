#include "lib/output/formats.h"

namespace layerplan {

nlohmann::ordered_json report_json(const BatchReport& report, const RenderOptions& options,
                                   std::string_view version) {
  using ojson = nlohmann::ordered_json;
  ojson j;
  j["tool"] = kToolName;
  j["version"] = version;
  j["valid"] = report.overall() == Verdict::kOk;
  j["inputs"] = report.inputs;
  j["skipped"] = report.skipped;
  j["counts"] = {{"files", report.files.size()},
                 {"ok", report.count(Verdict::kOk)},
                 {"invalid", report.count(Verdict::kInvalid)},
                 {"unreadable", report.count(Verdict::kUnreadable)},
                 {"errors", report.count(Severity::kError)},
                 {"warnings", report.count(Severity::kWarning)},
                 {"notes", report.count(Severity::kNote)}};
  ojson files = ojson::array();
  ojson all = ojson::array();
  for (const auto& f : report.files) {
    ojson file;
    file["path"] = f.path;
    file["model"] = f.model.empty() ? ojson(nullptr) : ojson(f.model);
    file["model_path"] = f.model_path.empty() ? ojson(nullptr) : ojson(f.model_path);
    file["verdict"] = verdict_name(f.verdict);
    file["summary"] = f.summary.empty() ? ojson(nullptr) : ojson(f.summary);
    file["diagnostics"] = diagnostics_json(f.diagnostics, options);
    for (const auto& d : file["diagnostics"]) all.push_back(d);
    files.push_back(std::move(file));
  }
  j["files"] = std::move(files);
  j["diagnostics"] = std::move(all);  // every file's, in order: what a one-file caller reads
  return j;
}

}  // namespace layerplan
