#include <fmt/format.h>

#include "lib/output/formats.h"

namespace layerplan {

std::string render_report_text(const BatchReport& report, const RenderOptions& options) {
  std::string out;
  for (const auto& file : report.files) {
    out += render_text(file.diagnostics, options);
    std::string counts = render_summary(file.diagnostics, options);
    if (!counts.empty()) out += counts + " generated.\n";
    out += fmt::format("{}: {}{}\n", file.path, verdict_name(file.verdict),
                       file.summary.empty() ? "" : ": " + file.summary);
  }
  out += report.summary_line() + "\n";
  return out;
}

}  // namespace layerplan
