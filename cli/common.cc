#include "cli/common.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <new>

namespace layerplan::cli {

void add_input_flags(CLI::App& app, InputFlags& flags, bool with_rules) {
  app.add_option("--config", flags.config,
                 "the model: a HuggingFace config.json, a directory holding one, or a model id "
                 "org/name[@revision] found in the local HuggingFace cache")
      ->required(flags.inputs_required);
  if (with_rules) {
    app.add_option("--rules", flags.rules, "parallelism_rules YAML file")
        ->required(flags.inputs_required);
    app.add_flag("--allow-unverified", flags.allow_unverified,
                 "on architectures not verified for per-layer policy, report deviating plans as "
                 "warnings instead of errors");
    app.add_flag("--werror", flags.werror, "treat warnings as errors");
  }
  app.add_option("--arch-file", flags.arch_files,
                 "extra architecture declaration (YAML); may be repeated");
  app.add_option("--format", flags.format, "diagnostics format")
      ->check(CLI::IsMember(flags.formats));
  app.add_option("--color", flags.color, "colour diagnostics")
      ->check(CLI::IsMember({"auto", "always", "never"}));
}

CompileRequest make_request(const InputFlags& flags) {
  CompileRequest request;
  request.config_path = flags.config;
  request.hf = hf_cache_env();
  request.rules_path = flags.rules;
  request.arch_files = flags.arch_files;
  request.checks.allow_unverified = flags.allow_unverified;
  return request;
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

int report_diagnostics(const Compilation& c, const InputFlags& flags, std::ostream& err,
                       bool err_is_terminal) {
  RenderOptions o = render_options(flags, err_is_terminal);
  auto sorted = c.diags.sorted();
  if (flags.format == "json") {
    nlohmann::ordered_json j;
    j["valid"] = !c.failed(flags.werror);
    j["diagnostics"] = diagnostics_json(sorted, o);
    err << dump_json(j) << "\n";
  } else {
    err << render_text(sorted, o);
    std::string summary = render_summary(sorted, o);
    if (!summary.empty()) err << summary << " generated.\n";
  }
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
