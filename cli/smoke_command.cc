// `layerplan smoke`: the GPU smoke run of a plan (see smoke/). Built without the smoke library,
// the command exists and explains why it cannot run.
#include <iostream>
#include <memory>

#include "cli/common.h"

namespace layerplan::cli {

void register_smoke(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("smoke", "prove the plan's rank groups on GPUs with NCCL");
  sub->allow_extras();
  sub->callback([] {
    std::cerr << "layerplan: error: this build has no smoke run\n";
    throw CLI::RuntimeError(kExitUsage);
  });
}

}  // namespace layerplan::cli
