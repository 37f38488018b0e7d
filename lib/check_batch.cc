#include "lib/check_batch.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "lib/ignores.h"
#include "lib/yaml_source.h"

namespace layerplan {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxFiles = 10000;

struct Target {
  std::string path;
  std::string error;  // why it cannot be read; empty when it can
};

bool yaml_name(const fs::path& p) {
  std::string ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml";
}

// The rules files under a directory, sorted; hidden directories (.git) are skipped and
// symbolic links to directories are not followed, so a link cycle cannot loop.
std::vector<Target> search_directory(const std::string& dir) {
  std::vector<Target> found;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) return {{dir, fmt::format("cannot read '{}': {}", dir, ec.message())}};
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const fs::directory_entry& entry = *it;
    std::string name = entry.path().filename().string();
    std::error_code type_ec;
    if (entry.is_directory(type_ec)) {
      if (!name.empty() && name[0] == '.') it.disable_recursion_pending();
      continue;
    }
    if (!yaml_name(entry.path()) || !entry.is_regular_file(type_ec)) continue;
    ReadError error;
    auto source = read_source(entry.path().string(), error);
    if (!source) {
      found.push_back({entry.path().string(), error.message});
    } else if (looks_like_rules((*source)->text)) {
      found.push_back({entry.path().string(), ""});
    }
    if (found.size() > kMaxFiles) break;
  }
  std::sort(found.begin(), found.end(),
            [](const Target& a, const Target& b) { return a.path < b.path; });
  if (found.empty()) {
    return {{dir, fmt::format("'{}' holds no *.yaml or *.yml file with a top-level "
                              "'parallelism_rules:'",
                              dir)}};
  }
  return found;
}

// Whether a file that can be read holds no top-level `parallelism_rules` (one that cannot be
// read is checked, and reported unreadable).
bool holds_rules(const std::string& path) {
  ReadError error;
  auto source = read_source(path, error);
  return !source || looks_like_rules((*source)->text);
}

// The model named inside a rules file (`model:`), read without reporting anything: the full
// parse reports the file's problems.
std::pair<std::string, Location> model_key(const SourcePtr& source) {
  Diagnostics quiet;
  auto root = load_yaml(source, quiet);
  if (!root || !root->IsMap()) return {};
  YAML::Node model = (*root)["model"];
  if (!model.IsDefined() || !model.IsScalar() || model.Scalar().empty()) return {};
  return {model.Scalar(), location_of(source, model)};
}

bool unreadable_code(const std::string& code) {
  return code == "input-unreadable" || code == "model-not-found" || code == "inputs-swapped";
}

std::string relative_to(const std::string& path, const std::string& cwd, const std::string& dir) {
  fs::path p(path);
  if (p.is_relative()) p = fs::path(cwd) / p;
  fs::path base(dir);
  if (base.is_relative()) base = fs::path(cwd) / base;
  return p.lexically_normal().lexically_relative(base.lexically_normal()).generic_string();
}

class FileChecker {
 public:
  explicit FileChecker(const BatchRequest& request) : request_(request) {
    codes_ = request.ignore;
    if (request.project != nullptr) {
      codes_.insert(codes_.end(), request.project->ignore.begin(), request.project->ignore.end());
    }
  }

  // The --vllm-args line: its MODEL (or --config) names the model; the same checks as a file.
  FileReport check_launch() {
    FileReport report;
    report.path = "--vllm-args";
    report.model = request_.config;
    CompileRequest compile_request;
    compile_request.config_path = request_.config;
    compile_request.hf = request_.hf;
    compile_request.vllm_args = request_.vllm_args;
    compile_request.nodes = request_.nodes;
    compile_request.arch_files = request_.arch_files;
    compile_request.checks = request_.checks;
    return finish(std::move(report), compile(compile_request), nullptr, {}, {});
  }

  FileReport check(const Target& target) {
    FileReport report;
    report.path = target.path;
    Diagnostics diags;
    SourcePtr source;
    if (target.error.empty())
      source = read(target.path, diags);
    else
      diags.report(make_error("input-unreadable", Location{}, target.error));
    std::unique_ptr<Compilation> c;
    if (source) c = compile_one(source, report, diags);
    std::vector<InlineIgnore> inline_list;
    if (source) inline_list = inline_ignores(source, diags);
    return finish(std::move(report), std::move(c), source, inline_list, diags.sorted());
  }

 private:
  FileReport finish(FileReport report, std::unique_ptr<Compilation> c, const SourcePtr& source,
                    const std::vector<InlineIgnore>& inline_list, std::vector<Diagnostic> more) {
    std::vector<Diagnostic> all = c ? c->diags.sorted() : std::vector<Diagnostic>{};
    for (auto& d : more) all.push_back(std::move(d));
    // An input that could not be read stays unreadable whatever is ignored.
    bool unreadable = std::any_of(all.begin(), all.end(),
                                  [](const Diagnostic& d) { return unreadable_code(d.code); });
    report.diagnostics = apply_ignores(std::move(all), codes_, source, inline_list);
    report.verdict = unreadable ? Verdict::kUnreadable : verdict_of(report.diagnostics);
    if (report.verdict == Verdict::kOk && c && c->model) {
      const Model& m = *c->model;
      report.summary = fmt::format("{}, {} layers, world size {}",
                                   m.architecture.empty() ? m.model_type : m.architecture,
                                   c->plans.size(), c->axes.world_size);
    }
    return report;
  }

