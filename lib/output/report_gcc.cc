#include <fmt/format.h>

#include "lib/output/formats.h"

namespace layerplan {
namespace {

// One line per diagnostic: a line break inside untrusted text (a rule's name) would start a
// line that an editor takes for another diagnostic.
std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) out += (c == '\n' || c == '\r') ? ' ' : c;
  return out;
}

}  // namespace

std::string render_report_gcc(const BatchReport& report, const RenderOptions& options) {
  std::string out;
  for (const auto& file : report.files) {
    for (const auto& d : file.diagnostics) {
      Severity s =
          options.werror && d.severity == Severity::kWarning ? Severity::kError : d.severity;
      std::string where = d.location.to_string();
      out += fmt::format("{}: {}: {} [{}]\n", one_line(where.empty() ? kToolName : where),
                         severity_name(s), one_line(d.message), d.code);
    }
  }
  return out;
}

}  // namespace layerplan
