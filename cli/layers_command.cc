// `layerplan layers`: the expanded layer table of a config, no rules needed; given several
// configs (or folders of them), the table of each in one run.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/common.h"
#include "cli/tables.h"

namespace layerplan::cli {

namespace {
struct LayersFlags {
  InputFlags inputs;
  bool all_layers = false;
  std::string emit;                // table | json
  std::vector<std::string> paths;  // configs or folders, after the flags
};
const std::vector<std::string> kLayersEmits = {"table", "json"};

// The configs a path names: a file as it is; a folder holding config.json as itself (as
// --config takes it); another folder as every *.json below it, sorted (hidden folders skipped).
std::vector<std::string> layers_configs_under(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(path, ec) || fs::is_regular_file(fs::path(path) / "config.json", ec)) {
    return {path};
  }
  std::vector<std::string> found;
  fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it->is_directory(ec) && !name.empty() && name[0] == '.') {
      it.disable_recursion_pending();
    } else if (it->path().extension() == ".json" && it->is_regular_file(ec)) {
      found.push_back(it->path().generic_string());
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

// One config's table (text) as `layers` prints it alone.
void print_layers_text(const Model& model, bool all_layers, std::ostream& out) {
  out << layers_table(model, all_layers);
  out << model.layers.size() << " layers: " << model.num_hidden_layers << " decoder layers, "
      << model.num_mtp_layers << " MTP\n";
}

// Several configs: per config a "== PATH ==" header and its table (text), or one JSON array
// of {"path", "valid", "diagnostics", then the keys of `layers --emit json`}. Every config is
// listed; the exit code is the worst of theirs.
int run_layers_batch(const LayersFlags& flags, const std::vector<std::string>& configs) {
  const bool json = flags.emit == "json";
  const bool err_tty = ::isatty(STDERR_FILENO) != 0;
  int worst = kExitOk;
  nlohmann::ordered_json listed = nlohmann::ordered_json::array();
  std::ostringstream text;
  for (std::size_t i = 0; i < configs.size(); ++i) {
    InputFlags inputs = flags.inputs;
    inputs.config = configs[i];
    auto c = compile(make_request(inputs));
    int code = exit_code_of(*c, false);
    if (code == kExitOk && !c->model) code = kExitInvalid;
    worst = std::max(worst, code);
    if (json) {
      nlohmann::ordered_json entry;
      entry["path"] = configs[i];
      entry["valid"] = code == kExitOk;
      entry["diagnostics"] = diagnostics_json(c->diags.sorted(), render_options(inputs, false));
      if (c->model) {
        nlohmann::ordered_json layers = layers_json(*c->model);
        for (auto it = layers.begin(); it != layers.end(); ++it)
          entry[it.key()] = std::move(it.value());
      }
      listed.push_back(std::move(entry));
      continue;
    }
    if (!c->diags.all().empty()) report_diagnostics(*c, inputs, std::cerr, err_tty);
    text << (i ? "\n" : "") << "== " << configs[i] << " ==\n";
    if (c->model) {
      print_layers_text(*c->model, flags.all_layers, text);
    } else {
      text << "no layer table: " << configs[i]
           << (code == kExitUsage ? " cannot be read" : " does not expand")
           << " (see the errors above)\n";
    }
  }
  if (json) {
    std::cout << dump_json(listed) << "\n";
  } else {
    std::cout << text.str();
  }
  return worst;
}
}  // namespace

void register_layers(CLI::App& app) {
  auto flags = std::make_shared<LayersFlags>();
  flags->inputs.inputs_required = false;
  CLI::App* sub = app.add_subcommand("layers", "print the expanded layer table of a config.json");
  set_command_help(*sub, {"0  every config expands into layers\n"
                          "1  one does not (an unknown architecture, a missing field)\n"
                          "2  a usage error or a config that cannot be read",
                          "layerplan layers --config fixtures/models/deepseek_v3.json\n"
                          "layerplan layers fixtures/models"});
  add_input_flags(*sub, flags->inputs, /*with_rules=*/false);
  sub->add_flag("--all-layers", flags->all_layers, "one row per layer, no folding");
  add_emit_option(*sub, flags->emit, kLayersEmits, "the layers as a table or as json");
  sub->add_option("configs", flags->paths,
                  "configs to list in one run, after or instead of --config: config.json files, "
                  "folders holding one, or folders of them (every *.json below, sorted)");
  sub->callback([flags, sub] {
    apply_deprecated_format(*sub, "layers", flags->inputs.format, flags->emit, kLayersEmits,
                            std::cerr);
    if (flags->inputs.config.empty() && flags->paths.empty()) {
      std::cerr << "layerplan layers: error: give --config FILE, or config files and folders\n";
      throw CLI::RuntimeError(kExitUsage);
    }
    if (!flags->paths.empty()) {
      std::vector<std::string> configs;
      if (!flags->inputs.config.empty()) configs.push_back(flags->inputs.config);
      for (const auto& path : flags->paths) {
        auto found = layers_configs_under(path);
        if (found.empty()) {
          std::cerr << "layerplan layers: error: no *.json files under " << path << "\n";
          throw CLI::RuntimeError(kExitUsage);
        }
        configs.insert(configs.end(), found.begin(), found.end());
      }
      throw CLI::RuntimeError(run_layers_batch(*flags, configs));
    }
    auto c = compile(make_request(flags->inputs));
    int code = report_diagnostics(*c, flags->inputs, std::cerr, ::isatty(STDERR_FILENO) != 0);
    if (!c->model) throw CLI::RuntimeError(code == kExitOk ? kExitInvalid : code);
    if (flags->emit == "json") {
      std::cout << dump_json(layers_json(*c->model)) << "\n";
    } else {
      print_layers_text(*c->model, flags->all_layers, std::cout);
    }
    throw CLI::RuntimeError(code);
  });
}

}  // namespace layerplan::cli