  SourcePtr read(const std::string& path, Diagnostics& diags) {
    ReadError error;
    std::optional<SourcePtr> source;
    if (path == "-") {
      if (request_.stdin_stream == nullptr || stdin_used_) {
        error.message = "stdin ('-') can be read only once";
      } else {
        stdin_used_ = true;
        source = read_stream(*request_.stdin_stream, "<stdin>", error);
      }
    } else {
      source = read_source(path, error);
    }
    if (!source) {
      diags.report(make_error("input-unreadable", Location{}, error.message));
      return nullptr;
    }
    return *source;
  }

  std::unique_ptr<Compilation> compile_one(const SourcePtr& source, FileReport& report,
                                           Diagnostics& diags) {
    // Which model: the file's own, else the project's binding, else --config.
    auto [spec, where] = model_key(source);
    std::string base_dir = report.path == "-" ? "" : fs::path(report.path).parent_path().string();
    if (spec.empty() && request_.project != nullptr && report.path != "-") {
      std::string rel = relative_to(report.path, request_.cwd, request_.project->dir);
      if (const ModelBinding* b = request_.project->model_for(rel)) {
        spec = b->model;
        where = b->location;
        base_dir = request_.project->dir;
      }
    }
    if (spec.empty() && !request_.config.empty()) {
      spec = request_.config;
      where = Location{};
      base_dir = "";
    }
    report.model = spec;
    if (spec.empty()) {
      Diagnostic d = make_error("model-not-found", Location{source, 0, 0},
                                "this rules file names no model: add a top-level 'model:' (a "
                                "path or a HuggingFace id), bind it in .layerplan.yaml, or pass "
                                "--config");
      diags.report(std::move(d));
      (void)parse_rules(source, diags);
      return nullptr;
    }
    ModelResolveError error;
    std::optional<std::string> path = resolve_model(spec, base_dir, request_.hf, error);
    if (!path) {
      Diagnostic d = make_error("model-not-found", where, error.message);
      for (auto& note : error.notes) d.notes.push_back({{}, std::move(note)});
      diags.report(std::move(d));
      (void)parse_rules(source, diags);
      return nullptr;
    }
    report.model_path = *path;
    CompileRequest compile_request;
    compile_request.config_path = *path;
    compile_request.rules = source;
    compile_request.rules_path = report.path;
    compile_request.nodes = request_.nodes;
    compile_request.arch_files = request_.arch_files;
    compile_request.checks = request_.checks;
    return compile(compile_request);
  }

  Verdict verdict_of(const std::vector<Diagnostic>& diagnostics) const {
    bool invalid = false;
    for (const auto& d : diagnostics) {
      if (d.severity == Severity::kError || (request_.werror && d.severity == Severity::kWarning)) {
        invalid = true;
      }
    }
    return invalid ? Verdict::kInvalid : Verdict::kOk;
  }

  const BatchRequest& request_;
  std::vector<std::string> codes_;
  bool stdin_used_ = false;
};

}  // namespace

std::string_view verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::kOk:
      return "OK";
    case Verdict::kInvalid:
      return "INVALID";
    case Verdict::kUnreadable:
      return "unreadable";
  }
  return "unreadable";
}

int BatchReport::count(Verdict verdict) const {
  return static_cast<int>(std::count_if(files.begin(), files.end(),
                                        [&](const FileReport& f) { return f.verdict == verdict; }));
}

int BatchReport::count(Severity severity) const {
  int n = 0;
  for (const auto& f : files) {
    for (const auto& d : f.diagnostics) {
      Severity s = werror && d.severity == Severity::kWarning ? Severity::kError : d.severity;
      if (s == severity) ++n;
    }
  }
  return n;
}

Verdict BatchReport::overall() const {
  if (count(Verdict::kUnreadable) > 0) return Verdict::kUnreadable;
  if (count(Verdict::kInvalid) > 0) return Verdict::kInvalid;
  return Verdict::kOk;
}

std::string BatchReport::summary_line() const {
  std::string line = fmt::format("{} file{}: {} OK, {} INVALID, {} unreadable", files.size(),
                                 files.size() == 1 ? "" : "s", count(Verdict::kOk),
                                 count(Verdict::kInvalid), count(Verdict::kUnreadable));
  if (!skipped.empty()) line += fmt::format(" ({} skipped: no parallelism_rules)", skipped.size());
  return line;
}

BatchReport check_batch(const BatchRequest& request) {
  BatchReport report;
  report.inputs = request.rules_files;
  report.inputs.insert(report.inputs.end(), request.paths.begin(), request.paths.end());
  report.werror = request.werror;
  std::vector<Target> targets;
  for (const auto& path : request.rules_files) targets.push_back({path, ""});
  for (const auto& path : request.paths) {
    std::error_code ec;
    if (path != "-" && fs::is_directory(path, ec)) {
      auto found = search_directory(path);
      targets.insert(targets.end(), found.begin(), found.end());
    } else if (request.skip_non_rules && path != "-" && !holds_rules(path)) {
      report.skipped.push_back(path);
    } else {
      targets.push_back({path, ""});
    }
  }
  FileChecker checker(request);
  if (!request.vllm_args.empty()) report.files.push_back(checker.check_launch());
  for (const auto& target : targets) {
    if (report.files.size() >= kMaxFiles) break;
    report.files.push_back(checker.check(target));
  }
  return report;
}

}  // namespace layerplan
