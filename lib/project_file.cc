#include "lib/project_file.h"

#include <fmt/format.h>

#include <filesystem>
#include <system_error>

#include "lib/glob.h"
#include "lib/ignores.h"
#include "lib/yaml_source.h"

namespace layerplan {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kProjectKeys = {"paths", "models", "ignore"};

// A list of non-empty strings (a single string counts as a list of one).
std::vector<std::pair<std::string, Location>> string_list(const SourcePtr& file,
                                                          const YAML::Node& node,
                                                          std::string_view what,
                                                          Diagnostics& diags) {
  std::vector<std::pair<std::string, Location>> out;
  std::vector<YAML::Node> items;
  if (node.IsScalar()) {
    items.push_back(node);
  } else if (node.IsSequence()) {
    for (const auto& item : node) items.push_back(item);
  } else if (!node.IsNull()) {
    diags.report(make_error(
        "wrong-type", location_of(file, node),
        fmt::format("'{}' must be a list of strings, got {}", what, yaml_type_name(node))));
  }
  for (const auto& item : items) {
    if (!item.IsScalar() || item.Scalar().empty()) {
      diags.report(make_error("wrong-type", location_of(file, item),
                              fmt::format("each entry of '{}' must be a non-empty string", what)));
      continue;
    }
    out.emplace_back(item.Scalar(), location_of(file, item));
  }
  return out;
}

}  // namespace

const ModelBinding* ProjectFile::model_for(std::string_view relative_path) const {
  for (const auto& binding : models) {
    if (glob_match(binding.glob, relative_path)) return &binding;
  }
  return nullptr;
}

std::string find_project_file(const std::string& start_dir) {
  std::error_code ec;
  fs::path dir = fs::path(start_dir).lexically_normal();
  for (int depth = 0; depth < 256 && !dir.empty(); ++depth) {
    fs::path candidate = dir / kProjectFileName;
    if (fs::is_regular_file(candidate, ec)) return candidate.string();
    if (!dir.has_relative_path()) break;  // the root
    dir = dir.parent_path();
  }
  return "";
}

std::optional<ProjectFile> parse_project_file(const SourcePtr& file, Diagnostics& diags) {
  int errors_before = diags.count(Severity::kError);
  auto root = load_yaml(file, diags);
  if (!root) return std::nullopt;
  ProjectFile out;
  out.file = file;
  out.dir = fs::path(file->path).parent_path().string();
  if (!root->IsMap() && !root->IsNull()) {
    diags.report(make_error("wrong-type", location_of(file, *root),
                            fmt::format("{} must be a mapping of paths, models and ignore, got {}",
                                        kProjectFileName, yaml_type_name(*root))));
    return std::nullopt;
  }
  if (root->IsNull()) return out;
  for (const auto& e : map_entries(file, *root, kProjectFileName, kProjectKeys, diags)) {
    if (e.key == "paths") {
      for (auto& [path, where] : string_list(file, e.value, "paths", diags))
        out.paths.push_back(path);
    } else if (e.key == "ignore") {
      for (auto& [code, where] : string_list(file, e.value, "ignore", diags)) {
        if (std::string why = unknown_code_message(code); !why.empty()) {
          diags.report(make_error("invalid-value", where, why));
          continue;
        }
        out.ignore.push_back(code);
      }
    } else if (e.key == "models") {
      if (!e.value.IsMap()) {
        diags.report(make_error("wrong-type", location_of(file, e.value),
                                fmt::format("'models' must map globs on rules paths to models, "
                                            "got {}",
                                            yaml_type_name(e.value))));
        continue;
      }
      for (const auto& m : map_entries(file, e.value, "models", {}, diags)) {
        if (auto why = glob_error(m.key)) {
          diags.report(make_error("bad-pattern", location_of(file, m.key_node),
                                  fmt::format("glob '{}' is malformed: {}", m.key, *why)));
          continue;
        }
        if (!m.value.IsScalar() || m.value.Scalar().empty()) {
          diags.report(make_error("wrong-type", location_of(file, m.value),
                                  "a model must be a path or a HuggingFace id"));
          continue;
        }
        out.models.push_back({m.key, m.value.Scalar(), location_of(file, m.value)});
      }
    }
  }
  if (diags.count(Severity::kError) != errors_before) return std::nullopt;
  return out;
}

std::optional<ProjectFile> load_project_file(const std::string& path, Diagnostics& diags) {
  ReadError error;
  auto source = read_source(path, error);
  if (!source) {
    diags.report(make_error("input-unreadable", Location{}, error.message));
    return std::nullopt;
  }
  return parse_project_file(*source, diags);
}

}  // namespace layerplan
