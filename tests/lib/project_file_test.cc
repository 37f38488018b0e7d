// lib/project_file.h: `.layerplan.yaml`, its bindings of rules paths to models, its ignores, and
// where it is found.
#include "lib/project_file.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "catch.h"

namespace layerplan {
namespace {

namespace fs = std::filesystem;

bool project_has_code(const Diagnostics& diags, const std::string& code) {
  for (const auto& d : diags.all()) {
    if (d.code == code) return true;
  }
  return false;
}

TEST_CASE("parse_project_file reads paths, models and ignores; the directory is the file's") {
  auto file = make_source("/proj/.layerplan.yaml",
                          "paths: [deploy/plans]\n"
                          "models:\n"
                          "  \"deploy/plans/dsv3/*\": deepseek-ai/DeepSeek-V3\n"
                          "  \"deploy/plans/*\": models/llama3_70b.json\n"
                          "ignore: [rule-shadowed]\n");
  Diagnostics diags;
  auto project = parse_project_file(file, diags);
  REQUIRE(project.has_value());
  CHECK(diags.all().empty());
  CHECK(project->dir == "/proj");
  CHECK(project->paths == std::vector<std::string>{"deploy/plans"});
  CHECK(project->ignore == std::vector<std::string>{"rule-shadowed"});
  REQUIRE(project->models.size() == 2);
  CHECK(project->models[0].location.line == 3);

  // The first matching glob wins.
  const ModelBinding* b = project->model_for("deploy/plans/dsv3/a.yaml");
  REQUIRE(b != nullptr);
  CHECK(b->model == "deepseek-ai/DeepSeek-V3");
  b = project->model_for("deploy/plans/a.yaml");
  REQUIRE(b != nullptr);
  CHECK(b->model == "models/llama3_70b.json");
  CHECK(project->model_for("other/a.yaml") == nullptr);
}

TEST_CASE("an empty project file is valid and binds nothing") {
  Diagnostics diags;
  auto project = parse_project_file(make_source("/p/.layerplan.yaml", ""), diags);
  REQUIRE(project.has_value());
  CHECK(project->models.empty());
  CHECK(project->model_for("a.yaml") == nullptr);
}

TEST_CASE("parse_project_file reports every problem and returns nothing") {
  {
    Diagnostics diags;
    auto p =
        parse_project_file(make_source("/p/.layerplan.yaml", "ignore: [no-such-code]\n"), diags);
    CHECK_FALSE(p.has_value());
    CHECK(project_has_code(diags, "invalid-value"));
  }
  {
    Diagnostics diags;
    auto p = parse_project_file(make_source("/p/.layerplan.yaml", "models:\n  \"a/[b\": m.json\n"),
                                diags);
    CHECK_FALSE(p.has_value());
    CHECK(project_has_code(diags, "bad-pattern"));
  }
  {
    Diagnostics diags;
    auto p = parse_project_file(make_source("/p/.layerplan.yaml", "models: [a, b]\n"), diags);
    CHECK_FALSE(p.has_value());
    CHECK(project_has_code(diags, "wrong-type"));
  }
  {
    Diagnostics diags;
    auto p = parse_project_file(make_source("/p/.layerplan.yaml", "- a\n- b\n"), diags);
    CHECK_FALSE(p.has_value());
    CHECK(project_has_code(diags, "wrong-type"));
  }
  {
    Diagnostics diags;
    auto p = parse_project_file(make_source("/p/.layerplan.yaml", "pathz: [a]\n"), diags);
    CHECK_FALSE(p.has_value());
    CHECK_FALSE(diags.all().empty());
  }
}

TEST_CASE("find_project_file looks in the directory and then upward") {
  char name[] = "/tmp/layerplan_project_test_XXXXXX";
  const char* made = ::mkdtemp(name);
  REQUIRE(made != nullptr);
  fs::path root(made);
  fs::create_directories(root / "a" / "b");
  // None under root yet (one above /tmp, if any, is not ours).
  CHECK(find_project_file((root / "a" / "b").string()).rfind(root.string(), 0) != 0);
  std::ofstream(root / "a" / kProjectFileName) << "ignore: []\n";
  CHECK(find_project_file((root / "a" / "b").string()) == (root / "a" / kProjectFileName).string());
  CHECK(find_project_file((root / "a").string()) == (root / "a" / kProjectFileName).string());

  Diagnostics diags;
  auto loaded = load_project_file((root / "a" / kProjectFileName).string(), diags);
  REQUIRE(loaded.has_value());
  CHECK(loaded->dir == (root / "a").string());

  auto missing = load_project_file((root / "none.yaml").string(), diags);
  CHECK_FALSE(missing.has_value());
  CHECK(project_has_code(diags, "input-unreadable"));
  std::error_code ec;
  fs::remove_all(root, ec);
}

}  // namespace
}  // namespace layerplan
