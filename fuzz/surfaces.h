// Fuzz target bodies for the surfaces added after the first three targets: the vLLM launch line,
// the two manifest readers (smoke's and the HTML report's), the output formats of `check`, and
// the HuggingFace-cache resolver. Shared, like fuzz/targets.h, by the libFuzzer entry points and
// tests/lib/regressions_test.cc. A broken invariant throws std::logic_error.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/targets.h"
#include "lib/check_batch.h"
#include "lib/engine/vllm_args.h"
#include "lib/manifest.h"
#include "lib/manifest_diff.h"
#include "lib/model_resolver.h"
#include "lib/output/formats.h"
#include "lib/report.h"
#include "lib/report_model.h"
#include "smoke/comm_plan.h"
#include "smoke/expected_groups.h"
#include "smoke/manifest_view.h"

namespace layerplan::fuzz {

inline void expect(bool ok, const char* what) {
  if (!ok) throw std::logic_error(what);
}

// --- vllm_args: `[VAR=… ]vllm serve MODEL …` or bare flags ----------------------------------

inline void run_vllm_args(std::string_view input) {
  Diagnostics diags;
  auto launch = parse_vllm_args(make_source("--vllm-args", std::string(input)), diags);
  expect(launch.has_value() != diags.has_errors(),
         "parse_vllm_args must return nothing exactly when it reports an error");
  render_all(diags);
}

// --- manifest: smoke's reader and the HTML report's reader of one JSON text -------------------

// The manifest as `smoke --manifest` and `report` read it: nlohmann's parser, then each reader.
// Each reader returns nothing iff it reported a problem; what smoke computes from a view before
// launching anything (vLLM's groups, the findings, the timing plan) runs on every view.
inline void run_manifest(std::string_view input) {
  nlohmann::ordered_json manifest;
  try {
    manifest = nlohmann::ordered_json::parse(input);
  } catch (const nlohmann::json::exception&) {
    // smoke ends here with exit 2 (a parse error, or a number out of range such as 1e400); the
    // report's own path is run below.
  }
  std::vector<smoke::Problem> problems;
  auto view = smoke::read_manifest(manifest, problems);
  expect(view.has_value() == problems.empty(), "read_manifest: a view iff no problem");
  for (const auto& p : problems) consume(smoke::render_problem(p));
  if (view) {
    for (const auto& set : view->sets) {
      auto derived = smoke::derive_vllm_groups(*view, set.name);
      for (const auto& f : smoke::check_set_sizes(*view, set)) consume(f.message);
      for (const auto& f : smoke::compare_with_derivation(set, derived)) consume(f.message);
    }
    auto entries = smoke::plan_timings(*view, 256, 2, std::int64_t{64} << 20);
    consume(std::to_string(entries.size()));
  }
  std::vector<ManifestProblem> report_problems;
  auto model = read_report_model(manifest, report_problems);
  expect(model.has_value() == report_problems.empty(), "read_report_model: a model iff no problem");

  ReportRequest request;
  request.manifest = make_source("plan.json", std::string(input));
  ReportResult result = report_manifest(request);
  expect(result.html.has_value() != result.diags.has_errors(), "report: html iff no error");
  if (result.html) consume(*result.html);
  render_all(result.diags);
}

// --- diff: `layerplan diff A B` on two manifests given as one input --------------------------

// The input is manifest A, the separator line, then manifest B (no separator: B is A). Both go
// through the manifest reader and its checks; a diff comes back iff no error was reported, and
// then renders as text, markdown and JSON (strict UTF-8), whose verdict agrees with the diff's;
// a valid manifest compared with itself is the same plan.
inline void run_diff(std::string_view input) {
  const std::size_t cut = input.find(kSeparator);
  const std::string a(input.substr(0, cut));
  const std::string b(
      cut == std::string_view::npos ? a : std::string(input.substr(cut + kSeparator.size())));
  DiffResult result = diff_manifest_texts(make_source("a.json", a), make_source("b.json", b));
  render_all(result.diags);
  expect(result.diff.has_value() != result.diags.has_errors(), "diff: a diff iff no error");
  if (!result.diff) return;
  const DiffNames names{"a.json", "b.json"};
  consume(render_diff_text(*result.diff, names));
  consume(render_diff_markdown(*result.diff, names));
  const std::string json = diff_json(*result.diff, names, "fuzz").dump();
  expect(nlohmann::json::parse(json).at("same").get<bool>() == result.diff->same(),
         "diff --emit json: its verdict differs from the diff's");
  DiffResult again = diff_manifest_texts(make_source("a.json", a), make_source("a.json", a));
  expect(again.diff.has_value() && again.diff->same(), "diff: a manifest differs from itself");
}

// --- outputs: text, gcc, github, json and sarif of a batch report built from the input -------

// The input is split at NUL bytes into fields: a file path, a source text, then per diagnostic
// a message and a note, with the code, severity, line and column taken from the field's bytes.
struct Fields {
  std::vector<std::string> parts;
  std::size_t next = 0;
  std::string take() { return next < parts.size() ? parts[next++] : std::string(); }
  [[nodiscard]] bool more() const { return next < parts.size(); }
};

inline BatchReport batch_of(std::string_view input) {
  Fields f;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= input.size(); ++i) {
    if (i == input.size() || input[i] == '\0') {
      f.parts.emplace_back(input.substr(start, i - start));
      start = i + 1;
    }
  }
  const auto& codes = diagnostic_codes();
  BatchReport report;
  report.werror = !input.empty() && (static_cast<unsigned char>(input[0]) & 1) != 0;
  int files = 0;
  while (f.more() && files < 8) {
    FileReport file;
    file.path = f.take();
    SourcePtr source = make_source(file.path, f.take());
    std::string shape = f.take();  // one byte per diagnostic: its code, severity and position
    for (std::size_t i = 0; i < shape.size() && i < 32; ++i) {
      auto b = static_cast<unsigned char>(shape[i]);
      Diagnostic d;
      d.code = std::string(codes[b % codes.size()].code);
      d.severity = static_cast<Severity>(b % 3);
      d.message = f.take();
      if (b & 0x40) d.location = Location{source, 1 + (b >> 4) % 4, (b & 8) ? 1 + b % 7 : 0};
      if (b & 0x80) d.notes.push_back(Note{(b & 4) ? d.location : Location{}, f.take()});
      file.diagnostics.push_back(std::move(d));
    }
    file.verdict = static_cast<Verdict>(files % 3);
    report.inputs.push_back(file.path);
    report.files.push_back(std::move(file));
    ++files;
  }
  return report;
}

