// What every subcommand shares: the input flags, diagnostics output and exit codes.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "lib/pipeline.h"
#include "lib/render.h"

namespace layerplan::cli {

enum ExitCode : int {
  kExitOk = 0,           // valid (warnings allowed unless --werror)
  kExitInvalid = 1,      // the plan or an input is invalid
  kExitUsage = 2,        // usage error or unreadable input
  kExitSmokeFailed = 3,  // smoke: a group is wrong or bandwidth below the gate
  kExitSmokeError = 4,   // smoke: CUDA/NCCL error or timeout
};

struct InputFlags {
  std::string config;
  std::string rules;
  std::vector<std::string> arch_files;
  bool allow_unverified = false;
  bool werror = false;
  std::string format = "text";  // text | json
  std::string color = "auto";   // auto | always | never
};

// Adds --config (required), and --rules when `with_rules`, plus the shared flags.
void add_input_flags(CLI::App& app, InputFlags& flags, bool with_rules);

[[nodiscard]] CompileRequest make_request(const InputFlags& flags);
[[nodiscard]] RenderOptions render_options(const InputFlags& flags, bool to_terminal);

// Prints the diagnostics (text or JSON) to `err`; returns the exit code of the compilation.
int report_diagnostics(const Compilation& c, const InputFlags& flags, std::ostream& err,
                       bool err_is_terminal);
[[nodiscard]] int exit_code_of(const Compilation& c, bool werror);

// Runs `body` (all of main) and returns its exit code. An exception that escapes it becomes
// "layerplan: internal error: ..." on `err` and kExitUsage, never std::terminate.
[[nodiscard]] int run_guarded(const std::function<int()>& body, std::ostream& err) noexcept;

// Subcommand registration: one per file.
void register_check(CLI::App& app);
void register_compile(CLI::App& app);
void register_explain(CLI::App& app);
void register_layers(CLI::App& app);
void register_smoke(CLI::App& app);
void register_suggest(CLI::App& app);

}  // namespace layerplan::cli
