// `layerplan check`: every invariant of each rules file against its model, all errors in one
// run; many files give one report, one summary line and one exit code.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/common.h"
#include "lib/check_batch.h"
#include "lib/ignores.h"
#include "lib/manifest.h"
#include "lib/output/formats.h"
#include "lib/project_file.h"

namespace layerplan::cli {
namespace {

struct CheckFlags {
  InputFlags inputs;
  std::vector<std::string> paths;
  std::vector<std::string> ignore;
  bool no_project = false;
  bool skip_non_rules = false;
};

// GitHub Actions sets GITHUB_ACTIONS=true; its format is then the default.
std::string chosen_format(const CheckFlags& flags, bool format_given) {
  const char* actions = std::getenv("GITHUB_ACTIONS");
  if (!format_given && actions != nullptr && std::string_view(actions) == "true") return "github";
  return flags.inputs.format;
}

int run_check(const CheckFlags& flags, bool format_given) {
  for (const auto& code : flags.ignore) {
    if (std::string why = unknown_code_message(code); !why.empty()) {
      std::cerr << "layerplan: error: --ignore: " << why << "\n";
      return kExitUsage;
    }
  }
  std::error_code ec;
  std::string cwd = std::filesystem::current_path(ec).string();
  std::optional<ProjectFile> project;
  if (!flags.no_project) {
    if (std::string path = find_project_file(cwd); !path.empty()) {
      Diagnostics diags;
      project = load_project_file(path, diags);
      if (!project) {
        RenderOptions o = render_options(flags.inputs, ::isatty(STDERR_FILENO) != 0);
        std::cerr << render_text(diags.sorted(), o);
        return kExitUsage;
      }
    }
  }
  BatchRequest request;
  request.paths = flags.paths;
  if (!flags.inputs.rules.empty()) request.rules_files.push_back(flags.inputs.rules);
  request.vllm_args = flags.inputs.vllm_args;
  if (flags.inputs.gpus_per_node > 0) request.nodes.gpus_per_node = flags.inputs.gpus_per_node;
  if (!request.vllm_args.empty() && !request.paths.empty()) {
    std::cerr << "layerplan: error: check takes rules files or --vllm-args, not both\n";
    return kExitUsage;
  }
  if (request.paths.empty() && request.rules_files.empty() && request.vllm_args.empty() &&
      project) {
    for (const auto& p : project->paths) {
      request.paths.push_back(
          (std::filesystem::path(project->dir) / p).lexically_normal().string());
    }
  }
  if (request.paths.empty() && request.rules_files.empty() && request.vllm_args.empty()) {
    std::cerr << "layerplan: error: check needs rules files or directories to check: "
                 "'layerplan check PATH...', '--rules FILE', '--vllm-args \"…\"', or a "
              << kProjectFileName << " with 'paths:' in this directory or above\n";
    return kExitUsage;
  }
  request.stdin_stream = &std::cin;
  request.config = flags.inputs.config;
  request.cwd = cwd;
  request.hf = hf_cache_env();
  request.arch_files = flags.inputs.arch_files;
  request.checks.allow_unverified = flags.inputs.allow_unverified;
  request.ignore = flags.ignore;
  request.project = project ? &*project : nullptr;
  request.werror = flags.inputs.werror;
  request.skip_non_rules = flags.skip_non_rules;
  BatchReport report = check_batch(request);

  RenderOptions o = render_options(flags.inputs, ::isatty(STDOUT_FILENO) != 0);
  std::string format = chosen_format(flags, format_given);
  if (format == "json") {
    std::cout << dump_json(report_json(report, o, LAYERPLAN_VERSION)) << "\n";
  } else if (format == "sarif") {
    std::cout << dump_json(report_sarif(report, o, LAYERPLAN_VERSION)) << "\n";
  } else if (format == "github") {
    std::cout << render_report_github(report, o);
  } else if (format == "gcc") {
    std::cout << render_report_gcc(report, o);
  } else {
    std::cout << render_report_text(report, o);
  }
  switch (report.overall()) {
    case Verdict::kOk:
      return kExitOk;
    case Verdict::kInvalid:
      return kExitInvalid;
    case Verdict::kUnreadable:
      return kExitUsage;
  }
  return kExitUsage;
}

}  // namespace

void register_check(CLI::App& app) {
  auto flags = std::make_shared<CheckFlags>();
  CLI::App* sub = app.add_subcommand(
      "check", "check parallelism_rules files against their models: one report, one exit code");
  set_command_help(*sub, {"0  every file valid (warnings allowed unless --werror)\n"
                          "1  a plan is invalid\n"
                          "2  a file or its model cannot be read, or a usage error",
                          "layerplan check --config fixtures/models/llama3_70b.json "
                          "fixtures/rules/bad_tpa_invariant.yaml"});
  flags->inputs.inputs_required = false;
  flags->inputs.formats = {"text", "json", "github", "sarif", "gcc"};
  add_input_flags(*sub, flags->inputs, /*with_rules=*/true);
  sub->add_option("paths", flags->paths,
                  "rules files, directories (searched for *.yaml/*.yml holding "
                  "parallelism_rules) or - for stdin; none: the paths of .layerplan.yaml");
  sub->add_option("--ignore", flags->ignore, "drop the diagnostics of this code (repeatable)");
  sub->add_flag("--skip-non-rules", flags->skip_non_rules,
                "skip named files that hold no top-level parallelism_rules, as in directories "
                "(for hooks that pass every changed YAML file)");
  sub->add_flag("--no-project", flags->no_project,
                "do not read .layerplan.yaml from this directory or above");
  sub->callback([flags, sub] {
    throw CLI::RuntimeError(run_check(*flags, sub->get_option("--format")->count() > 0));
  });
}

}  // namespace layerplan::cli
