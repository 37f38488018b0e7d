// The diagnostic output formats of `layerplan check` (lib/output/formats.h), each written from
// one small BatchReport built here: two files, three diagnostics.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "catch.h"
#include "lib/output/formats.h"

namespace layerplan {
namespace {

// plans/a.yaml: an error on the "3" of line 2 (columns 14..14) and a warning on "rules:" of
// line 3 (columns 3..8) whose message holds every character GitHub wants escaped; a file
// named with "::" holding an error about the file as a whole.
BatchReport formats_sample_report() {
  auto a = make_source("plans/a.yaml", "parallelism_rules:\n  axes: {tp: 3}\n  rules: []\n");
  auto b = make_source("odd::name.yaml", "x\n");
  BatchReport report;
  report.inputs = {"plans/a.yaml", "odd::name.yaml"};
  FileReport fa;
  fa.path = "plans/a.yaml";
  fa.verdict = Verdict::kInvalid;
  fa.diagnostics.push_back(make_error("yaml-syntax", Location{a, 2, 14}, "bad value"));
  fa.diagnostics.push_back(
      make_warning("rule-shadowed", Location{a, 3, 3}, "50% of a:b,c\r\nnext"));
  FileReport fb;
  fb.path = "odd::name.yaml";
  fb.verdict = Verdict::kInvalid;
  fb.diagnostics.push_back(make_error("yaml-syntax", Location{b, 0, 0}, "empty"));
  report.files = {fa, fb};
  return report;
}

std::vector<std::string> formats_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

bool formats_has_line(const std::string& text, const std::string& line) {
  for (const auto& l : formats_lines(text)) {
    if (l == line) return true;
  }
  return false;
}

TEST_CASE("the report counts files by verdict and diagnostics by severity") {
  BatchReport report = formats_sample_report();
  CHECK(report.count(Verdict::kInvalid) == 2);
  CHECK(report.count(Verdict::kOk) == 0);
  CHECK(report.count(Severity::kError) == 2);
  CHECK(report.count(Severity::kWarning) == 1);
  CHECK(report.overall() == Verdict::kInvalid);
  CHECK(report.summary_line() == "2 files: 0 OK, 2 INVALID, 0 unreadable");
  report.werror = true;
  CHECK(report.count(Severity::kError) == 3);
  CHECK(report.count(Severity::kWarning) == 0);
}

TEST_CASE("gcc format: one line per diagnostic, file:line:col: severity: message [code]") {
  BatchReport report = formats_sample_report();
  RenderOptions options;
  std::string out = render_report_gcc(report, options);
  CHECK(formats_lines(out) ==
        std::vector<std::string>{"plans/a.yaml:2:14: error: bad value [yaml-syntax]",
                                 "plans/a.yaml:3:3: warning: 50% of a:b,c  next [rule-shadowed]",
                                 "odd::name.yaml: error: empty [yaml-syntax]"});
  options.werror = true;
  out = render_report_gcc(report, options);
  CHECK(formats_has_line(out, "plans/a.yaml:3:3: error: 50% of a:b,c  next [rule-shadowed]"));
}

TEST_CASE("github escaping: % CR LF in messages, also : and , in properties") {
  CHECK(github_escape_message("a:b,c%\r\n") == "a:b,c%25%0D%0A");
  CHECK(github_escape_property("a:b,c%\r\n") == "a%3Ab%2Cc%25%0D%0A");
  CHECK(github_escape_property("plain.yaml") == "plain.yaml");
}

TEST_CASE("github format: one annotation per diagnostic, properties escaped") {
  BatchReport report = formats_sample_report();
  std::string out = render_report_github(report, RenderOptions{});
  CHECK(formats_has_line(
      out,
      "::error file=plans/a.yaml,line=2,col=14,endColumn=14,title=error [yaml-syntax]::bad value"));
  CHECK(formats_has_line(out,
                         "::warning file=plans/a.yaml,line=3,col=3,endColumn=8,"
                         "title=warning [rule-shadowed]::50%25 of a:b,c%0D%0Anext"));
  // The "::" of the file name is escaped, so the annotation's own "::" is the first one after
  // the command and the file name stays inside the file property.
  CHECK(formats_has_line(out, "::error file=odd%3A%3Aname.yaml,title=error [yaml-syntax]::empty"));
  int errors = 0;
  int warnings = 0;
  int groups = 0;
  for (const auto& line : formats_lines(out)) {
    if (line.rfind("::error ", 0) == 0) ++errors;
    if (line.rfind("::warning ", 0) == 0) ++warnings;
    if (line.rfind("::group::", 0) == 0) ++groups;
  }
  CHECK(errors == 2);
  CHECK(warnings == 1);
  CHECK(groups == 2);
}

TEST_CASE("github format folds annotations past the limit into one") {
  auto a = make_source("a.yaml", "x\n");
  BatchReport report;
  FileReport f;
  f.path = "a.yaml";
  f.verdict = Verdict::kInvalid;
  for (int i = 0; i < kGithubAnnotationLimit + 5; ++i) {
    f.diagnostics.push_back(make_error("yaml-syntax", Location{a, 1, 1}, "e"));
  }
  report.files = {f};
  std::string out = render_report_github(report, RenderOptions{});
  int errors = 0;
  for (const auto& line : formats_lines(out)) {
    if (line.rfind("::error ", 0) == 0) ++errors;
  }
  CHECK(errors == kGithubAnnotationLimit);
  // Nine shown, the tenth says how many more: 15 - 9 = 6.
  CHECK(out.find("layerplan%3A 6 more") != std::string::npos);
}

TEST_CASE("text format: per-file verdicts and the summary line") {
  BatchReport report = formats_sample_report();
  std::string out = render_report_text(report, RenderOptions{});
  CHECK(out.find("plans/a.yaml: INVALID") != std::string::npos);
  CHECK(out.find("odd::name.yaml: INVALID") != std::string::npos);
  CHECK(out.find("bad value") != std::string::npos);
  CHECK(formats_lines(out).back() == report.summary_line());
}

TEST_CASE("json format parses back with one entry per diagnostic") {
  BatchReport report = formats_sample_report();
  auto j = nlohmann::json::parse(report_json(report, RenderOptions{}, "9.9.9").dump());
  CHECK(j["tool"] == "layerplan");
  CHECK(j["version"] == "9.9.9");
  CHECK(j["valid"] == false);
  CHECK(j["counts"]["files"] == 2);
  CHECK(j["counts"]["invalid"] == 2);
  CHECK(j["counts"]["errors"] == 2);
  CHECK(j["counts"]["warnings"] == 1);
  REQUIRE(j["diagnostics"].size() == 3);
  CHECK(j["diagnostics"][0]["code"] == "yaml-syntax");
  CHECK(j["diagnostics"][0]["location"]["line"] == 2);
  CHECK(j["diagnostics"][0]["location"]["column"] == 14);
  CHECK(j["diagnostics"][1]["severity"] == "warning");
  CHECK(j["diagnostics"][1]["message"] == "50% of a:b,c\r\nnext");
  CHECK(j["diagnostics"][2]["location"]["line"].is_null());
  REQUIRE(j["files"].size() == 2);
  CHECK(j["files"][0]["diagnostics"].size() == 2);
  CHECK(j["files"][1]["path"] == "odd::name.yaml");
  CHECK(j["files"][1]["verdict"] == "INVALID");
}

TEST_CASE("sarif format parses back with one result per diagnostic") {
  BatchReport report = formats_sample_report();
  auto j = nlohmann::json::parse(report_sarif(report, RenderOptions{}, "9.9.9").dump());
  CHECK(j["version"] == "2.1.0");
  REQUIRE(j["runs"].size() == 1);
  const auto& results = j["runs"][0]["results"];
  REQUIRE(results.size() == 3);
  CHECK(results[0]["ruleId"] == "yaml-syntax");
  CHECK(results[0]["level"] == "error");
  const auto& region = results[0]["locations"][0]["physicalLocation"]["region"];
  CHECK(region["startLine"] == 2);
  CHECK(region["startColumn"] == 14);
  CHECK(region["endColumn"] == 15);
  CHECK(results[1]["ruleId"] == "rule-shadowed");
  CHECK(results[1]["level"] == "warning");
  CHECK(results[2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] ==
        "odd%3A%3Aname.yaml");
  // Every code of the catalogue is a rule of the driver.
  CHECK(j["runs"][0]["tool"]["driver"]["rules"].size() == diagnostic_codes().size());
}

TEST_CASE("sarif_uri percent-encodes relative paths and makes absolute ones file URIs") {
  CHECK(sarif_uri("plans/a b.yaml") == "plans/a%20b.yaml");
  CHECK(sarif_uri("./plans/a.yaml") == "plans/a.yaml");
  CHECK(sarif_uri("/abs/a.yaml") == "file:///abs/a.yaml");
}

}  // namespace
}  // namespace layerplan
