// The plan as one self-contained HTML page: header, rank groups drawn as SVG (one view per group
// set), the per-layer plan folded into layer ranges, and diagnostics. Inline CSS, SVG and JS only:
// the page fetches nothing. Every string from the manifest is escaped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/diagnostics.h"
#include "lib/report_model.h"

namespace layerplan {

// Larger worlds are drawn in part: one DP replica, else one pipeline stage of it, else the first
// ranks; the page says which and how the rest follows.
inline constexpr std::int64_t kMaxDrawnRanks = 512;
// Groups listed under each view (those with a drawn member), before "and N more".
inline constexpr std::size_t kMaxListedGroups = 64;

struct ReportOptions {
  std::int64_t gpus_per_node = 0;  // > 0: nodes of this many consecutive ranks, over the manifest's
  std::int64_t max_drawn_ranks = kMaxDrawnRanks;
  // The diagnostics of the run that compiled the plan; nullopt when not known (a manifest file
  // does not record them).
  std::optional<std::vector<Diagnostic>> diagnostics;
  bool werror = false;
};

[[nodiscard]] std::string render_report_html(const ReportModel& model,
                                             const ReportOptions& options);

// &, <, >, " and ' as character references.
[[nodiscard]] std::string html_escape(std::string_view text);

// The rank-grid section (lib/report_grid.cc).
[[nodiscard]] std::string render_rank_grid(const ReportModel& model, const ReportOptions& options);

// The embedded stylesheet and script (lib/report_assets/, compiled in).
[[nodiscard]] std::string_view report_css();
[[nodiscard]] std::string_view report_js();

}  // namespace layerplan
