// The report of `layerplan check` in each output format, all written from the same
// BatchReport (lib/check_batch.h): text for people, JSON for machines, GitHub workflow commands,
// SARIF 2.1.0 for code scanning, and gcc-style lines for editors. One file per format.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "lib/check_batch.h"
#include "lib/render.h"

namespace layerplan {

inline constexpr std::string_view kToolName = "layerplan";
inline constexpr std::string_view kToolUri = "https://github.com/layerplan/layerplan";

// Per file: its diagnostics (source line, caret, notes), "N errors generated.", then
// "PATH: OK: ..." / "PATH: INVALID" / "PATH: unreadable"; at the end the summary line.
[[nodiscard]] std::string render_report_text(const BatchReport& report,
                                             const RenderOptions& options);

// {"tool", "version", "valid", "inputs", "counts", "files": [...], "diagnostics": [...]}.
[[nodiscard]] nlohmann::ordered_json report_json(const BatchReport& report,
                                                 const RenderOptions& options,
                                                 std::string_view version);

// `file:line:col: severity: message [code]`, one line per diagnostic.
[[nodiscard]] std::string render_report_gcc(const BatchReport& report,
                                            const RenderOptions& options);

// GitHub Actions workflow commands: a ::group:: per file holding its text report (workflow
// commands inside it switched off), then ::error/::warning/::notice annotations, at most
// kGithubAnnotationLimit per level (the last one folds the rest), then the summary line.
inline constexpr int kGithubAnnotationLimit = 10;
[[nodiscard]] std::string render_report_github(const BatchReport& report,
                                               const RenderOptions& options);
// GitHub's escaping of a workflow command's message (% CR LF) and of a property value (also : ,).
[[nodiscard]] std::string github_escape_message(std::string_view text);
[[nodiscard]] std::string github_escape_property(std::string_view text);

// SARIF 2.1.0: one run, the diagnostics catalogue as tool.driver.rules, one result per diagnostic.
[[nodiscard]] nlohmann::ordered_json report_sarif(const BatchReport& report,
                                                  const RenderOptions& options,
                                                  std::string_view version);
// A path as a SARIF artifact URI: relative paths percent-encoded, absolute ones as file:// URIs.
[[nodiscard]] std::string sarif_uri(std::string_view path);

}  // namespace layerplan
