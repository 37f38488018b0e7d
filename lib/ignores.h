// Ignoring diagnostics: by code (`check --ignore CODE`, `ignore:` in .layerplan.yaml) and inline,
// with a `# layerplan: ignore=CODE[,CODE...]` comment in a rules file. An inline comment covers
// its own line and every following line indented deeper than that line's first key or `-`, so
// on a rule's `- name:` line it covers the whole rule, and on `plan:` the whole plan.
#pragma once

#include <string>
#include <vector>

#include "lib/diagnostics.h"

namespace layerplan {

struct InlineIgnore {
  int first_line = 0, last_line = 0;  // 1-based, inclusive
  std::vector<std::string> codes;
  Location location;  // of the comment
};

// The inline ignores of a file. Codes that are not in the catalogue are reported as
// ignore-unknown-code warnings (with a "did you mean") and left out.
[[nodiscard]] std::vector<InlineIgnore> inline_ignores(const SourcePtr& file, Diagnostics& diags);

// `diagnostics` without those whose code is in `codes`, or that point into `file` inside an
// inline ignore of their code.
[[nodiscard]] std::vector<Diagnostic> apply_ignores(std::vector<Diagnostic> diagnostics,
                                                    const std::vector<std::string>& codes,
                                                    const SourcePtr& file,
                                                    const std::vector<InlineIgnore>& inline_list);

// Empty when `code` is in the catalogue; else why not, with a "did you mean".
[[nodiscard]] std::string unknown_code_message(std::string_view code);

}  // namespace layerplan
