// layerplan: plan compiler and validator for per-layer parallelism in LLM inference.
#include <CLI/CLI.hpp>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "cli/common.h"
#include "cli/help.h"
#include "lib/diagnostics.h"

namespace {

const std::vector<std::string> kCommands = {"check",  "compile", "diff",  "explain", "help",
                                            "layers", "report",  "smoke", "suggest"};

// The subcommands, registered in kCommands' order.
using RegisterCommand = void (*)(CLI::App&);
const RegisterCommand kRegisterCommands[] = {
    layerplan::cli::register_check,  layerplan::cli::register_compile,
    layerplan::cli::register_diff,   layerplan::cli::register_explain,
    layerplan::cli::register_help,   layerplan::cli::register_layers,
    layerplan::cli::register_report, layerplan::cli::register_smoke,
    layerplan::cli::register_suggest};
static_assert(std::size(kRegisterCommands) == 9, "one register function per entry of kCommands");

// Builds only what this run can reach, since every subcommand's options and help cost start-up
// time: the named subcommand alone, none for --version, all of them for help and mistakes.
void register_commands(CLI::App& app, int argc, char** argv) {
  std::string first = argc > 1 ? argv[1] : "";
  if (argc == 2 && (first == "-V" || first == "--version")) return;
  for (std::size_t i = 0; i < kCommands.size(); ++i) {
    if (kCommands[i] == first && first != "help") {
      kRegisterCommands[i](app);
      return;
    }
  }
  for (RegisterCommand register_command : kRegisterCommands) register_command(app);
}

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
  register_commands(app, argc, argv);
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
