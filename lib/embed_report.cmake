# Writes OUTPUT: a C++ source returning the report's stylesheet (CSS) and script (JS) as text.
file(READ ${CSS} css)
file(READ ${JS} js)
file(WRITE ${OUTPUT}.tmp
"// Generated from lib/report_assets/. Do not edit.
#include <string_view>

namespace layerplan {
std::string_view report_css() {
  static constexpr std::string_view kCss = R\"layerplan_asset(${css})layerplan_asset\";
  return kCss;
}
std::string_view report_js() {
  static constexpr std::string_view kJs = R\"layerplan_asset(${js})layerplan_asset\";
  return kJs;
}
}  // namespace layerplan
")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
