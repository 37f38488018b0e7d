// `layerplan report` and `compile --emit html`: the HTML report of a manifest, read from a file or
// built from a compilation. Both go through one reader (lib/report_model.h) and one writer
// (lib/report_html.h).
#pragma once

#include <optional>
#include <string>

#include "lib/diagnostics.h"
#include "lib/manifest_file.h"
#include "lib/pipeline.h"
#include "lib/report_html.h"

namespace layerplan {

struct ReportRequest {
  std::string manifest_path;
  std::optional<SourcePtr> manifest;  // given: used instead of reading manifest_path
  ReportOptions options;              // options.diagnostics is ignored: a manifest has none
};

struct ReportResult {
  Diagnostics diags;
  std::optional<std::string> html;  // set if and only if diags holds no error
  bool input_unreadable = false;    // the manifest could not be read at all
};

// Reads a manifest file and writes its report. Problems are reported at file:line:col
// (input-unreadable, json-syntax, manifest-invalid), every one of them.
[[nodiscard]] ReportResult report_manifest(const ReportRequest& request);

// The report of a compilation that checked clean, with its diagnostics.
[[nodiscard]] ReportResult report_compilation(const Compilation& compilation,
                                              const ManifestInputs& inputs, ReportOptions options);

}  // namespace layerplan
