// Runs every rules fixture (fixtures/rules/good_*.yaml and bad_*.yaml) against the model its
// header names and compares the diagnostics with the expectations written in the file:
//   # model: llama3_8b.json                 model under fixtures/models/
//   # flags: allow-unverified               optional
//   # expect-error@+1: code[, code]         on the next line (also expect-warning, expect-note)
//   # expect-error: code                    anywhere (also @config for config.json)
// Errors and warnings must match exactly (nothing missing, nothing extra); expected notes must
// be present. good_* files must have no errors.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <sstream>

#include "catch.h"
#include "test_util.h"

namespace layerplan {
namespace {

struct Expectation {
  Severity severity;
  std::string code;
  int line;  // 0: any line; -1: in config.json
  bool met = false;
};

struct Fixture {
  std::string name;
  std::string model;
  CheckOptions options;
  std::vector<Expectation> expected;
};

Severity severity_of(const std::string& word) {
  if (word == "error") return Severity::kError;
  if (word == "warning") return Severity::kWarning;
  return Severity::kNote;
}

Fixture read_fixture(const std::string& name, const std::string& text) {
  Fixture f;
  f.name = name;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  static const std::regex kExpect(R"(#\s*expect-(error|warning|note)(@(\+\d+|config))?:\s*(.*))");
  while (std::getline(in, line)) {
    ++number;
    std::smatch m;
    if (line.rfind("# model:", 0) == 0) f.model = line.substr(8);
    if (line.rfind("# flags:", 0) == 0 && line.find("allow-unverified") != std::string::npos) {
      f.options.allow_unverified = true;
    }
    if (std::regex_search(line, m, kExpect)) {
      int target = 0;
      if (m[3].matched)
        target = m[3].str() == "config" ? -1 : number + std::stoi(m[3].str().substr(1));
      std::stringstream codes(m[4].str());
      std::string code;
      while (std::getline(codes, code, ',')) {
        code.erase(0, code.find_first_not_of(' '));
        code.erase(code.find_last_not_of(" \r") + 1);
        f.expected.push_back({severity_of(m[1].str()), code, target});
      }
    }
  }
  f.model.erase(0, f.model.find_first_not_of(' '));
  return f;
}

std::vector<std::string> fixture_names() {
  std::vector<std::string> names;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(LAYERPLAN_SOURCE_DIR) + "/fixtures/rules")) {
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

void run_fixture(const std::string& name) {
  std::string text = test::fixture("fixtures/rules/" + name);
  Fixture f = read_fixture(name, text);
  REQUIRE_FALSE(f.model.empty());
  CompileRequest request;
  request.config_path = "fixtures/models/" + f.model;
  request.rules_path = "fixtures/rules/" + name;
  request.rules = make_source(request.rules_path, text);
  request.config = make_source(request.config_path, test::fixture(request.config_path));
  request.checks = f.options;
  auto c = compile(request);
  std::vector<std::string> problems;
  for (const auto& d : c->diags.all()) {
    bool in_config = d.location.file && d.location.file->path == request.config_path;
    auto match = std::find_if(f.expected.begin(), f.expected.end(), [&](const Expectation& e) {
      return !e.met && e.severity == d.severity && e.code == d.code &&
             (e.line == 0 || (e.line == -1 && in_config) ||
              (!in_config && e.line == d.location.line));
    });
    if (match != f.expected.end()) {
      match->met = true;
    } else if (d.severity != Severity::kNote) {
      problems.push_back(fmt::format("unexpected {} [{}] at line {}: {}", severity_name(d.severity),
                                     d.code, d.location.line, d.message));
    }
  }
  for (const auto& e : f.expected) {
    if (!e.met) {
      problems.push_back(
          fmt::format("missing {} [{}] at line {}", severity_name(e.severity), e.code, e.line));
    }
  }
  if (name.rfind("good_", 0) == 0 && c->diags.has_errors())
    problems.push_back("a good_ fixture has errors");
  if (name.rfind("bad_", 0) == 0 && f.expected.empty())
    problems.push_back("a bad_ fixture expects nothing");
  INFO(fmt::format("{}:\n  {}", name, fmt::join(problems, "\n  ")));
  CHECK(problems.empty());
}

TEST_CASE("rules fixtures produce exactly the diagnostics they expect") {
  auto names = fixture_names();
  REQUIRE(names.size() >= 20);
  for (const auto& name : names) {
    SECTION(name) { run_fixture(name); }
  }
}

TEST_CASE("every diagnostic code has a test that triggers it") {
  // Codes named by fixture expectations, plus codes asserted by name in the C++ tests.
  std::string all;
  for (const auto& name : fixture_names()) all += test::fixture("fixtures/rules/" + name);
  for (const char* dir : {"tests/lib", "tests/cli"}) {
    std::string path = std::string(LAYERPLAN_SOURCE_DIR) + "/" + dir;
    if (!std::filesystem::exists(path)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(path)) {
      if (entry.path().extension() == ".cc" && entry.path().filename() != "fixtures_test.cc") {
        all += test::fixture(std::string(dir) + "/" + entry.path().filename().string());
      }
    }
  }
  std::vector<std::string> untested;
  for (const auto& info : diagnostic_codes()) {
    std::string code(info.code);
    bool in_fixture =
        std::regex_search(all, std::regex("expect-[a-z]+(@[^:]*)?:[^\\n]*\\b" + code + "\\b"));
    bool in_test = all.find("\"" + code + "\"") != std::string::npos ||
                   all.find("[" + code + "]") != std::string::npos;
    if (!in_fixture && !in_test) untested.push_back(code);
  }
  INFO("codes no test triggers: " << fmt::format("{}", fmt::join(untested, ", ")));
  CHECK(untested.empty());
}

}  // namespace
}  // namespace layerplan