// GitHub's runner reads a line starting with "::" as a command. Outside a ::stop-commands::
// block, the only such lines are the ones the writer means to issue, one annotation for each
// diagnostic shown (within the limit), each with its file and title intact; inside a block,
// nothing but the block's own end token ends it.
inline void check_github(const BatchReport& report, const std::string& out) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\n') {
      lines.push_back(out.substr(start, i - start));
      start = i + 1;
    }
  }
  expect(start == out.size(), "github: the output ends with a newline");
  std::size_t groups = 0, annotations = 0;
  std::string stop_token;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (!stop_token.empty()) {
      if (line == "::" + stop_token + "::") stop_token.clear();
      continue;
    }
    expect(line.find('\r') == std::string::npos, "github: a CR outside a stop-commands block");
    if (line.rfind("::", 0) != 0) {
      expect(i + 1 == lines.size(), "github: only the last line is not a command");
      continue;
    }
    if (line.rfind("::group::", 0) == 0) {
      ++groups;
    } else if (line.rfind("::stop-commands::", 0) == 0) {
      stop_token = line.substr(17);
      expect(stop_token.rfind("layerplan-", 0) == 0, "github: a stop token of ours");
    } else if (line == "::endgroup::") {
    } else if (line.rfind("::error ", 0) == 0 || line.rfind("::warning ", 0) == 0 ||
               line.rfind("::notice ", 0) == 0) {
      ++annotations;
      std::size_t props_start = line.find(' ') + 1;
      std::size_t props_end = line.find("::", props_start);
      expect(props_end != std::string::npos, "github: an annotation has a message");
      std::string props = line.substr(props_start, props_end - props_start);
      std::size_t title = props.find("title=");
      expect(title != std::string::npos, "github: an annotation has a title");
      expect(props.rfind("file=", 0) == 0 || title == 0,
             "github: properties start with file or title");
    } else {
      throw std::logic_error("github: a command the writer never issues");
    }
  }
  expect(stop_token.empty(), "github: a stop-commands block is closed");
  expect(groups == report.files.size(), "github: one group per file");
  std::size_t expected = 0;
  for (Severity level : {Severity::kError, Severity::kWarning, Severity::kNote}) {
    std::size_t n = 0;
    for (const auto& file : report.files) {
      for (const auto& d : file.diagnostics) {
        Severity s =
            report.werror && d.severity == Severity::kWarning ? Severity::kError : d.severity;
        if (s == level) ++n;
      }
    }
    expected += std::min<std::size_t>(n, kGithubAnnotationLimit);
  }
  expect(annotations == expected, "github: one annotation per diagnostic shown");
}

