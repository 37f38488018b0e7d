// The published JSON Schemas agree with what layerplan writes and reads: every golden manifest
// validates against schemas/manifest.schema.json, and every good rules fixture against
// schemas/rules.schema.json. Needs valijson (Debian: libvalijson-dev); without it the test
// reports itself skipped.
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "catch.h"
#include "lib/yaml_source.h"
#include "schema_validate.h"
#include "test_util.h"

namespace layerplan {
namespace {

#ifdef LAYERPLAN_HAVE_VALIJSON

nlohmann::json yaml_to_json(const YAML::Node& node) {
  if (node.IsMap()) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& kv : node) j[kv.first.Scalar()] = yaml_to_json(kv.second);
    return j;
  }
  if (node.IsSequence()) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& item : node) j.push_back(yaml_to_json(item));
    return j;
  }
  if (node.IsNull()) return nullptr;
  const std::string& s = node.Scalar();
  if (auto v = parse_integer(s)) return *v;
  if (s == "true") return true;
  if (s == "false") return false;
  return s;
}

std::vector<std::string> validate(const std::string& schema_path, const nlohmann::json& doc) {
  return test::schema_errors(test::fixture(schema_path), doc);
}

TEST_CASE("golden manifests validate against the manifest schema") {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(LAYERPLAN_SOURCE_DIR) +
                                                           "/fixtures/golden")) {
    if (e.path().extension() != ".json") continue;
    auto doc =
        nlohmann::json::parse(test::fixture("fixtures/golden/" + e.path().filename().string()));
    auto errors = validate("schemas/manifest.schema.json", doc);
    INFO(e.path().filename().string() << ": " << (errors.empty() ? "" : errors.front()));
    CHECK(errors.empty());
    ++n;
  }
  CHECK(n >= 5);
}

TEST_CASE("the manifest schema rejects a broken manifest") {
  auto doc = nlohmann::json::parse(test::fixture("fixtures/golden/llama8b_tpa.json"));
  doc["layers"][1]["kind"] = "attn";
  doc["groups"]["tp"] = nlohmann::json::array();
  CHECK(validate("schemas/manifest.schema.json", doc).size() >= 2);
}

TEST_CASE("good rules fixtures validate against the rules schema; a typo does not") {
  int n = 0;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(LAYERPLAN_SOURCE_DIR) + "/fixtures/rules")) {
    std::string name = e.path().filename().string();
    if (name.rfind("good_", 0) != 0) continue;
    auto doc = yaml_to_json(YAML::Load(test::fixture("fixtures/rules/" + name)));
    auto errors = validate("schemas/rules.schema.json", doc);
    INFO(name << ": " << (errors.empty() ? "" : errors.front()));
    CHECK(errors.empty());
    ++n;
  }
  CHECK(n >= 5);
  auto bad = yaml_to_json(YAML::Load(test::fixture("fixtures/rules/bad_unknown_keys_nested.yaml")));
  CHECK_FALSE(validate("schemas/rules.schema.json", bad).empty());
}

#else

TEST_CASE("schema validation (skipped: valijson headers not found)") {
  // ctest reports the test as skipped on this line (SKIP_REGULAR_EXPRESSION in CMakeLists.txt).
  std::cout << "SKIPPED: valijson is not installed (Debian: libvalijson-dev); the schemas were "
               "not validated\n";
  WARN("SKIPPED: valijson is not installed (Debian: libvalijson-dev); schemas were not validated");
}

#endif

}  // namespace
}  // namespace layerplan
