// Every fixture manifest under fixtures/manifests: good_* read cleanly and match vLLM's layout;
// bad_* carry "_expect": {"exit": 2|3, "message": ...} and must produce exactly that outcome
// from the manifest alone (exit 2: a shape problem; exit 3: a membership finding).
#include <filesystem>
#include <fstream>

#include "catch.h"
#include "smoke/expected_groups.h"
#include "smoke/manifest_view.h"

namespace layerplan::smoke {
namespace {

namespace fs = std::filesystem;

TEST_CASE("fixture manifests meet their inline expectations", "[smoke]") {
  const fs::path dir = fs::path(LAYERPLAN_SOURCE_DIR) / "fixtures" / "manifests";
  int seen = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".json") continue;
    const bool good = name.rfind("good_", 0) == 0;
    const bool bad = name.rfind("bad_", 0) == 0;
    if (!good && !bad) continue;
    ++seen;
    INFO(name);
    std::ifstream file(entry.path());
    const auto j = nlohmann::ordered_json::parse(file);
    std::vector<Problem> problems;
    auto view = read_manifest(j, problems);
    std::vector<std::string> messages;
    for (const auto& p : problems) messages.push_back(render_problem(p));
    int exit_code = problems.empty() ? 0 : 2;
    if (view) {
      for (const auto& set : view->sets) {
        auto findings = check_set_sizes(*view, set);
        for (auto& f : compare_with_derivation(set, derive_vllm_groups(*view, set.name))) {
          findings.push_back(f);
        }
        for (const auto& f : findings) messages.push_back(f.message);
        if (!findings.empty()) exit_code = 3;
      }
    }
    if (good) {
      CHECK(messages.empty());
      CHECK(exit_code == 0);
      CHECK_FALSE(j.contains("_expect"));
      continue;
    }
    REQUIRE(j.contains("_expect"));
    CHECK(exit_code == j["_expect"]["exit"].get<int>());
    const auto want = j["_expect"]["message"].get<std::string>();
    bool found = false;
    for (const auto& m : messages) found = found || m.find(want) != std::string::npos;
    CAPTURE(messages);
    CHECK(found);
  }
  CHECK(seen >= 10);
}

}  // namespace
}  // namespace layerplan::smoke
