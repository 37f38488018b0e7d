// What every subcommand shares: the input flags, diagnostics output and exit codes.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "base/exit_codes.h"
#include "cli/help.h"
#include "lib/pipeline.h"
#include "lib/render.h"
#include "lib/report.h"

namespace layerplan::cli {

// Exit codes: base/exit_codes.h (kExitOk, kExitInvalid, kExitUsage, kExitSmokeFailed,
// kExitSmokeError), shared with smoke/.

struct InputFlags {
  std::string config;
  std::string rules;
  std::string vllm_args;           // a vLLM launch line instead of --rules
  std::int64_t gpus_per_node = 0;  // 0: not given
  std::vector<std::string> arch_files;
  bool allow_unverified = false;
  bool werror = false;
  std::string format = "text";  // text | json
  std::string color = "auto";   // auto | always | never
  // Set before add_input_flags: whether --config (and --rules) must be given, and the formats
  // --format accepts (check takes more, and names its model and rules in other ways too).
  bool inputs_required = true;
  std::vector<std::string> formats = {"text", "json"};
  // Values --format accepts without listing them, kept for one release (apply_deprecated_format).
  std::vector<std::string> deprecated_formats;
};

// Adds --config, and --rules or --vllm-args (and --gpus-per-node) when `with_rules`, plus the
// shared flags (--arch-file and the diagnostics flags).
void add_input_flags(CLI::App& app, InputFlags& flags, bool with_rules);
// Adds --format (the diagnostics format: one of flags.formats) and --color.
void add_diagnostics_flags(CLI::App& app, InputFlags& flags);
// --emit FORMAT: the format of the command's product on stdout, one of `choices` (the first is
// the default, stored in `emit` now). --format always selects the diagnostics format.
CLI::Option* add_emit_option(CLI::App& app, std::string& emit,
                             const std::vector<std::string>& choices, const std::string& what);
// Until the next release, `--format X` without --emit, X one of the product formats `choices`
// other than the default, still selects the product as it did before --emit: it sets `emit` to
// X and says on `err` that the spelling is deprecated. A value --format keeps only for this
// (diff's `markdown`) leaves the diagnostics as text. Call first thing in the callback.
void apply_deprecated_format(const CLI::App& app, const std::string& command, std::string& format,
                             std::string& emit, const std::vector<std::string>& choices,
                             std::ostream& err);

// What CLI11 cannot say: exactly one of --rules and --vllm-args, and --config with --rules.
// Prints the usage error and throws CLI::RuntimeError(kExitUsage).
void require_plan_inputs(const InputFlags& flags, const std::string& command);

[[nodiscard]] CompileRequest make_request(const InputFlags& flags);
// --config and --rules as the manifest records them: relative to the working directory.
[[nodiscard]] ManifestInputs manifest_inputs(const InputFlags& flags);
[[nodiscard]] RenderOptions render_options(const InputFlags& flags, bool to_terminal);

// Prints sorted diagnostics (text, or JSON with `valid`) to `err`.
void print_diagnostics(const std::vector<Diagnostic>& sorted, bool valid, const InputFlags& flags,
                       std::ostream& err, bool err_is_terminal);
// Prints the diagnostics (text or JSON) to `err`; returns the exit code of the compilation.
int report_diagnostics(const Compilation& c, const InputFlags& flags, std::ostream& err,
                       bool err_is_terminal);
[[nodiscard]] int exit_code_of(const Compilation& c, bool werror);
// Where HuggingFace model ids are looked up: $HF_HUB_CACHE, $HF_HOME, $HOME.
[[nodiscard]] HfCacheEnv hf_cache_env();

// --gpus-per-node N (1 to 2^24), for drawing the report's nodes.
void add_gpus_per_node(CLI::App& app, std::int64_t& value, const char* what);
// Writes the report to `output` atomically, or prints why there is none; returns the exit code.
[[nodiscard]] int write_report(const ReportResult& result, const std::string& output,
                               const InputFlags& flags);

// Runs `body` (all of main) and returns its exit code. An exception that escapes it becomes
// "layerplan: internal error: ..." on `err` and kExitUsage, never std::terminate.
[[nodiscard]] int run_guarded(const std::function<int()>& body, std::ostream& err) noexcept;

// Subcommand registration: one per file.
void register_check(CLI::App& app);
void register_compile(CLI::App& app);
void register_diff(CLI::App& app);
void register_explain(CLI::App& app);
void register_layers(CLI::App& app);
void register_report(CLI::App& app);
void register_smoke(CLI::App& app);
void register_suggest(CLI::App& app);

}  // namespace layerplan::cli
