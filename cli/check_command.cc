// `layerplan check`: every invariant of a (config, rules) pair, all errors in one run.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "cli/common.h"

namespace layerplan::cli {

void register_check(CLI::App& app) {
  auto flags = std::make_shared<InputFlags>();
  CLI::App* sub = app.add_subcommand("check", "check a parallelism_rules file against a model");
  add_input_flags(*sub, *flags, /*with_rules=*/true);
  sub->callback([flags] {
    require_plan_inputs(*flags, "check");
    auto c = compile(make_request(*flags));
    bool terminal = ::isatty(STDOUT_FILENO) != 0;
    int code = exit_code_of(*c, flags->werror);
    if (flags->format == "json") {
      report_diagnostics(*c, *flags, std::cout, terminal);
    } else {
      report_diagnostics(*c, *flags, std::cout, terminal);
      if (code == kExitOk && c->model) {
        std::cout << "OK: " << (c->model->architecture.empty() ? c->model->model_type : c->model->architecture)
                  << ", " << c->plans.size() << " layers, world size " << c->axes.world_size
                  << "\n";
      } else {
        std::cout << "INVALID\n";
      }
    }
    throw CLI::RuntimeError(code);
  });
}

}  // namespace layerplan::cli
