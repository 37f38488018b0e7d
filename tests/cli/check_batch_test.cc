// `layerplan check` as a CI gate, through the binary: many files and one verdict, the model named
// per file (model:, .layerplan.yaml, --config, HF ids in a fake cache), ignores, and every output
// format checked field by field, with hostile rule and file names.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "catch.h"
#include "run_binary.h"

namespace {

namespace fs = std::filesystem;
using layerplan::test::contains;
using layerplan::test::quote;
using layerplan::test::Result;
using layerplan::test::slurp;
using layerplan::test::spit;

const std::string kSource = LAYERPLAN_SOURCE_DIR;
const std::string kLlama70 = kSource + "/fixtures/models/llama3_70b.json";
const std::string kLlama8 = kSource + "/fixtures/models/llama3_8b.json";

const std::string kGood =
    "parallelism_rules:\n  axes: {tp: 8}\n  rules:\n"
    "    - {match: {kind: attention}, plan: {tp_size: tp}}\n";
const std::string kBad = "parallelism_rules:\n  axes: {tp: 8, dcp: 3}\n  rules: []\n";
const std::string kWarn =
    "parallelism_rules:\n  axes: {tp: 8}\n  rules:\n"
    "    - name: experts\n      match: {kind: moe}\n      plan: {tp_size: tp}\n";

// A fresh directory under the test's scratch directory.
std::string dir(const std::string& name) {
  std::string d = layerplan::test::in_scratch(name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void put(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  spit(path, text);
}

// Runs the binary in `cwd` with `env` and `stdin_path` (or /dev/null) as stdin.
Result run_in(const std::string& cwd, const std::string& args, const std::string& env = "",
              const std::string& stdin_path = "/dev/null") {
  std::string out = layerplan::test::in_scratch("stdout"),
              err = layerplan::test::in_scratch("stderr");
  std::string cmd = "cd " + quote(cwd) + " && env -u GITHUB_ACTIONS -u NO_COLOR " + env +
                    " timeout 60 " + quote(LAYERPLAN_BINARY) + " " + args + " >" + quote(out) +
                    " 2>" + quote(err) + " <" + quote(stdin_path);
  int status = std::system(cmd.c_str());
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST_CASE("check PATH...: directories searched, one summary line, one exit code") {
  std::string d = dir("batch");
  put(d + "/plans/good.yaml", kGood);
  put(d + "/plans/nested/bad.yml", kBad);
  put(d + "/plans/nested/other.yaml", "not_rules: 1\n");  // no parallelism_rules: skipped
  put(d + "/plans/.hidden/bad.yaml", kBad);               // hidden directory: skipped
  put(d + "/plans/notes.txt", kBad);                      // not YAML: skipped
  Result r = run_in(d, "check --config " + quote(kLlama70) + " plans");
  CHECK(r.code == 1);
  CHECK(contains(r.out, "plans/good.yaml: OK: LlamaForCausalLM, 162 layers, world size 8\n"));
  CHECK(contains(r.out, "plans/nested/bad.yml: INVALID\n"));
  CHECK(contains(
      r.out, "plans/nested/bad.yml:2:22: error: dcp (3) does not divide tp (8) [dcp-divides-tp]"));
  CHECK(lines_of(r.out).back() == "2 files: 1 OK, 1 INVALID, 0 unreadable");
  CHECK_FALSE(contains(r.out, ".hidden"));

  // A missing file is one more verdict, not the end of the run: exit 2, the others still checked.
  Result missing = run_in(d, "check --config " + quote(kLlama70) + " plans nope.yaml");
  CHECK(missing.code == 2);
  CHECK(contains(missing.out, "nope.yaml: unreadable"));
  CHECK(contains(missing.out, "plans/good.yaml: OK"));
  CHECK(lines_of(missing.out).back() == "3 files: 1 OK, 1 INVALID, 1 unreadable");
  Result ok = run_in(d, "check --config " + quote(kLlama70) + " plans/good.yaml");
  CHECK(ok.code == 0);
  CHECK(lines_of(ok.out).back() == "1 file: 1 OK, 0 INVALID, 0 unreadable");
  Result empty = run_in(d, "check --config " + quote(kLlama70) + " plans/.hidden/..");
  CHECK(empty.code == 1);  // the directory itself is named: only its hidden subdirectory is skipped
  Result none = run_in(dir("batch_empty"), "check --config " + quote(kLlama70) + " .");
  CHECK(none.code == 2);
  CHECK(contains(none.out, "holds no *.yaml or *.yml file with a top-level 'parallelism_rules:'"));
  Result no_args = run_in(dir("batch_noargs"), "check --config " + quote(kLlama70));
  CHECK(no_args.code == 2);
  CHECK(contains(no_args.err, "check needs rules files or directories"));
}

TEST_CASE("check -: the rules come from stdin, size-capped like files") {
  std::string d = dir("stdin");
  put(d + "/r.yaml", kBad);
  Result r = run_in(d, "check --config " + quote(kLlama70) + " -", "", d + "/r.yaml");
  CHECK(r.code == 1);
  CHECK(contains(r.out, "<stdin>:2:22: error: dcp (3) does not divide tp (8)"));
  put(d + "/big.yaml", std::string((16u << 20) + 10, '#'));
  Result big = run_in(d, "check --config " + quote(kLlama70) + " -", "", d + "/big.yaml");
  CHECK(big.code == 2);
  CHECK(contains(big.out, "more than the limit of 16777216 bytes"));
}

TEST_CASE("model: names each file's model, relative to the file; files without one need --config") {
  std::string d = dir("model_key");
  put(d + "/models/llama8/config.json", slurp(kLlama8));
  put(d + "/plans/a.yaml", "model: ../models/llama8\n" + kGood);
  put(d + "/plans/b.yaml", kGood);
  Result r = run_in(d, "check plans");
  CHECK(r.code == 2);
  CHECK(contains(r.out, "plans/a.yaml: OK: LlamaForCausalLM, 66 layers"));
  CHECK(contains(r.out, "plans/b.yaml: error: this rules file names no model"));
  CHECK(contains(r.out, "[model-not-found]"));
  Result with_config = run_in(d, "check --config " + quote(kLlama70) + " plans");
  CHECK(with_config.code == 0);
  CHECK(contains(with_config.out, "plans/a.yaml: OK: LlamaForCausalLM, 66 layers"));   // its own
  CHECK(contains(with_config.out, "plans/b.yaml: OK: LlamaForCausalLM, 162 layers"));  // --config
  put(d + "/plans/c.yaml", "model: [1, 2]\n" + kGood);
  Result bad_key = run_in(d, "check --config " + quote(kLlama70) + " plans/c.yaml");
  CHECK(bad_key.code == 1);
  CHECK(contains(bad_key.out, "plans/c.yaml:1:8: error: 'model' must name the model"));
}

TEST_CASE("HF model ids resolve offline through a fake HF cache; a miss lists the places tried") {
  std::string d = dir("hf");
  std::string repo = d + "/cache/hub/models--acme--Tiny";
  put(repo + "/refs/main", "1111\n");
  put(repo + "/refs/big", "2222");
  put(repo + "/snapshots/1111/config.json", slurp(kLlama8));
  put(repo + "/snapshots/2222/config.json", slurp(kLlama70));
  put(d + "/plans/big.yaml", "model: acme/Tiny@big\n" + kGood);
  put(d + "/plans/small.yaml", kGood);
  std::string env = "HF_HUB_CACHE= HF_HOME=" + quote(d + "/cache") + " HOME=/nonexistent";
  Result r = run_in(d, "check --config acme/Tiny plans", env);
  CHECK(r.code == 0);
  CHECK(contains(r.out, "plans/big.yaml: OK: LlamaForCausalLM, 162 layers"));
  CHECK(contains(r.out, "plans/small.yaml: OK: LlamaForCausalLM, 66 layers"));
  Result json = run_in(d, "check --config acme/Tiny plans --format json", env);
  auto j = nlohmann::json::parse(json.out);
  CHECK(j["files"][0]["model"] == "acme/Tiny@big");
  CHECK(j["files"][0]["model_path"] == repo + "/snapshots/2222/config.json");
  // compile and layers take the id too.
  Result layers = run_in(d, "layers --config acme/Tiny", env);
  CHECK(layers.code == 0);
  CHECK(contains(layers.out, "model.layers.{0-31}.mlp"));
  Result miss = run_in(d, "check --config acme/Other plans/small.yaml", env);
  CHECK(miss.code == 2);
  CHECK(contains(miss.out, "cannot find model 'acme/Other'"));
  CHECK(contains(miss.out, "note: tried " + d + "/cache/hub/models--acme--Other/refs/main"));
  CHECK(contains(miss.out, "huggingface-cli download acme/Other config.json"));
}

TEST_CASE(".layerplan.yaml: default paths, model bindings by glob, ignored codes, found upward") {
  std::string d = dir("project");
  put(d + "/.layerplan.yaml", "paths: [deploy]\nmodels:\n  \"deploy/big/*\": " + kLlama70 +
                                  "\n  \"deploy/*\": " + kLlama8 +
                                  "\nignore: [rule-matches-nothing]\n");
  put(d + "/deploy/big/a.yaml", kWarn);
  put(d + "/deploy/b.yaml", kWarn);
  put(d + "/deploy/sub/.keep", "");
  Result r = run_in(d + "/deploy/sub", "check --werror");
  CHECK(r.code == 0);
  CHECK(contains(r.out, "deploy/big/a.yaml: OK: LlamaForCausalLM, 162 layers"));
  CHECK(contains(r.out, "deploy/b.yaml: OK: LlamaForCausalLM, 66 layers"));
  CHECK_FALSE(contains(r.out, "rule-matches-nothing"));
  Result no_project =
      run_in(d, "check --no-project --werror --config " + quote(kLlama8) + " deploy");
  CHECK(no_project.code == 1);
  CHECK(contains(no_project.out, "[rule-matches-nothing]"));
  put(d + "/.layerplan.yaml", "ignore: [rule-shadow]\npaht: []\n");
  Result bad = run_in(d, "check");
  CHECK(bad.code == 2);
  CHECK(contains(bad.err,
                 ".layerplan.yaml:1:10: error: 'rule-shadow' is not a diagnostic code of "
                 "layerplan; did you mean 'rule-shadowed'?"));
  CHECK(contains(bad.err, "unknown key 'paht'"));
}

TEST_CASE("--ignore and inline ignores drop diagnostics; unknown codes are refused") {
  std::string d = dir("ignore");
  put(d + "/w.yaml", kWarn);
  std::string base = "check --werror --config " + quote(kLlama70) + " ";
  CHECK(run_in(d, base + "w.yaml").code == 1);
  Result ignored = run_in(d, base + "w.yaml --ignore rule-matches-nothing");
  CHECK(ignored.code == 0);
  CHECK_FALSE(contains(ignored.out, "matches no layer"));
  put(d + "/inline.yaml",
      "parallelism_rules:\n  axes: {tp: 8}\n  rules:\n"
      "    - name: experts  # layerplan: ignore=rule-matches-nothing\n"
      "      match: {kind: moe}\n      plan: {tp_size: tp}\n"
      "    - name: also\n      match: {kind: moe}\n      plan: {tp_size: tp}\n");
  Result inline_ignore = run_in(d, base + "inline.yaml");
  CHECK(inline_ignore.code == 1);
  CHECK(contains(inline_ignore.out, "inline.yaml:8:14: error: rule 1 'also' matches no layer"));
  CHECK_FALSE(contains(inline_ignore.out, "rule 0 'experts'"));
  Result typo = run_in(d, base + "w.yaml --ignore tpa-invarient");
  CHECK(typo.code == 2);
  CHECK(contains(typo.err,
                 "--ignore: 'tpa-invarient' is not a diagnostic code of layerplan; did you mean "
                 "'tpa-invariant'?"));
  // Ignoring the unreadable input does not make it readable.
  Result unreadable = run_in(d, base + "nope.yaml --ignore input-unreadable");
  CHECK(unreadable.code == 2);
}

TEST_CASE("--config and --rules swapped: one error that says so") {
  Result r = layerplan::test::run({"check", "--config", "fixtures/rules/good_rfc_llama.yaml",
                                   "--rules", "fixtures/models/llama3_70b.json"});
  CHECK(r.code == 2);
  CHECK(contains(r.out, "--config names a parallelism_rules file"));
  CHECK(contains(r.out,
                 "did you mean --config fixtures/models/llama3_70b.json --rules "
                 "fixtures/rules/good_rfc_llama.yaml? [inputs-swapped]"));
  CHECK_FALSE(contains(r.out, "json-syntax"));
}

TEST_CASE("--format json: version, inputs, counts, per-file verdicts, end columns, valid values") {
  Result r = layerplan::test::run({"check", "--config", "fixtures/models/llama3_70b.json",
                                   "fixtures/rules/bad_attn_tp_divides.yaml",
                                   "fixtures/rules/good_rfc_llama.yaml", "--format", "json"});
  CHECK(r.code == 1);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["tool"] == "layerplan");
  CHECK(j["version"] == LAYERPLAN_VERSION);
  CHECK(j["valid"] == false);
  CHECK(j["inputs"] == nlohmann::json({"fixtures/rules/bad_attn_tp_divides.yaml",
                                       "fixtures/rules/good_rfc_llama.yaml"}));
  CHECK(j["counts"]["files"] == 2);
  CHECK(j["counts"]["ok"] == 1);
  CHECK(j["counts"]["invalid"] == 1);
  CHECK(j["counts"]["unreadable"] == 0);
  CHECK(j["counts"]["errors"] == 1);
  REQUIRE(j["files"].size() == 2);
  CHECK(j["files"][0]["verdict"] == "INVALID");
  CHECK(j["files"][1]["verdict"] == "OK");
  CHECK(j["files"][1]["summary"] == "LlamaForCausalLM, 162 layers, world size 16");
  const auto& d = j["files"][0]["diagnostics"][0];
  CHECK(d["code"] == "attn-tp-divides-tp");
  CHECK(d["location"]["line"] == 7);
  CHECK(d["location"]["column"] == 14);
  CHECK(d["location"]["end_column"] == 15);  // "3": one character
  CHECK(d["valid_values"] == nlohmann::json({1, 2, 4, 8}));
  CHECK(j["diagnostics"].size() == j["files"][0]["diagnostics"].size());
}

TEST_CASE("--format gcc: one line per diagnostic, line breaks in names flattened") {
  std::string d = dir("gcc");
  put(d + "/r.yaml",
      "parallelism_rules:\n  axes: {tp: 8}\n  rules:\n"
      "    - name: \"two\\nlines\"\n      match: {kind: moe}\n      plan: {tp_size: tp}\n");
  Result r = run_in(d, "check --format gcc --config " + quote(kLlama70) + " r.yaml");
  CHECK(r.code == 0);
  auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] ==
        "r.yaml:5:14: warning: rule 0 'two lines' matches no layer of LlamaForCausalLM "
        "[rule-matches-nothing]");
}

TEST_CASE("--format github: escaped annotations, a group per file, chosen under GITHUB_ACTIONS") {
  std::string d = dir("github");
  // A hostile rule name and file name: line breaks, '%', ':' and ',' and a forged command.
  std::string evil_name = "evil%\\r\\n::error file=x.yaml::pwned, a:b";
  std::string file = "a,b:c%d.yaml";
  put(d + "/" + file, "parallelism_rules:\n  axes: {tp: 8}\n  rules:\n    - name: \"" + evil_name +
                          "\"\n      match: {kind: moe}\n      plan: {tp_size: tp}\n");
  Result r =
      run_in(d, "check --config " + quote(kLlama70) + " " + quote(file), "GITHUB_ACTIONS=true");
  CHECK(r.code == 0);
  auto lines = lines_of(r.out);
  REQUIRE(lines.size() >= 5);
  CHECK(lines[0] == "::group::layerplan check a,b:c%25d.yaml: OK");
  REQUIRE(lines[1].rfind("::stop-commands::layerplan-", 0) == 0);
  std::string token = lines[1].substr(std::string("::stop-commands::").size());
  // Every line outside the stopped region is a command layerplan wrote, or the summary.
  bool stopped = false;
  int annotations = 0;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l == "::" + token + "::") {
      stopped = false;
      continue;
    }
    if (stopped) continue;
    if (l.rfind("::stop-commands::", 0) == 0) {
      stopped = true;
      continue;
    }
    if (l == "::endgroup::" || l.rfind("::group::", 0) == 0) continue;
    if (l.rfind("::warning ", 0) == 0) {
      ++annotations;
      continue;
    }
    CHECK(l == "1 file: 1 OK, 0 INVALID, 0 unreadable");
  }
  CHECK(annotations == 1);
  std::string expected =
      "::warning file=a%2Cb%3Ac%25d.yaml,line=5,col=14,endColumn=19,title=warning "
      "[rule-matches-nothing]::"
      "rule 0 'evil%25%0D%0A::error file=x.yaml::pwned, a:b' matches no layer of LlamaForCausalLM";
  bool found = false;
  for (const auto& l : lines) found |= l.rfind(expected, 0) == 0;
  INFO(r.out);
  CHECK(found);
  Result text = run_in(d, "check --format text --config " + quote(kLlama70) + " " + quote(file),
                       "GITHUB_ACTIONS=true");
  CHECK_FALSE(contains(text.out, "::group::"));
}

