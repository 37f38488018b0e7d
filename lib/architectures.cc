#include "lib/architectures.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace layerplan {

// Generated at build time from schemas/architectures/*.yaml: (file name, text) pairs.
const std::vector<std::pair<std::string, std::string>>& builtin_architecture_files();

namespace {

constexpr std::array<std::pair<Part, std::string_view>, 8> kParts = {{
    {Part::kNone, "none"},
    {Part::kAttention, "attention"},
    {Part::kFullAttention, "full_attention"},
    {Part::kSlidingAttention, "sliding_attention"},
    {Part::kMamba, "mamba"},
    {Part::kLinearAttention, "linear_attention"},
    {Part::kMlp, "mlp"},
    {Part::kMoe, "moe"},
}};

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  std::size_t at = text.find(from);
  while (at != std::string::npos) {
    text.replace(at, from.size(), to);
    at = text.find(from, at + to.size());
  }
}

}  // namespace

std::string_view part_name(Part part) {
  for (const auto& [p, name] : kParts) {
    if (p == part) return name;
  }
  return "none";
}

std::optional<Part> parse_part(std::string_view name) {
  for (const auto& [p, n] : kParts) {
    if (n == name) return p;
  }
  return std::nullopt;
}

bool is_mixer_part(Part part) {
  return part == Part::kAttention || part == Part::kFullAttention ||
         part == Part::kSlidingAttention || part == Part::kMamba || part == Part::kLinearAttention;
}

bool is_ffn_part(Part part) { return part == Part::kMlp || part == Part::kMoe; }

const std::vector<std::string>& encoding_names() {
  // In the order of enum class Encoding.
  static const std::vector<std::string> kNames = {"uniform",     "list",          "pattern",
                                                  "period",      "interval",      "dense_then_moe",
                                                  "sparse_step", "block_configs", "first_k_dense"};
  return kNames;
}

std::string_view encoding_name(Encoding encoding) {
  return encoding_names()[static_cast<std::size_t>(encoding)];
}

std::string expand_prefix(std::string_view pattern, int index) {
  return format_prefix(pattern, "", index, 0);
}

std::string format_prefix(std::string_view pattern, std::string_view layer_root, int index,
                          int ordinal) {
  std::string out(pattern);
  replace_all(out, "{layer}", layer_root);
  replace_all(out, "{i}", std::to_string(index));
  replace_all(out, "{j}", std::to_string(ordinal));
  return out;
}

ArchRegistry ArchRegistry::builtin() {
  ArchRegistry registry;
  for (const auto& [name, text] : builtin_architecture_files()) {
    registry.builtins_.push_back(BuiltinFile{name, text, false, {}});
  }
  return registry;
}

void ArchRegistry::parse_builtin(BuiltinFile& file) const {
  if (file.parsed) return;
  file.parsed = true;
  // Built-in declarations are tested; a failure here is a build defect, caught by tests.
  Diagnostics diags;
  auto parsed = parse_arch_decls(
      make_source("builtin:" + std::string(file.name), std::string(file.text)), diags);
  if (parsed) file.decls = std::move(*parsed);
}

void ArchRegistry::parse_all_builtins() const {
  for (auto& file : builtins_) parse_builtin(file);
}

bool ArchRegistry::add_file(const std::string& path, Diagnostics& diags) {
  ReadError error;
  auto source = read_source(path, error);
  if (!source) {
    diags.report(make_error("input-unreadable", Location{}, error.message));
    return false;
  }
  return add_source(*source, diags);
}

bool ArchRegistry::add_source(const SourcePtr& source, Diagnostics& diags) {
  auto parsed = parse_arch_decls(source, diags);
  if (!parsed) return false;
  // A later file takes precedence over the earlier ones (built-ins come last): insert in front.
  decls_.insert(decls_.begin(), parsed->begin(), parsed->end());
  all_.clear();
  return true;
}

template <typename Visit>
const ArchDecl* ArchRegistry::search(std::string_view needle, Visit visit) const {
  for (const auto& decl : decls_) {
    if (visit(decl)) return &decl;
  }
  for (auto file = builtins_.rbegin(); file != builtins_.rend(); ++file) {
    if (!file->parsed) {
      if (!needle.empty() && file->text.find(needle) == std::string_view::npos) continue;
      parse_builtin(*file);
    }
    for (const auto& decl : file->decls) {
      if (visit(decl)) return &decl;
    }
  }
  return nullptr;
}

const ArchDecl* ArchRegistry::find(std::string_view architecture,
                                   std::string_view model_type) const {
  if (!architecture.empty()) {
    const ArchDecl* found = search(architecture, [&](const ArchDecl& decl) {
      return std::find(decl.architectures.begin(), decl.architectures.end(), architecture) !=
             decl.architectures.end();
    });
    if (found != nullptr) return found;
  }
  if (!model_type.empty()) {
    return search(model_type, [&](const ArchDecl& decl) {
      return std::find(decl.model_types.begin(), decl.model_types.end(), model_type) !=
             decl.model_types.end();
    });
  }
  return nullptr;
}

const std::vector<ArchDecl>& ArchRegistry::decls() const {
  if (all_.empty()) {
    parse_all_builtins();
    (void)search("", [&](const ArchDecl& decl) {
      all_.push_back(decl);
      return false;
    });
  }
  return all_;
}

std::vector<std::string> ArchDecl::verified_prs(std::string_view architecture) const {
  if (verified_all) return {"unattributed"};
  auto it = verified_by.find(architecture);
  return it == verified_by.end() ? std::vector<std::string>{} : it->second;
}

std::vector<std::string> ArchRegistry::verified_architectures() const {
  std::vector<std::string> names;
  parse_all_builtins();
  (void)search("", [&](const ArchDecl& decl) {
    for (const auto& name : decl.architectures) {
      // Only where this declaration is the one that answers (a user file may override it).
      auto prs = decl.verified_prs(name);
      if (!prs.empty() && find(name, "") == &decl) {
        names.push_back(fmt::format("{} ({})", name, fmt::join(prs, ", ")));
      }
    }
    return false;
  });
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::vector<std::string> ArchRegistry::known_architectures() const {
  std::vector<std::string> names;
  parse_all_builtins();
  (void)search("", [&](const ArchDecl& decl) {
    names.insert(names.end(), decl.architectures.begin(), decl.architectures.end());
    return false;
  });
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

bool weight_fact_holds(const WeightFact& fact, const HfConfig& config) {
  if (fact.field.empty()) return fact.value;
  const nlohmann::json* v = config.find(fact.field);
  if (!fact.equals.empty()) {
    return v != nullptr && v->is_string() ? v->get<std::string>() == fact.equals : fact.value;
  }
  return v != nullptr && v->is_boolean() ? v->get<bool>() : fact.value;
}

}  // namespace layerplan
