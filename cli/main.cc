// layerplan: plan compiler and validator for per-layer parallelism in LLM inference.
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/common.h"
#include "cli/help.h"
#include "lib/diagnostics.h"

namespace {

const std::vector<std::string> kCommands = {"check", "compile", "diff", "explain", "help", "layers", "report", "smoke", "suggest"};

// Catches a mistyped subcommand before CLI11 does, to suggest the right one.
bool unknown_command(int argc, char** argv) {
  if (argc < 2) return false;
  std::string first = argv[1];
  if (first.empty() || first[0] == '-') return false;
  for (const auto& c : kCommands) {
    if (c == first) return false;
  }
  std::string hint = layerplan::closest_match(first, kCommands);
  std::cerr << "layerplan: error: unknown command '" << first << "'";
  if (!hint.empty()) std::cerr << "; did you mean '" << hint << "'?";
  std::cerr << "\nrun 'layerplan --help' for the list of commands\n";
  return true;
}

int run(int argc, char** argv) {
  if (unknown_command(argc, argv)) return layerplan::kExitUsage;
  CLI::App app{"layerplan: checks and compiles per-layer parallelism plans for LLM inference",
               "layerplan"};
  app.set_version_flag("-V,--version", std::string("layerplan ") + LAYERPLAN_VERSION);
  app.require_subcommand(1);
  app.formatter(layerplan::cli::make_formatter());
  app.option_defaults()->always_capture_default();
  layerplan::cli::set_command_help(
      app, {"0  valid (warnings allowed unless --werror); diff: the same plan\n"
            "1  invalid: an error in the plan, the rules or the config; diff: the plans differ\n"
            "2  usage error, an input that cannot be read, or an output that cannot be written\n"
            "3  smoke: a group's membership or data was wrong, or bandwidth below --min-busbw\n"
            "4  smoke: CUDA/NCCL error or timeout",
            "layerplan check --config fixtures/models/llama3_8b.json fixtures/rules\n"
            "layerplan help check"});
  layerplan::cli::register_check(app);
  layerplan::cli::register_compile(app);
  layerplan::cli::register_diff(app);
  layerplan::cli::register_explain(app);
  layerplan::cli::register_help(app);
  layerplan::cli::register_layers(app);
  layerplan::cli::register_report(app);
  layerplan::cli::register_smoke(app);
  layerplan::cli::register_suggest(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // the subcommand's own exit code
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return layerplan::kExitUsage;
  }
  return layerplan::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  return layerplan::cli::run_guarded([&] { return run(argc, argv); }, std::cerr);
}
