// `layerplan check` over many rules files: find them (files, directories searched recursively,
// "-" for stdin), name each one's model (its own `model:`, else a binding of .layerplan.yaml,
// else --config), check each one alone and apply the ignores. One bad file never stops the others;
// the report holds one verdict per file and the counts behind the exit code.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "lib/diagnostics.h"
#include "lib/model_resolver.h"
#include "lib/pipeline.h"
#include "lib/project_file.h"

namespace layerplan {

struct BatchRequest {
  std::vector<std::string> paths;        // rules files, directories, "-" (read from `stdin_stream`)
  std::vector<std::string> rules_files;  // --rules: files only, never searched as directories
  std::string vllm_args;                 // --vllm-args: a launch line, checked as one more input
  NodeRequest nodes;                     // --gpus-per-node, for the launch line and the files
  std::istream* stdin_stream = nullptr;
  std::string config;  // the model of files that name none (path or HF id)
  std::string cwd;     // the working directory, for the project file's globs
  HfCacheEnv hf;
  std::vector<std::string> arch_files;
  CheckOptions checks;
  std::vector<std::string> ignore;  // codes, from --ignore (the project's are added)
  const ProjectFile* project = nullptr;
  bool werror = false;
  // Named files without a top-level `parallelism_rules` are skipped, as under a directory (for
  // hooks such as pre-commit that pass every changed YAML file).
  bool skip_non_rules = false;
};

enum class Verdict { kOk, kInvalid, kUnreadable };
[[nodiscard]] std::string_view verdict_name(Verdict verdict);  // "OK", "INVALID", "unreadable"

struct FileReport {
  std::string path;        // as named, or as found under a named directory
  std::string model;       // how the model was named ("" when it was not)
  std::string model_path;  // what that resolved to
  Verdict verdict = Verdict::kUnreadable;
  std::vector<Diagnostic> diagnostics;  // sorted, ignores applied
  std::string summary;                  // "LlamaForCausalLM, 80 layers, world size 16" when OK
};

struct BatchReport {
  std::vector<std::string> inputs;  // the paths as given
  std::vector<FileReport> files;
  std::vector<std::string> skipped;  // named files left out by skip_non_rules
  bool werror = false;

  [[nodiscard]] int count(Verdict verdict) const;
  [[nodiscard]] int count(Severity severity) const;  // as shown (warnings are errors under werror)
  // kUnreadable when any file is, else kInvalid when any file is, else kOk.
  [[nodiscard]] Verdict overall() const;
  // "14 files: 12 OK, 2 INVALID, 0 unreadable", then " (3 skipped: no parallelism_rules)" when
  // files were skipped
  [[nodiscard]] std::string summary_line() const;
};

[[nodiscard]] BatchReport check_batch(const BatchRequest& request);

}  // namespace layerplan