inline void run_outputs(std::string_view input) {
  BatchReport report = batch_of(input);
  RenderOptions options;
  options.werror = report.werror;
  std::size_t total = 0;
  for (const auto& file : report.files) total += file.diagnostics.size();

  consume(render_report_text(report, options));
  check_github(report, render_report_github(report, options));

  std::string gcc = render_report_gcc(report, options);
  expect(static_cast<std::size_t>(std::count(gcc.begin(), gcc.end(), '\n')) == total,
         "gcc: one line per diagnostic");
  expect(gcc.find('\r') == std::string::npos, "gcc: no CR");

  // JSON and SARIF go out through dump_json, as the CLI writes them, and must parse back.
  auto json = nlohmann::json::parse(dump_json(report_json(report, options, "fuzz")));
  expect(json.at("diagnostics").size() == total, "json: every diagnostic");
  expect(json.at("files").size() == report.files.size(), "json: every file");
  auto sarif = nlohmann::json::parse(dump_json(report_sarif(report, options, "fuzz")));
  expect(sarif.at("runs").at(0).at("results").size() == total, "sarif: one result per diagnostic");
  for (const auto& file : report.files) consume(sarif_uri(file.path));
}

// --- resolver: a hostile HuggingFace cache --------------------------------------------------

// A cache made once per process under the temporary directory: models--org--name with a
// snapshot, a snapshot that is a symbolic link loop, one that links out of the cache, and
// refs/main that each input rewrites. The input is the spec, a newline, then refs/main's bytes.
struct HostileCache {
  std::filesystem::path root, cache;
  HostileCache() {
    namespace fs = std::filesystem;
    root = fs::temp_directory_path() / ("layerplan-fuzz-cache-" + std::to_string(::getpid()));
    cache = root / "hub";
    fs::path repo = cache / "models--org--name";
    fs::create_directories(repo / "refs");
    fs::create_directories(repo / "snapshots" / "abc123");
    std::ofstream(repo / "snapshots" / "abc123" / "config.json") << "{}";
    fs::create_directories(root / "outside");
    std::ofstream(root / "outside" / "config.json") << "{}";
    std::error_code ec;
    fs::create_directory_symlink("loop", repo / "snapshots" / "loop", ec);
    fs::create_directory_symlink("../../../outside", repo / "snapshots" / "out", ec);
    fs::create_directories(root / "work");
  }
  ~HostileCache() {
    std::error_code ec;
    std::filesystem::remove_all(root, ec);
  }
};

inline void run_resolver(std::string_view input) {
  static const HostileCache hc;
  std::size_t nl = input.find('\n');
  std::string spec(input.substr(0, nl));
  std::string ref = nl == std::string_view::npos ? "" : std::string(input.substr(nl + 1));
  {
    std::ofstream(hc.cache / "models--org--name" / "refs" / "main",
                  std::ios::binary | std::ios::trunc)
        << ref;
  }
  HfCacheEnv env;
  env.hf_hub_cache = hc.cache.string();
  ModelResolveError error;
  const std::string base = (hc.root / "work").string();
  std::error_code ec;
  const bool names_a_path = std::filesystem::exists(std::filesystem::path(base) / spec, ec);
  auto found = resolve_model(spec, base, env, error);
  expect(found.has_value() != !error.message.empty(), "resolve_model: a path iff no error");
  // An existing path, or a spec that is no id, is returned as given: the reader's to judge.
  if (!found || names_a_path || *found == (std::filesystem::path(base) / spec).string()) return;
  // A spec that names nothing under the working directory and resolves into the cache must
  // resolve to a path under the cache, without '..', whatever refs/main holds.
  std::string cache_prefix = hc.cache.string() + "/";
  if (found->rfind(cache_prefix, 0) == 0) {
    std::filesystem::path rel = std::filesystem::path(*found).lexically_relative(hc.cache);
    for (const auto& part : rel) expect(part != "..", "resolver: '..' out of the cache");
    expect(rel.begin() != rel.end() && *rel.begin() == "models--org--name",
           "resolver: only the id's own repo folder");
    // Symbolic links inside the cache (huggingface_hub's snapshots link into blobs/) stay in it.
    std::filesystem::path real = std::filesystem::weakly_canonical(*found);
    std::filesystem::path real_cache = std::filesystem::canonical(hc.cache);
    expect(real.string().rfind(real_cache.string() + "/", 0) == 0,
           "resolver: a symbolic link out of the cache");
  }
}

}  // namespace layerplan::fuzz
