#include "cli/common.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <new>

namespace layerplan::cli {

void add_input_flags(CLI::App& app, InputFlags& flags, bool with_rules) {
  CLI::Option* config =
      app.add_option("--config", flags.config,
                     "the model: a HuggingFace config.json, a directory holding one, or a model id "
                     "org/name[@revision] found in the local HuggingFace cache");
  if (!with_rules) config->required(flags.inputs_required);
  if (with_rules) {
    CLI::Option* rules = app.add_option("--rules", flags.rules, "parallelism_rules YAML file");
    CLI::Option* vllm = app.add_option(
        "--vllm-args", flags.vllm_args,
        "a vLLM launch line instead of --rules: `vllm serve MODEL -tp 8 …` or its flags alone "
        "(MODEL, a path or an HF model id in the local cache, stands for --config)");
    rules->excludes(vllm);
    app.add_option("--gpus-per-node", flags.gpus_per_node,
                   "GPUs a node: lists the ranks of each node and warns about groups that span "
                   "nodes")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 20));
    app.add_flag("--allow-unverified", flags.allow_unverified,
                 "on architectures not verified for per-layer policy, report deviating plans as "
                 "warnings instead of errors");
    app.add_flag("--werror", flags.werror, "treat warnings as errors");
  }
  app.add_option("--arch-file", flags.arch_files,
                 "extra architecture declaration (YAML); may be repeated");
  add_diagnostics_flags(app, flags);
}

void add_diagnostics_flags(CLI::App& app, InputFlags& flags) {
  CLI::Option* format = app.add_option("--format", flags.format, "diagnostics format");
  if (flags.deprecated_formats.empty()) {
    format->check(CLI::IsMember(flags.formats));
  } else {
    // Accepted, but not offered in --help or the completions.
    std::vector<std::string> accepted = flags.formats;
    accepted.insert(accepted.end(), flags.deprecated_formats.begin(),
                    flags.deprecated_formats.end());
    std::string listed = "{";
    for (const auto& f : flags.formats) listed += (listed.size() > 1 ? "," : "") + f;
    listed += "}";
    format->check(CLI::Validator(
        [accepted, listed](std::string& value) {
          bool known = std::find(accepted.begin(), accepted.end(), value) != accepted.end();
          return known ? std::string() : value + " not in " + listed;
        },
        listed));
  }
  app.add_option("--color", flags.color, "colour diagnostics")
      ->check(CLI::IsMember({"auto", "always", "never"}));
}

CLI::Option* add_emit_option(CLI::App& app, std::string& emit,
                             const std::vector<std::string>& choices, const std::string& what) {
  emit = choices.front();
  return app.add_option("--emit", emit, what)->check(CLI::IsMember(choices))->capture_default_str();
}

void apply_deprecated_format(const CLI::App& app, const std::string& command, std::string& format,
                             std::string& emit, const std::vector<std::string>& choices,
                             std::ostream& err) {
  if (app.count("--format") == 0) return;
  bool product = std::find(choices.begin() + 1, choices.end(), format) != choices.end();
  if (app.count("--emit") == 0 && product) {
    err << "layerplan " << command << ": warning: --format " << format
        << " selects the diagnostics format only in the next release; use --emit " << format
        << " for the output"
        << (format == "json" ? " (with --format json for JSON diagnostics)" : "") << "\n";
    emit = format;
  }
  if (format != "text" && format != "json") {
    if (app.count("--emit") > 0) {
      err << "layerplan " << command << ": warning: --format " << format
          << " is not a diagnostics format; ignored, --emit chooses the output\n";
    }
    format = "text";
  }
}

void require_plan_inputs(const InputFlags& flags, const std::string& command) {
  const char* problem = nullptr;
  if (flags.rules.empty() == flags.vllm_args.empty())
    problem = "give --rules FILE or --vllm-args \"…\"";
  else if (!flags.rules.empty() && flags.config.empty())
    problem = "--rules needs --config";
  if (problem == nullptr) return;
  std::cerr << "layerplan " << command << ": error: " << problem << "\n";
  throw CLI::RuntimeError(kExitUsage);
}

CompileRequest make_request(const InputFlags& flags) {
  CompileRequest request;
  request.config_path = flags.config;
  request.hf = hf_cache_env();
  request.rules_path = flags.rules;
  request.vllm_args = flags.vllm_args;
  if (flags.gpus_per_node > 0) request.nodes.gpus_per_node = flags.gpus_per_node;
  request.arch_files = flags.arch_files;
  request.checks.allow_unverified = flags.allow_unverified;
  return request;
}

ManifestInputs manifest_inputs(const InputFlags& flags) {
  std::error_code ec;
  std::string cwd = std::filesystem::current_path(ec).string();
  return ManifestInputs{recorded_path(flags.config, cwd), recorded_path(flags.rules, cwd)};
}

RenderOptions render_options(const InputFlags& flags, bool to_terminal) {
  RenderOptions o;
  o.werror = flags.werror;
  // https://no-color.org: a non-empty NO_COLOR turns colour off unless asked for explicitly.
  const char* no_color = std::getenv("NO_COLOR");
  bool color_off = no_color != nullptr && *no_color != '\0';
  o.color = flags.color == "always" || (flags.color == "auto" && to_terminal && !color_off);
  return o;
}

HfCacheEnv hf_cache_env() {
  auto get = [](const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr ? std::string(v) : std::string();
  };
  return HfCacheEnv{get("HF_HUB_CACHE"), get("HF_HOME"), get("HOME")};
}

int exit_code_of(const Compilation& c, bool werror) {
  if (c.input_unreadable()) return kExitUsage;
  return c.failed(werror) ? kExitInvalid : kExitOk;
}

void print_diagnostics(const std::vector<Diagnostic>& sorted, bool valid, const InputFlags& flags,
                       std::ostream& err, bool err_is_terminal) {
  RenderOptions o = render_options(flags, err_is_terminal);
  if (flags.format == "json") {
    nlohmann::ordered_json j;
    j["valid"] = valid;
    j["diagnostics"] = diagnostics_json(sorted, o);
    err << dump_json(j) << "\n";
  } else {
    err << render_text(sorted, o);
    std::string summary = render_summary(sorted, o);
    if (!summary.empty()) err << summary << " generated.\n";
  }
}

int report_diagnostics(const Compilation& c, const InputFlags& flags, std::ostream& err,
                       bool err_is_terminal) {
  print_diagnostics(c.diags.sorted(), !c.failed(flags.werror), flags, err, err_is_terminal);
  return exit_code_of(c, flags.werror);
}

int run_guarded(const std::function<int()>& body, std::ostream& err) noexcept {
  // The handlers only stream fixed text and what(): nothing in them allocates and throws again.
  try {
    return body();
  } catch (const std::bad_alloc&) {
    err << "layerplan: internal error: out of memory\n";
  } catch (const std::exception& e) {
    err << "layerplan: internal error: " << e.what() << "\n";
  } catch (...) {
    err << "layerplan: internal error: an unknown exception\n";
  }
  return kExitUsage;
}

}  // namespace layerplan::cli