TEST_CASE("--format github folds annotations beyond GitHub's ten per level") {
  std::string d = dir("github_fold");
  std::string yaml = "parallelism_rules:\n  axes: {tp: 8}\n  rules:\n";
  for (int i = 0; i < 12; ++i) yaml += "    - {match: {kind: moe}, plan: {tp_size: tp}}\n";
  put(d + "/r.yaml", yaml);
  Result r = run_in(d, "check --format github --config " + quote(kLlama70) + " r.yaml");
  int warnings = 0;
  std::string last;
  for (const auto& l : lines_of(r.out)) {
    if (l.rfind("::warning ", 0) == 0) {
      ++warnings;
      last = l;
    }
  }
  CHECK(warnings == 10);
  CHECK(contains(last, "title=layerplan%3A 3 more::3 more warnings not shown as annotations"));
}

}  // namespace

namespace {

TEST_CASE("check --skip-non-rules: named YAML files without parallelism_rules are left out") {
  std::string d = dir("skip");
  put(d + "/plan.yaml", kGood);
  put(d + "/workflow.yaml", "name: ci\non: push\n");
  Result r =
      run_in(d, "check --skip-non-rules --config " + quote(kLlama70) + " plan.yaml workflow.yaml");
  CHECK(r.code == 0);
  CHECK(lines_of(r.out).back() ==
        "1 file: 1 OK, 0 INVALID, 0 unreadable (1 skipped: no parallelism_rules)");
  CHECK_FALSE(contains(r.out, "workflow.yaml"));
  Result j = run_in(d, "check --skip-non-rules --format json --config " + quote(kLlama70) +
                           " workflow.yaml missing.yaml");
  CHECK(j.code == 2);  // a file that cannot be read is never skipped
  auto json = nlohmann::json::parse(j.out);
  CHECK(json["skipped"] == nlohmann::json::array({"workflow.yaml"}));
  CHECK(json["counts"]["files"] == 1);
  CHECK(json["files"][0]["verdict"] == "unreadable");
  // Without the flag a named file is always checked.
  Result plain = run_in(d, "check --config " + quote(kLlama70) + " workflow.yaml");
  CHECK(plain.code == 1);
}

}  // namespace
