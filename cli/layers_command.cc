// `layerplan layers`: the expanded layer table of a config, no rules needed.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "cli/common.h"
#include "cli/tables.h"

namespace layerplan::cli {

namespace {
struct LayersFlags {
  InputFlags inputs;
  bool all_layers = false;
  std::string emit;  // table | json
};
const std::vector<std::string> kLayersEmits = {"table", "json"};
}  // namespace

void register_layers(CLI::App& app) {
  auto flags = std::make_shared<LayersFlags>();
  CLI::App* sub = app.add_subcommand("layers", "print the expanded layer table of a config.json");
  set_command_help(*sub, {"0  the config expands into layers\n"
                          "1  it does not (an unknown architecture, a missing field)\n"
                          "2  a usage error or a config that cannot be read",
                          "layerplan layers --config fixtures/models/deepseek_v3.json"});
  add_input_flags(*sub, flags->inputs, /*with_rules=*/false);
  sub->add_flag("--all-layers", flags->all_layers, "one row per layer, no folding");
  add_emit_option(*sub, flags->emit, kLayersEmits, "the layers as a table or as json");
  sub->callback([flags, sub] {
    apply_deprecated_format(*sub, "layers", flags->inputs.format, flags->emit, kLayersEmits, std::cerr);
    auto c = compile(make_request(flags->inputs));
    int code = report_diagnostics(*c, flags->inputs, std::cerr, ::isatty(STDERR_FILENO) != 0);
    if (!c->model) throw CLI::RuntimeError(code == kExitOk ? kExitInvalid : code);
    if (flags->emit == "json") {
      std::cout << dump_json(layers_json(*c->model)) << "\n";
    } else {
      std::cout << layers_table(*c->model, flags->all_layers);
      std::cout << c->model->layers.size() << " layers: " << c->model->num_hidden_layers
                << " decoder layers, " << c->model->num_mtp_layers << " MTP\n";
    }
    throw CLI::RuntimeError(code);
  });
}

}  // namespace layerplan::cli
