// ArchRegistry: the built-in architecture families (decoded when first needed) and the user's
// --arch-file declarations, searched in precedence order.
#include <fmt/format.h>

#include <algorithm>

#include "lib/arch_codec.h"
#include "lib/architectures.h"

namespace layerplan {

// Generated at build time from schemas/architectures/*.yaml: (file name, text) pairs, and
// (file name, encoded declarations) pairs written by layerplan-arch-encode (lib/arch_encode.cc).
const std::vector<std::pair<std::string, std::string>>& builtin_architecture_files();
const std::vector<std::pair<std::string, std::string>>& builtin_architecture_encodings();

ArchRegistry ArchRegistry::builtin() {
  ArchRegistry registry;
  const auto& encoded = builtin_architecture_encodings();
  for (const auto& [name, text] : builtin_architecture_files()) {
    auto it = std::find_if(encoded.begin(), encoded.end(),
                           [&](const auto& e) { return e.first == name; });
    std::string_view blob = it != encoded.end() ? std::string_view(it->second) : "";
    registry.builtins_.push_back(BuiltinFile{name, text, blob, false, {}});
  }
  return registry;
}

void ArchRegistry::parse_builtin(BuiltinFile& file) const {
  if (file.parsed) return;
  file.parsed = true;
  SourcePtr source = make_source("builtin:" + std::string(file.name), std::string(file.text));
  // The build's encoding of the file (the same declarations: tests/lib/arch_codec_test.cc);
  // the YAML itself only where there is none (a build that could not run the encoder).
  if (auto decoded = decode_arch_decls(file.encoded, source)) {
    file.decls = std::move(*decoded);
    return;
  }
  // Built-in declarations are tested; a failure here is a build defect, caught by tests.
  Diagnostics diags;
  auto parsed = parse_arch_decls(source, diags);
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

}  // namespace layerplan
