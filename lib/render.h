// Rendering diagnostics: text for people (source line and caret, colour on a terminal) and
// JSON for machines, from the same Diagnostic values.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lib/diagnostics.h"

namespace layerplan {

struct RenderOptions {
  bool color = false;
  bool werror = false;           // warnings are shown as errors
  std::size_t max_subjects = 4;  // layers listed before "and N more"
};

[[nodiscard]] std::string render_text(const std::vector<Diagnostic>& diagnostics,
                                      const RenderOptions& options);
// "2 errors, 1 warning, 3 notes" (empty when there is nothing).
[[nodiscard]] std::string render_summary(const std::vector<Diagnostic>& diagnostics,
                                         const RenderOptions& options);
[[nodiscard]] nlohmann::ordered_json diagnostics_json(const std::vector<Diagnostic>& diagnostics,
                                                      const RenderOptions& options);

}  // namespace layerplan
