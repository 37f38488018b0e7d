// The optional project file `.layerplan.yaml`, found upward from the working directory: the
// paths `layerplan check` checks when given none, models bound to rules files by glob, and codes
// ignored everywhere.
//
//   paths: [deploy/plans]                 # relative to the project file
//   models:                               # glob on the rules path (relative to the project
//     "deploy/plans/dsv3/*": deepseek-ai/DeepSeek-V3   # file) -> path or HuggingFace id;
//     "deploy/plans/*": models/llama3_70b.json         # the first matching glob wins
//   ignore: [rule-shadowed]
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lib/diagnostics.h"

namespace layerplan {

inline constexpr const char* kProjectFileName = ".layerplan.yaml";

struct ModelBinding {
  std::string glob;
  std::string model;  // a path relative to the project directory, or an id
  Location location;  // of the model value
};

struct ProjectFile {
  SourcePtr file;
  std::string dir;                 // the directory holding the file
  std::vector<std::string> paths;  // relative to dir
  std::vector<ModelBinding> models;
  std::vector<std::string> ignore;

  // The first binding whose glob matches `relative_path` (relative to dir), or null.
  [[nodiscard]] const ModelBinding* model_for(std::string_view relative_path) const;
};

// The project file in `start_dir` or the nearest directory above it; empty when there is none.
[[nodiscard]] std::string find_project_file(const std::string& start_dir);

// Parses a project file; reports every problem. Returns nothing iff it reported an error.
[[nodiscard]] std::optional<ProjectFile> parse_project_file(const SourcePtr& file,
                                                            Diagnostics& diags);
[[nodiscard]] std::optional<ProjectFile> load_project_file(const std::string& path,
                                                           Diagnostics& diags);

}  // namespace layerplan
