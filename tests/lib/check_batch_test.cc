// lib/check_batch.h in process: several rules files checked alone, each one's model named by its
// `model:` key, a binding of the project file or --config, ignores applied, one verdict per file
// and the counts. (tests/cli/check_batch_test.cc runs the same through the binary.)
#include "lib/check_batch.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "catch.h"
#include "test_util.h"

namespace layerplan {
namespace {

namespace fs = std::filesystem;

const char* kBatchGoodPlan = "parallelism_rules:\n  axes: {tp: 2}\n  rules: []\n";
const char* kBatchBadPlan = "parallelism_rules:\n  axes: {tp: 8, attn_tp: 3}\n  rules: []\n";
// A rule for MoE layers on a dense model: a warning, not an error.
const char* kBatchWarnPlan =
    "parallelism_rules:\n"
    "  axes: {tp: 2}\n"
    "  rules:\n"
    "    - name: experts\n"
    "      match: {kind: moe}\n"
    "      plan: {tp_size: 1}\n";

// A temporary directory holding llama3_8b.json as model.json; removed at the end.
struct BatchTestDir {
  fs::path root;
  BatchTestDir() {
    char name[] = "/tmp/layerplan_check_batch_test_XXXXXX";
    if (const char* made = ::mkdtemp(name)) root = made;
    write("model.json", test::fixture("fixtures/models/llama3_8b.json"));
  }
  ~BatchTestDir() {
    std::error_code ec;
    if (!root.empty()) fs::remove_all(root, ec);
  }
  std::string write(const std::string& relative, const std::string& text) const {
    fs::path p = root / relative;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
};

const FileReport* batch_file(const BatchReport& report, const std::string& path) {
  for (const auto& f : report.files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

bool batch_has_code(const FileReport& f, const std::string& code) {
  for (const auto& d : f.diagnostics) {
    if (d.code == code) return true;
  }
  return false;
}

TEST_CASE("check_batch: one bad file never stops the others; one verdict per file") {
  BatchTestDir dir;
  REQUIRE_FALSE(dir.root.empty());
  std::string good = dir.write("good.yaml", std::string("model: model.json\n") + kBatchGoodPlan);
  std::string bad = dir.write("bad.yaml", std::string("model: model.json\n") + kBatchBadPlan);
  std::string broken = dir.write("broken.yaml", "model: model.json\nparallelism_rules: [\n");
  std::string missing = (dir.root / "missing.yaml").string();
  std::string good2 = dir.write("good2.yaml", std::string("model: model.json\n") + kBatchGoodPlan);

  BatchRequest request;
  request.paths = {good, bad, broken, missing, good2};
  request.cwd = dir.root.string();
  // broken.yaml's own `model:` cannot be read out of YAML that does not parse, so it falls back
  // to --config (without one it is reported as naming no model, and counted unreadable).
  request.config = (dir.root / "model.json").string();
  BatchReport report = check_batch(request);

  REQUIRE(report.files.size() == 5);
  CHECK(report.inputs == request.paths);
  // In the order named.
  CHECK(report.files[0].path == good);
  CHECK(report.files[4].path == good2);

  const FileReport* f = batch_file(report, good);
  REQUIRE(f != nullptr);
  CHECK(f->verdict == Verdict::kOk);
  CHECK(f->model == "model.json");
  CHECK(f->model_path == (dir.root / "model.json").string());
  CHECK(f->diagnostics.empty());
  CHECK(f->summary.rfind("LlamaForCausalLM, ", 0) == 0);
  CHECK(f->summary.find("world size 2") != std::string::npos);

  f = batch_file(report, bad);
  REQUIRE(f != nullptr);
  CHECK(f->verdict == Verdict::kInvalid);
  CHECK(batch_has_code(*f, "attn-tp-divides-tp"));
  CHECK(f->summary.empty());

  f = batch_file(report, broken);
  REQUIRE(f != nullptr);
  CHECK(f->verdict == Verdict::kInvalid);
  CHECK(batch_has_code(*f, "yaml-syntax"));

  f = batch_file(report, missing);
  REQUIRE(f != nullptr);
  CHECK(f->verdict == Verdict::kUnreadable);
  CHECK(batch_has_code(*f, "input-unreadable"));

  CHECK(batch_file(report, good2)->verdict == Verdict::kOk);

  CHECK(report.count(Verdict::kOk) == 2);
  CHECK(report.count(Verdict::kInvalid) == 2);
  CHECK(report.count(Verdict::kUnreadable) == 1);
  CHECK(report.overall() == Verdict::kUnreadable);
  CHECK(report.summary_line() == "5 files: 2 OK, 2 INVALID, 1 unreadable");
}

TEST_CASE("check_batch: the model comes from `model:`, else the project file, else --config") {
  BatchTestDir dir;
  REQUIRE_FALSE(dir.root.empty());
  std::string own = dir.write("own/p.yaml", std::string("model: ../model.json\n") + kBatchGoodPlan);
  std::string bound = dir.write("bound/p.yaml", kBatchGoodPlan);
  std::string plain = dir.write("plain/p.yaml", kBatchGoodPlan);

  Diagnostics project_diags;
  auto project = parse_project_file(
      make_source((dir.root / kProjectFileName).string(), "models:\n  \"bound/*\": model.json\n"),
      project_diags);
  REQUIRE(project.has_value());

  BatchRequest request;
  request.paths = {own, bound, plain};
  request.cwd = dir.root.string();
  request.project = &*project;

  SECTION("without --config the unbound file names no model") {
    BatchReport report = check_batch(request);
    REQUIRE(report.files.size() == 3);
    CHECK(report.files[0].verdict == Verdict::kOk);
    CHECK(report.files[0].model == "../model.json");
    CHECK(report.files[1].verdict == Verdict::kOk);
    CHECK(report.files[1].model == "model.json");  // the binding's
    CHECK(report.files[2].verdict == Verdict::kUnreadable);
    CHECK(batch_has_code(report.files[2], "model-not-found"));
  }
  SECTION("--config names the model of the file that names none") {
    request.config = (dir.root / "model.json").string();
    BatchReport report = check_batch(request);
    REQUIRE(report.files.size() == 3);
    CHECK(report.files[0].model == "../model.json");  // its own key still wins
    CHECK(report.files[1].model == "model.json");     // and the binding
    CHECK(report.files[2].verdict == Verdict::kOk);
    CHECK(report.files[2].model == request.config);
    CHECK(report.summary_line() == "3 files: 3 OK, 0 INVALID, 0 unreadable");
  }
}

TEST_CASE("check_batch applies --ignore, the project's ignores and inline ignores") {
  BatchTestDir dir;
  REQUIRE_FALSE(dir.root.empty());
  std::string warn = dir.write("warn.yaml", std::string("model: model.json\n") + kBatchWarnPlan);

  BatchRequest request;
  request.paths = {warn};
  request.cwd = dir.root.string();
  BatchReport plain = check_batch(request);
  REQUIRE(plain.files.size() == 1);
  REQUIRE_FALSE(plain.files[0].diagnostics.empty());
  std::string code = plain.files[0].diagnostics[0].code;
  CHECK(plain.files[0].diagnostics[0].severity == Severity::kWarning);
  CHECK(plain.files[0].verdict == Verdict::kOk);  // a warning alone
  CHECK(plain.count(Severity::kWarning) >= 1);

  request.werror = true;
  BatchReport strict = check_batch(request);
  CHECK(strict.files[0].verdict == Verdict::kInvalid);
  CHECK(strict.count(Severity::kWarning) == 0);
  CHECK(strict.count(Severity::kError) >= 1);

  request.werror = false;
  request.ignore = {code};
  BatchReport ignored = check_batch(request);
  CHECK_FALSE(batch_has_code(ignored.files[0], code));

  request.ignore.clear();
  Diagnostics project_diags;
  auto project = parse_project_file(
      make_source((dir.root / kProjectFileName).string(), "ignore: [" + code + "]\n"),
      project_diags);
  REQUIRE(project.has_value());
  request.project = &*project;
  BatchReport by_project = check_batch(request);
  CHECK_FALSE(batch_has_code(by_project.files[0], code));

  request.project = nullptr;
  std::string inline_plan = kBatchWarnPlan;
  inline_plan.replace(inline_plan.find("- name: experts"), std::string("- name: experts").size(),
                      "- name: experts  # layerplan: ignore=" + code);
  std::string inl = dir.write("inline.yaml", "model: model.json\n" + inline_plan);
  request.paths = {inl};
  BatchReport by_comment = check_batch(request);
  REQUIRE(by_comment.files.size() == 1);
  CHECK_FALSE(batch_has_code(by_comment.files[0], code));
}

TEST_CASE("check_batch searches a named directory for rules files") {
  BatchTestDir dir;
  REQUIRE_FALSE(dir.root.empty());
  dir.write("plans/a.yaml", std::string("model: ../model.json\n") + kBatchGoodPlan);
  dir.write("plans/sub/b.yml", std::string("model: ../../model.json\n") + kBatchBadPlan);
  dir.write("plans/notes.txt", "not a rules file\n");
  BatchRequest request;
  request.paths = {(dir.root / "plans").string()};
  request.cwd = dir.root.string();
  BatchReport report = check_batch(request);
  REQUIRE(report.files.size() == 2);
  CHECK(report.count(Verdict::kOk) == 1);
  CHECK(report.count(Verdict::kInvalid) == 1);
}

TEST_CASE("check_batch reads '-' from the given stream once") {
  BatchTestDir dir;
  REQUIRE_FALSE(dir.root.empty());
  std::istringstream in(kBatchGoodPlan);
  BatchRequest request;
  request.paths = {"-", "-"};
  request.stdin_stream = &in;
  request.config = (dir.root / "model.json").string();
  BatchReport report = check_batch(request);
  REQUIRE(report.files.size() == 2);
  CHECK(report.files[0].verdict == Verdict::kOk);
  CHECK(report.files[1].verdict == Verdict::kUnreadable);
}

}  // namespace
}  // namespace layerplan
