// check --format sarif: the output validates against a subset of SARIF 2.1.0 written for this
// test (tests/cli/sarif_subset.schema.json), and its fields carry the diagnostics: rules from the
// catalogue, levels, regions with end columns, notes as related locations, layers in properties.
// Needs valijson (Debian: libvalijson-dev); without it the test reports itself skipped.
#include <iostream>
#include <nlohmann/json.hpp>

#include "catch.h"
#include "lib/diagnostics.h"
#include "run_binary.h"
#include "schema_validate.h"

namespace {

using layerplan::test::Result;

#ifdef LAYERPLAN_HAVE_VALIJSON

std::vector<std::string> validate(const nlohmann::json& doc) {
  return layerplan::test::schema_errors(
      layerplan::test::slurp(std::string(LAYERPLAN_SOURCE_DIR) +
                             "/tests/cli/sarif_subset.schema.json"),
      doc);
}

TEST_CASE("check --format sarif is SARIF 2.1.0 that carries every diagnostic") {
  std::string odd = layerplan::test::in_scratch("odd name, 100%.yaml");
  layerplan::test::spit(odd,
                        "parallelism_rules:\n  axes: {tp: 8, attn_tp: 3}\n  rules:\n"
                        "    - {name: \"caf\xc3\xa9\", match: {kind: moe}, plan: {tp_size: tp}}\n");
  Result r = layerplan::test::run({"check", "--format", "sarif", "--config",
                                   "fixtures/models/llama3_70b.json", "fixtures/rules/bad_ep.yaml",
                                   odd, "fixtures/rules/good_notes.yaml"});
  CHECK(r.code == 1);
  auto sarif = nlohmann::json::parse(r.out);
  auto errors = validate(sarif);
  INFO(r.out.substr(0, 2000));
  for (const auto& e : errors) INFO(e);
  CHECK(errors.empty());

  const auto& run = sarif["runs"][0];
  const auto& rules = run["tool"]["driver"]["rules"];
  REQUIRE(rules.size() == layerplan::diagnostic_codes().size());
  for (std::size_t i = 0; i < rules.size(); ++i) {
    CHECK(rules[i]["id"] == std::string(layerplan::diagnostic_codes()[i].code));
  }
  const auto& results = run["results"];
  // bad_ep: 1 error, 2 warnings; the odd file: 1 error, 1 warning; good_notes: 2 notes.
  REQUIRE(results.size() == 7);
  const auto& first = results[0];
  CHECK(first["ruleId"] == "ep-on-non-moe");
  CHECK(rules[first["ruleIndex"].get<std::size_t>()]["id"] == "ep-on-non-moe");
  CHECK(first["level"] == "error");
  const auto& region = first["locations"][0]["physicalLocation"]["region"];
  CHECK(first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] ==
        "fixtures/rules/bad_ep.yaml");
  CHECK(region["startLine"] == 10);
  CHECK(region["startColumn"] == 36);
  CHECK(region["endColumn"] == 37);
  CHECK(first["relatedLocations"][0]["message"]["text"] == "chosen by rule 0");
  CHECK(first["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 10);
  CHECK(first["properties"]["layers"].size() == 80);
  CHECK(results[1]["level"] == "warning");
  // The odd file: its name percent-encoded as an absolute file URI; the axis error with its
  // valid values; columns counted in characters on the line with "café".
  bool odd_seen = false;
  for (const auto& res : results) {
    std::string uri = res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
    if (uri.find("odd%20name%2C%20100%25.yaml") == std::string::npos) continue;
    odd_seen = true;
    CHECK(uri.rfind("file:///", 0) == 0);
    if (res["ruleId"] == "attn-tp-divides-tp") {
      CHECK(res["properties"]["valid_values"] == nlohmann::json({1, 2, 4, 8}));
    }
    if (res["ruleId"] == "rule-matches-nothing") {
      CHECK(res["message"]["text"].get<std::string>().find("caf\xc3\xa9") != std::string::npos);
      CHECK(res["locations"][0]["physicalLocation"]["region"]["startColumn"] ==
            29);  // byte 30: "é" is two bytes
    }
  }
  CHECK(odd_seen);
  CHECK(results[6]["level"] == "note");
}

#else

TEST_CASE("check --format sarif is SARIF 2.1.0 (skipped: no valijson)") {
  std::cout << "SKIPPED: valijson not found (Debian: libvalijson-dev); the SARIF output was not "
               "validated\n";
}

#endif

}  // namespace
