// `layerplan compile`: the per-layer plan manifest, written atomically.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "cli/common.h"
#include "cli/memory_flags.h"
#include "cli/tables.h"
#include "lib/atomic_file.h"

namespace layerplan::cli {

namespace {
struct CompileFlags {
  InputFlags inputs;
  std::string output;
  bool all_layers = false;
  bool groups = false;
  MemoryFlags memory;
};
}  // namespace

void register_compile(CLI::App& app) {
  auto flags = std::make_shared<CompileFlags>();
  CLI::App* sub = app.add_subcommand(
      "compile", "compile the per-layer plan; prints it as a table, writes the manifest with -o");
  add_input_flags(*sub, flags->inputs, /*with_rules=*/true);
  sub->add_option("-o,--output", flags->output,
                  "write the JSON manifest to FILE (atomically), or to stdout with '-'");
  sub->add_flag("--all-layers", flags->all_layers, "one table row per layer, no folding");
  sub->add_flag("--groups", flags->groups, "also print the rank groups of every axis");
  add_memory_flags(*sub, flags->memory);
  sub->callback([flags] {
    CompileRequest request = make_request(flags->inputs);
    request.fit = fit_request(flags->memory);
    auto c = compile(request);
    int code = report_diagnostics(*c, flags->inputs, std::cerr, ::isatty(STDERR_FILENO) != 0);
    if (code != kExitOk || !c->layout) throw CLI::RuntimeError(code == kExitOk ? kExitInvalid : code);
    ManifestInputs inputs{flags->inputs.config, flags->inputs.rules};
    if (flags->output == "-") {
      std::cout << dump_json(c->manifest(inputs)) << "\n" << std::flush;
      if (!std::cout) {  // a full disk or a closed pipe: the manifest is incomplete
        std::cerr << "layerplan: error: cannot write the manifest to standard output\n";
        throw CLI::RuntimeError(kExitUsage);
      }
      throw CLI::RuntimeError(kExitOk);
    }
    if (!flags->output.empty()) {
      if (auto error = write_file_atomically(flags->output, dump_json(c->manifest(inputs)) + "\n")) {
        std::cerr << "layerplan: error: " << *error << "\n";
        throw CLI::RuntimeError(kExitUsage);
      }
    }
    std::cout << plan_table(*c, flags->all_layers);
    if (flags->groups) std::cout << "\n" << groups_table(*c->layout, 8);
    if (c->memory) std::cout << memory_summary(*c->memory, c->fit ? &*c->fit : nullptr);
    std::cout << "world size " << c->axes.world_size;
    if (!flags->output.empty()) std::cout << "; manifest written to " << flags->output;
    std::cout << "\n";
    throw CLI::RuntimeError(kExitOk);
  });
}

}  // namespace layerplan::cli
