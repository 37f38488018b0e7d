#include "test_util.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace layerplan::test {

std::unique_ptr<Compilation> compile_text(const std::string& config_json,
                                          const std::string& rules_yaml, CheckOptions options) {
  return compile_with_arch(config_json, rules_yaml, {}, options);
}

std::unique_ptr<Compilation> compile_with_arch(const std::string& config_json,
                                               const std::string& rules_yaml,
                                               std::vector<std::string> arch_files,
                                               CheckOptions options) {
  CompileRequest request;
  request.config_path = "config.json";
  request.config = make_source("config.json", config_json);
  if (!rules_yaml.empty()) {
    request.rules_path = "rules.yaml";
    request.rules = make_source("rules.yaml", rules_yaml);
  }
  request.arch_files = std::move(arch_files);
  request.checks = options;
  return compile(request);
}

std::string fixture(const std::string& relative_path) {
  std::ifstream in(std::string(LAYERPLAN_SOURCE_DIR) + "/" + relative_path, std::ios::binary);
  if (!in) throw std::runtime_error("missing fixture " + relative_path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> codes(const Compilation& c) {
  std::vector<std::string> out;
  for (const auto& d : c.diags.all()) out.push_back(d.code);
  return out;
}

bool has_code(const Compilation& c, const std::string& code) {
  return find_code(c, code) != nullptr;
}

const Diagnostic* find_code(const Compilation& c, const std::string& code) {
  for (const auto& d : c.diags.all()) {
    if (d.code == code) return &d;
  }
  return nullptr;
}

std::string groups_string(const Compilation& c, const std::string& set) {
  if (!c.layout) return "<no layout>";
  const GroupSet* g = c.layout->find(set);
  if (g == nullptr) return "<no set " + set + ">";
  std::vector<std::string> parts;
  for (const auto& group : g->groups()) parts.push_back(fmt::format("[{}]", fmt::join(group, ",")));
  return fmt::format("{}", fmt::join(parts, " "));
}

const LayerPlan& layer_at(const Compilation& c, const char* prefix) {
  const LayerPlan* p = c.find_layer(prefix);
  if (p == nullptr) throw std::runtime_error(fmt::format("no layer with prefix '{}'", prefix));
  return *p;
}

}  // namespace layerplan::test
