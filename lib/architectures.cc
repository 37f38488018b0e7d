#include "lib/architectures.h"

#include <algorithm>

#include <fmt/format.h>

#include "lib/yaml_source.h"

namespace layerplan {

// Generated at build time from schemas/architectures/*.yaml: (file name, text) pairs.
const std::vector<std::pair<std::string, std::string>>& builtin_architecture_files();

namespace {

const std::vector<std::string> kDeclKeys = {"family",  "verified", "architectures", "model_types",
                                            "aliases", "prefixes", "ffn",           "mtp_count"};
const std::vector<std::string> kPrefixKeys = {"embedding", "attention", "ffn",
                                              "moe",       "mtp",       "lm_head"};
const std::vector<std::string> kFfnNames = {"dense", "moe", "dense_then_moe"};

bool read_string(const SourcePtr& file, const YamlEntry& entry, std::string& out,
                 Diagnostics& diags) {
  if (!entry.value.IsScalar()) {
    diags.report(make_error("arch-declaration", location_of(file, entry.value),
                            fmt::format("'{}' must be a string", entry.key)));
    return false;
  }
  out = entry.value.Scalar();
  return true;
}

bool read_string_list(const SourcePtr& file, const YamlEntry& entry,
                      std::vector<std::string>& out, Diagnostics& diags) {
  if (!entry.value.IsSequence()) {
    diags.report(make_error("arch-declaration", location_of(file, entry.value),
                            fmt::format("'{}' must be a list of strings", entry.key)));
    return false;
  }
  for (const auto& item : entry.value) {
    if (!item.IsScalar()) {
      diags.report(make_error("arch-declaration", location_of(file, item),
                              fmt::format("'{}' must be a list of strings", entry.key)));
      return false;
    }
    out.push_back(item.Scalar());
  }
  return true;
}

std::optional<ArchDecl> parse_decl(const SourcePtr& file, const YAML::Node& node,
                                   Diagnostics& diags) {
  int errors_before = diags.count(Severity::kError);
  if (!node.IsMap()) {
    diags.report(make_error("arch-declaration", location_of(file, node),
                            "an architecture declaration must be a mapping"));
    return std::nullopt;
  }
  ArchDecl decl;
  decl.source = file->path;
  for (const auto& entry : map_entries(file, node, "an architecture declaration", kDeclKeys, diags)) {
    if (entry.key == "family") {
      read_string(file, entry, decl.family, diags);
    } else if (entry.key == "verified") {
      if (!entry.value.IsScalar() || (entry.value.Scalar() != "true" && entry.value.Scalar() != "false")) {
        diags.report(make_error("arch-declaration", location_of(file, entry.value),
                                "'verified' must be true or false"));
      } else {
        decl.verified = entry.value.Scalar() == "true";
      }
    } else if (entry.key == "architectures") {
      read_string_list(file, entry, decl.architectures, diags);
    } else if (entry.key == "model_types") {
      read_string_list(file, entry, decl.model_types, diags);
    } else if (entry.key == "aliases") {
      if (!entry.value.IsMap()) {
        diags.report(make_error("arch-declaration", location_of(file, entry.value),
                                "'aliases' must map a field name to a list of config keys"));
        continue;
      }
      for (const auto& alias : map_entries(file, entry.value, "aliases", {}, diags)) {
        std::vector<std::string> keys;
        if (read_string_list(file, alias, keys, diags)) decl.aliases[alias.key] = keys;
      }
    } else if (entry.key == "prefixes") {
      if (!entry.value.IsMap()) {
        diags.report(make_error("arch-declaration", location_of(file, entry.value),
                                "'prefixes' must be a mapping"));
        continue;
      }
      for (const auto& p : map_entries(file, entry.value, "prefixes", kPrefixKeys, diags)) {
        std::string value;
        if (!read_string(file, p, value, diags)) continue;
        if (p.key == "embedding") decl.embedding_prefix = value;
        if (p.key == "attention") decl.attention_prefix = value;
        if (p.key == "ffn") decl.ffn_prefix = value;
        if (p.key == "moe") decl.moe_prefix = value;
        if (p.key == "mtp") decl.mtp_prefix = value;
        if (p.key == "lm_head") decl.lm_head_prefix = value;
      }
    } else if (entry.key == "ffn") {
      std::string value;
      if (!read_string(file, entry, value, diags)) continue;
      auto it = std::find(kFfnNames.begin(), kFfnNames.end(), value);
      if (it == kFfnNames.end()) {
        diags.report(make_error("arch-declaration", location_of(file, entry.value),
                                fmt::format("unknown ffn encoding '{}'; known: {}", value,
                                            fmt::join(kFfnNames, ", "))));
        continue;
      }
      decl.ffn = static_cast<FfnEncoding>(it - kFfnNames.begin());
    } else if (entry.key == "mtp_count") {
      read_string(file, entry, decl.mtp_count_field, diags);
    }
  }
  if (decl.family.empty()) {
    diags.report(make_error("arch-declaration", location_of(file, node),
                            "an architecture declaration needs 'family'"));
  }
  if (decl.architectures.empty() && decl.model_types.empty()) {
    diags.report(make_error("arch-declaration", location_of(file, node),
                            "an architecture declaration needs 'architectures' or 'model_types'"));
  }
  if (decl.moe_prefix.empty()) decl.moe_prefix = decl.ffn_prefix;
  if (diags.count(Severity::kError) != errors_before) return std::nullopt;
  return decl;
}

}  // namespace

std::string expand_prefix(std::string_view pattern, int index) {
  std::string out;
  std::size_t at = pattern.find("{i}");
  if (at == std::string_view::npos) return std::string(pattern);
  out.append(pattern.substr(0, at));
  out.append(std::to_string(index));
  out.append(pattern.substr(at + 3));
  return out;
}

ArchRegistry ArchRegistry::builtin() {
  ArchRegistry registry;
  Diagnostics diags;
  for (const auto& [name, text] : builtin_architecture_files()) {
    // Built-in declarations are tested; a failure here is a build defect, caught by tests.
    (void)registry.add_source(make_source("builtin:" + name, text), diags);
  }
  return registry;
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
  auto root = load_yaml(source, diags);
  if (!root) return false;
  // A file holds one declaration, or a list of them under `architectures:`... keep it simple:
  // a mapping is one declaration; a sequence is several.
  std::vector<YAML::Node> nodes;
  if (root->IsSequence()) {
    for (const auto& n : *root) nodes.push_back(n);
  } else {
    nodes.push_back(*root);
  }
  bool ok = true;
  std::vector<ArchDecl> parsed;
  for (const auto& n : nodes) {
    auto decl = parse_decl(source, n, diags);
    if (!decl) {
      ok = false;
      continue;
    }
    parsed.push_back(std::move(*decl));
  }
  if (!ok) return false;
  // A user declaration answering to a known class takes precedence: insert in front.
  decls_.insert(decls_.begin(), parsed.begin(), parsed.end());
  return true;
}

const ArchDecl* ArchRegistry::find(std::string_view architecture,
                                   std::string_view model_type) const {
  if (!architecture.empty()) {
    for (const auto& decl : decls_) {
      if (std::find(decl.architectures.begin(), decl.architectures.end(), architecture) !=
          decl.architectures.end()) {
        return &decl;
      }
    }
  }
  if (!model_type.empty()) {
    for (const auto& decl : decls_) {
      if (std::find(decl.model_types.begin(), decl.model_types.end(), model_type) !=
          decl.model_types.end()) {
        return &decl;
      }
    }
  }
  return nullptr;
}

std::vector<std::string> ArchRegistry::verified_architectures() const {
  std::vector<std::string> names;
  for (const auto& decl : decls_) {
    if (decl.verified) names.insert(names.end(), decl.architectures.begin(), decl.architectures.end());
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::vector<std::string> ArchRegistry::known_architectures() const {
  std::vector<std::string> names;
  for (const auto& decl : decls_) {
    names.insert(names.end(), decl.architectures.begin(), decl.architectures.end());
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace layerplan
